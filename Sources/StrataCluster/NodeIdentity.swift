import Foundation
import StrataIO

/// Who a node is: its stable numeric peer id (Qdrant's `peer_id`) and its
/// name, kept in the data directory as `.cluster-node.json`
/// (docs/format/data-directory.md) so that a restarted node is the same peer.
///
/// The file is written only after the node has joined the cluster for the
/// first time, so a start that fails (name taken, wrong secret, etcd down)
/// leaves the directory as it was. Its name starts with a dot: snapshots do
/// not carry it, and a directory restored from another node's snapshot is not
/// a clone of that node.
public struct NodeIdentity: Sendable, Equatable, Codable {
    public static let fileName = ".cluster-node.json"
    static let format = "strata-cluster-node"

    public var peerID: UInt64
    public var nodeName: String

    enum CodingKeys: String, CodingKey {
        case format, version
        case peerID = "peer_id"
        case nodeName = "node_name"
    }

    public init(peerID: UInt64, nodeName: String) {
        self.peerID = peerID
        self.nodeName = nodeName
    }

    /// A new identity: a random peer id below 2^53, so that it survives JSON
    /// readers that hold numbers as doubles (JavaScript), never 0.
    public static func new(nodeName: String) -> NodeIdentity {
        NodeIdentity(peerID: UInt64.random(in: 1..<(1 << 53)), nodeName: nodeName)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard try container.decode(String.self, forKey: .format) == Self.format else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: container, debugDescription: "format is not \(Self.format)")
        }
        let version = try container.decode(Int.self, forKey: .version)
        guard version == 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container,
                debugDescription: "version \(version) is newer than this build of Strata reads (1)")
        }
        peerID = try container.decode(UInt64.self, forKey: .peerID)
        nodeName = try container.decode(String.self, forKey: .nodeName)
        guard peerID != 0 else {
            throw DecodingError.dataCorruptedError(forKey: .peerID, in: container, debugDescription: "peer id 0")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.format, forKey: .format)
        try container.encode(1, forKey: .version)
        try container.encode(peerID, forKey: .peerID)
        try container.encode(nodeName, forKey: .nodeName)
    }

    /// The file's bytes: one line of compact JSON, keys sorted, final newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// The identity stored in `directory`, or nil when there is none.
    public static func load(
        from directory: String, fileSystem: any FileSystem = POSIXFileSystem()
    ) throws
        -> NodeIdentity?
    {
        let path = joinPath(directory, fileName)
        guard fileSystem.fileKind(path) != nil else { return nil }
        let bytes = try fileSystem.open(path, mode: .readOnly).readAll()
        do {
            return try JSONDecoder().decode(NodeIdentity.self, from: Data(bytes))
        } catch {
            throw ClusterError.corruptIdentity(path: path, detail: "\(error)")
        }
    }

    /// Writes the identity into `directory` atomically and durably.
    public func store(in directory: String, fileSystem: any FileSystem = POSIXFileSystem()) throws {
        try fileSystem.writeAtomically(joinPath(directory, Self.fileName), try encoded())
    }
}
