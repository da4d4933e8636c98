import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StrataDashboard

/// The web dashboard (docs/dashboard.md): `GET /dashboard` is its page and
/// `GET /dashboard/<file>` its scripts, styles and icon (also `/favicon.ico`), compiled into the binary
/// (StrataDashboard). They need no credentials: the page holds no data, and
/// every call it makes is a normal REST call with the key the user types.
///
/// `STRATA_DASHBOARD_DIR` (for working on the dashboard) serves the files from
/// that directory instead, read on every request.
extension StrataHTTPServer {
    func addDashboardRoutes(to router: Router<StrataRequestContext>) {
        let directory = ProcessInfo.processInfo.environment["STRATA_DASHBOARD_DIR"]
        router.get("/dashboard") { request, _ in Self.dashboardFile("index.html", request, directory) }
        // Browsers ask every site for /favicon.ico, also on pages that are not the dashboard's.
        router.get("/favicon.ico") { request, _ in Self.dashboardFile("favicon.svg", request, directory) }
        router.get("/dashboard/{file}") { request, context in
            Self.dashboardFile(context.parameters.get("file") ?? "", request, directory)
        }
    }

    /// Whether `path` is one of the dashboard's files (no credentials needed).
    static func isDashboardPath(_ path: String) -> Bool {
        path == "/dashboard" || path.hasPrefix("/dashboard/") || path == "/favicon.ico"
    }

    /// The page refuses scripts, styles and connections from anywhere but the
    /// server itself, so nothing it shows can load code (payloads are data).
    static let dashboardSecurityHeaders: [(HTTPField.Name, String)] = [
        (
            .contentSecurityPolicy,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        ),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
    ]

    static func dashboardFile(_ name: String, _ request: Request, _ directory: String?) -> Response {
        let file: DashboardFiles.File?
        if let directory, !name.contains("/"), !name.hasPrefix("."),
            let data = FileManager.default.contents(atPath: directory + "/" + name)
        {
            file = DashboardFiles.File(name: name, bytes: Array(data))
        } else {
            file = DashboardFiles.files[name]
        }
        guard let file else {
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "no dashboard file \(name)")))
        }
        var headers: HTTPFields = [.contentType: file.contentType, .eTag: file.etag, .cacheControl: "no-cache"]
        for (field, value) in dashboardSecurityHeaders { headers[field] = value }
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
