import Foundation
import Hummingbird
import Strata

/// Endpoints whose engine features are not built yet. They exist so that a
/// client gets a clear 501 naming the missing feature (and the issue that
/// brings it) instead of a bare 404, after the same permission check the
/// real endpoint will have.
extension StrataHTTPServer {
    func addUnsupportedRoutes(to router: Router<StrataRequestContext>) {
        typealias Entry = (HTTPRequest.Method, RouterPath, CollectionAccessMode?, String, Int?)
        let collectionRoutes: [Entry] = [
            (.post, "/collections/{collection_name}/points/search/matrix/pairs", .read, "distance matrices", nil),
            (.post, "/collections/{collection_name}/points/search/matrix/offsets", .read, "distance matrices", nil),
        ]
        for (method, path, mode, feature, issue) in collectionRoutes {
            router.on(path, method: method) { _, context -> Response in
                if let mode {
                    _ = try self.collection(context, mode)
                } else {
                    try context.access.check(.manage)
                }
                throw APIError.notSupportedYet(feature, issue: issue)
            }
        }
    }
}
