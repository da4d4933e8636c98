import Foundation
import Hummingbird
import StrataIO

/// Qdrant's node-wide quota (`GET`/`PUT /quotas`): limits on the resident
/// memory and the disk usage of this node, enforced while `enabled` on every
/// update that consumes memory or disk. Single node: the config is this
/// node's, persisted in `<data-dir>/.quota.json` (written atomically: a temp
/// file, fsync, rename, fsync of the directory), so it survives restarts; the
/// leading dot keeps it out of full-storage snapshots, as Qdrant keeps its
/// quota out of its storage snapshots.
///
/// A limit trips when its reading reaches it, and a tripped limit holds until
/// the reading falls `release_margin_percent` (default 5) below it (never
/// below 1%), so a node resting on its limit does not flip in and out of
/// service on every reading (Qdrant's release margin). A new config forgets
/// what tripped. An unreadable measurement lets writes through.
final class NodeQuota: Sendable {
    static let fileName = ".quota.json"
    static let defaultReleaseMarginPercent: UInt8 = 5

    /// Qdrant's `QuotaConfig`: unset limits cap nothing; `enabled` false enforces none.
    struct Config: Codable, Sendable, Equatable {
        var enabled: Bool
        var max_resident_memory_percent: UInt8?
        var max_disk_usage_percent: UInt8?
        var release_margin_percent: UInt8?

        init(
            enabled: Bool = false, max_resident_memory_percent: UInt8? = nil, max_disk_usage_percent: UInt8? = nil,
            release_margin_percent: UInt8? = nil
        ) {
            self.enabled = enabled
            self.max_resident_memory_percent = max_resident_memory_percent
            self.max_disk_usage_percent = max_disk_usage_percent
            self.release_margin_percent = release_margin_percent
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            // Qdrant's fields are u8: a number outside 0…255 is not a value of the field at all (400).
            func percent(_ key: CodingKeys) throws -> UInt8? {
                guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
                guard let percent = UInt8(exactly: value) else {
                    throw APIError.jsonDeserialize("\(key.stringValue): invalid value: integer `\(value)`, expected u8")
                }
                return percent
            }
            max_resident_memory_percent = try percent(.max_resident_memory_percent)
            max_disk_usage_percent = try percent(.max_disk_usage_percent)
            release_margin_percent = try percent(.release_margin_percent)
        }

        /// Qdrant's range checks (422, every field at fault named).
        func validate() throws(APIError) {
            var problems: [String] = []
            for (name, value) in [
                ("max_resident_memory_percent", max_resident_memory_percent),
                ("max_disk_usage_percent", max_disk_usage_percent),
            ] {
                if let value, !(1...100).contains(value) {
                    problems.append("\(name): value \(value) invalid, must be from 1 to 100")
                }
            }
            if let margin = release_margin_percent, margin > 100 {
                problems.append("release_margin_percent: value \(margin) invalid, must be 100 or smaller")
            }
            if !problems.isEmpty { throw APIError.validation(problems.joined(separator: "; ")) }
        }

        func limit(_ resource: NodeResource) -> UInt8? {
            guard enabled else { return nil }
            switch resource {
            case .residentMemory: return max_resident_memory_percent
            case .diskUsage: return max_disk_usage_percent
            }
        }
    }

    /// Qdrant's `QuotaUsage` (null for a statistic that cannot be read).
    struct Usage: Encodable, Sendable, Equatable {
        var resident_memory_percent: Int?
        var disk_usage_percent: Int?

        enum CodingKeys: String, CodingKey {
            case resident_memory_percent, disk_usage_percent
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(resident_memory_percent, forKey: .resident_memory_percent)
            try container.encode(disk_usage_percent, forKey: .disk_usage_percent)
        }
    }

    /// Qdrant's `QuotaStatus` (no `peers`: they are left out outside distributed mode).
    struct Status: Encodable, Sendable {
        var config: Config
        var usage: Usage
    }

    struct State {
        var config: Config
        /// The limits that tripped and have not yet fallen below their release threshold.
        var tripped: Set<NodeResource> = []
    }

    let directory: String
    let state: Locked<State>

    /// Reads `<directory>/.quota.json` (no file: nothing enforced). A file
    /// that cannot be read or holds an invalid config is an error: a quota
    /// that cannot be honoured must not silently become no quota.
    init(directory: String) throws {
        self.directory = directory
        let path = directory + "/" + Self.fileName
        var config = Config()
        if FileManager.default.fileExists(atPath: path) {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                config = try JSONDecoder().decode(Config.self, from: data)
                try config.validate()
            } catch {
                throw QuotaFileError(description: "invalid quota config \(path): \(error)")
            }
        }
        state = Locked(State(config: config))
    }

    struct QuotaFileError: Error, CustomStringConvertible {
        var description: String
    }

    var config: Config { state.withLock { $0.config } }

    /// The config and this node's usage, measured now.
    func status() -> Status {
        Status(
            config: config,
            usage: Usage(
                resident_memory_percent: NodeResource.measure(.residentMemory, directory: directory),
                disk_usage_percent: NodeResource.measure(.diskUsage, directory: directory)))
    }

    /// The file's contents without the final newline: compact JSON, keys sorted,
    /// unset limits left out (docs/format/data-directory.md, `.quota.json`).
    static func encoded(_ config: Config) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(config)
    }

    /// Validates `config`, persists it, then enforces it.
    func replace(with config: Config) throws {
        try config.validate()
        var data = try Self.encoded(config)
        data.append(0x0A)
        // Persisted under the lock, so two replacements land in the order they take effect.
        try state.withLock { state in
            try POSIXFileSystem().writeAtomically(directory + "/" + Self.fileName, Array(data))
            state = State(config: config)
        }
    }

    /// Refuses an update that consumes memory or disk while a limit is
    /// reached: 507 `Insufficient storage: …` with Qdrant's text. Both
    /// resources are judged (memory first), so each carries its verdict.
    func check() throws(APIError) {
        let directory = directory
        try check { NodeResource.measure($0, directory: directory) }
    }

    /// `check()` with the readings `measure` gives (tests inject them).
    func check(measure: (NodeResource) -> Int?) throws(APIError) {
        let refusal = state.withLock { state -> APIError? in
            var refusal: APIError?
            let margin = Int(state.config.release_margin_percent ?? Self.defaultReleaseMarginPercent)
            for resource in NodeResource.allCases {
                guard let limit = state.config.limit(resource).map(Int.init) else {
                    state.tripped.remove(resource)
                    continue
                }
                let threshold = state.tripped.contains(resource) ? max(limit - margin, 1) : limit
                guard let used = measure(resource) else {
                    state.tripped.remove(resource)
                    continue
                }
                guard used >= threshold else {
                    state.tripped.remove(resource)
                    continue
                }
                state.tripped.insert(resource)
                if refusal == nil {
                    refusal = APIError(
                        HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
                        "Insufficient storage: \(resource.condition(used: used, limit: limit, threshold: threshold)). Help: \(resource.remedy), or raise `\(resource.parameter)` in the global quota config."
                    )
                }
            }
            return refusal
        }
        if let refusal { throw refusal }
    }
}
