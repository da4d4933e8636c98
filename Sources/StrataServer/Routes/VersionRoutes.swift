import Foundation
import Hummingbird
import Strata

/// Versions and time travel (Strata's extension, issue 20,
/// docs/versions.md): tag, list, untag, restore. Reads at a version take
/// `as_of` in their body (`versioned`).
extension StrataHTTPServer {
    func addVersionRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/versions") { request, context in
            try self.refuseVersionsInCluster()
            let collection = try self.collection(context, .write)
            let input = try await self.decode(VersionTagInput.self, from: request, context)
            return try await self.answer(context) { () throws -> VersionOutput in
                do { return VersionOutput(try collection.tagVersion(input.name)) } catch let error as StrataError {
                    throw APIError.from(error)
                }
            }
        }

        router.get("/collections/{collection_name}/versions") { _, context in
            try self.refuseVersionsInCluster()
            let collection = try self.collection(context, .read)
            return try Reply.ok(VersionsOutput(versions: collection.versions.map(VersionOutput.init)), context: context)
        }

        router.delete("/collections/{collection_name}/versions/{version}") { _, context in
            try self.refuseVersionsInCluster()
            let collection = try self.collection(context, .write)
            let tag = context.parameters.get("version") ?? ""
            return try await self.answer(context) { () throws -> Bool in
                do { try collection.deleteTag(tag) } catch let error as StrataError { throw APIError.from(error) }
                return true
            }
        }

        router.post("/collections/{collection_name}/versions/{version}/restore") { _, context in
            try self.refuseVersionsInCluster()
            let collection = try self.collection(context, .write)
            let selector = try Self.versionSelector(.string(context.parameters.get("version") ?? ""))
            return try Reply.ok(
                try await self.write { try await collection.restore(selector) }, context: context)
        }
    }

    private func refuseVersionsInCluster() throws {
        if cluster != nil {
            throw APIError.notSupportedYet("collection versions on a cluster node (op numbers are per shard there)")
        }
    }
}

struct VersionTagInput: Decodable, Sendable {
    var name: String
}

/// One retained version: `number`, `op_num` (the state is the one after it),
/// `time` (RFC 3339), `name` (its tag, if any).
struct VersionOutput: Encodable, Sendable {
    var number: UInt64
    var op_num: UInt64
    var time: String
    var name: String?

    init(_ info: CollectionVersionInfo) {
        number = info.number
        op_num = info.operation
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        time = formatter.string(from: info.time)
        name = info.tag
    }
}

struct VersionsOutput: Encodable, Sendable { var versions: [VersionOutput] }

/// `versions_config` (Strata's extension): which versions are kept.
struct VersionsConfigInput: Codable, Sendable, Equatable {
    var retain_count: Int?
    var retain_seconds: Int?

    init(_ config: VersionsConfig) {
        retain_count = config.retainCount
        retain_seconds = config.retainSeconds
    }

    func engine() throws(APIError) -> VersionsConfig {
        let config = VersionsConfig(retainCount: retain_count, retainSeconds: retain_seconds)
        do { try config.validate() } catch { throw APIError.from(error) }
        return config
    }

    /// PATCH's `versions_config`: an object replaces it, `"Disabled"` removes it, null leaves it.
    static func patch(_ value: JSONValue, current: VersionsConfig?) throws(APIError) -> VersionsConfig? {
        switch value {
        case .null: return current
        case .string(let word) where word.lowercased() == "disabled": return nil
        default:
            let input: VersionsConfigInput
            do {
                input = try JSONDecoder().decode(VersionsConfigInput.self, from: try JSONEncoder().encode(value))
            } catch {
                throw APIError.jsonDeserialize("versions_config: \(error)")
            }
            return try input.engine()
        }
    }
}
