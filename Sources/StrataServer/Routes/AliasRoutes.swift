import Foundation
import Hummingbird
import Strata

/// Aliases: change (create, delete, rename in one atomic batch) and list.
extension StrataHTTPServer {
    func addAliasRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/aliases") { request, context in
            try self.refuseInCluster("changing aliases")
            try context.access.check(.manage)
            let input = try await self.decode(ChangeAliasesInput.self, from: request, context)
            return try await self.answer(context, try self.updateAliases(input.actions, context.access))
        }

        router.get("/aliases") { _, context in
            try Reply.ok(self.listAliases(context.access), context: context)
        }

        router.get("/collections/{collection_name}/aliases") { _, context in
            try Reply.ok(self.listAliases(of: try self.collection(context, .read), context.access), context: context)
        }
    }
}
