import Foundation
import Hummingbird
import Strata

/// Aliases: change (create, delete, rename in one atomic batch) and list.
extension StrataHTTPServer {
    func addAliasRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/aliases") { request, context in
            try context.access.check(.manage)
            let input = try await self.decode(ChangeAliasesInput.self, from: request, context)
            let operations = try input.actions.map { action throws(APIError) in try action.engineOperation() }
            return try await self.answer(context) {
                try self.database.updateAliases(operations)
                return true
            }
        }

        router.get("/aliases") { _, context in
            let visible = self.database.aliases().filter { context.access.canRead(collection: $0.collection) }
            return try Reply.ok(
                AliasesOutput(
                    aliases: visible.map {
                        AliasDescriptionOutput(alias_name: $0.alias, collection_name: $0.collection)
                    }), context: context)
        }

        router.get("/collections/{collection_name}/aliases") { _, context in
            let collection = try self.collection(context, .read)
            let aliases = self.database.aliases().filter { $0.collection == collection.name }
            return try Reply.ok(
                AliasesOutput(
                    aliases: aliases.map {
                        AliasDescriptionOutput(alias_name: $0.alias, collection_name: $0.collection)
                    }), context: context)
        }
    }
}
