import Foundation

// The JSON shapes of etcd's v3 gRPC gateway (etcd 3.4: `POST /v3/...`), as
// protobuf's JSON mapping writes them: bytes are base64, 64-bit integers are
// strings, and fields with their default value (0, false, empty) are left out,
// so every field here is optional. See docs/format/etcd-keyspace.md.

struct WireHeader: Codable {
    var cluster_id: String?
    var member_id: String?
    var revision: String?
    var raft_term: String?
}

struct WireKeyValue: Codable {
    var key: String?
    var value: String?
    var create_revision: String?
    var mod_revision: String?
    var version: String?
    var lease: String?
}

struct WireRangeRequest: Codable {
    var key: String
    var range_end: String?
}

struct WirePutRequest: Codable {
    var key: String
    var value: String
    var lease: String?
}

struct WireDeleteRangeRequest: Codable {
    var key: String
    var range_end: String?
}

struct WireRangeResponse: Codable {
    var header: WireHeader?
    var kvs: [WireKeyValue]?
    var count: String?
}

struct WirePutResponse: Codable { var header: WireHeader? }

struct WireDeleteRangeResponse: Codable {
    var header: WireHeader?
    var deleted: String?
}

struct WireCompare: Codable {
    var key: String
    var target: String
    var result: String
    var version: String?
    var create_revision: String?
    var mod_revision: String?
    var value: String?
    var lease: String?
}

struct WireRequestOp: Codable {
    var request_range: WireRangeRequest?
    var request_put: WirePutRequest?
    var request_delete_range: WireDeleteRangeRequest?
}

struct WireTxnRequest: Codable {
    var compare: [WireCompare]
    var success: [WireRequestOp]
    var failure: [WireRequestOp]
}

struct WireResponseOp: Codable {
    var response_range: WireRangeResponse?
    var response_put: WirePutResponse?
    var response_delete_range: WireDeleteRangeResponse?
}

struct WireTxnResponse: Codable {
    var header: WireHeader?
    var succeeded: Bool?
    var responses: [WireResponseOp]?
}

struct WireLeaseGrantRequest: Codable { var TTL: String }
struct WireLeaseGrantResponse: Codable {
    var header: WireHeader?
    var ID: String?
    var TTL: String?
    var error: String?
}
struct WireLeaseID: Codable { var ID: String }
struct WireLeaseKeepAliveReply: Codable {
    struct Result: Codable {
        var ID: String?
        var TTL: String?
    }
    var result: Result?
}

struct WireStatusResponse: Codable {
    var header: WireHeader?
    var version: String?
    var leader: String?
    var raftIndex: String?
    var raftTerm: String?
}

struct WireWatchCreate: Codable {
    struct Create: Codable {
        var key: String
        var range_end: String?
        var start_revision: String?
    }
    var create_request: Create
}

struct WireWatchReply: Codable {
    struct Event: Codable {
        var type: String?
        var kv: WireKeyValue?
    }
    struct Result: Codable {
        var header: WireHeader?
        var created: Bool?
        var canceled: Bool?
        var cancel_reason: String?
        var compact_revision: String?
        var events: [Event]?
    }
    var result: Result?
    var error: WireError?
}

struct WireError: Codable {
    var error: String?
    var message: String?
    var code: Int?
    var grpc_code: Int?
    var http_code: Int?
    var http_status: String?
}

enum Wire {
    static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func encode(_ bytes: Data) -> String { bytes.base64EncodedString() }

    /// etcd's range end for "every key with this prefix": the prefix with its
    /// last byte that is not 0xff incremented (and what follows dropped); an
    /// all-0xff or empty prefix means "to the end of the key space" (a 0 byte).
    static func rangeEnd(ofPrefix prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes).base64EncodedString()
            }
            bytes.removeLast()
        }
        return Data([0]).base64EncodedString()
    }

    static func keys(_ keys: EtcdKeys) -> (key: String, rangeEnd: String?) {
        switch keys {
        case .key(let key): (encode(key), nil)
        case .prefix(let prefix): (encode(prefix.isEmpty ? "\0" : prefix), rangeEnd(ofPrefix: prefix))
        }
    }

    static func int64(_ text: String?) -> Int64 { text.flatMap { Int64($0) } ?? 0 }
    static func uint64(_ text: String?) -> UInt64 { text.flatMap { UInt64($0) } ?? 0 }

    static func keyValue(_ wire: WireKeyValue, endpoint: String) throws -> EtcdKeyValue {
        guard let keyBytes = Data(base64Encoded: wire.key ?? ""), let key = String(data: keyBytes, encoding: .utf8)
        else { throw EtcdError.malformedReply(endpoint: endpoint, detail: "a key is not base64 of UTF-8 text") }
        guard let value = Data(base64Encoded: wire.value ?? "") else {
            throw EtcdError.malformedReply(endpoint: endpoint, detail: "the value of \(key) is not base64")
        }
        return EtcdKeyValue(
            key: key, value: value, createRevision: int64(wire.create_revision), modRevision: int64(wire.mod_revision),
            version: int64(wire.version), lease: int64(wire.lease))
    }

    static func compare(_ compare: EtcdCompare) -> WireCompare {
        var wire = WireCompare(key: encode(compare.key), target: "", result: compare.result.rawValue)
        switch compare.target {
        case .version(let version):
            wire.target = "VERSION"
            wire.version = String(version)
        case .createRevision(let revision):
            wire.target = "CREATE"
            wire.create_revision = String(revision)
        case .modRevision(let revision):
            wire.target = "MOD"
            wire.mod_revision = String(revision)
        case .value(let value):
            wire.target = "VALUE"
            wire.value = encode(value)
        case .lease(let lease):
            wire.target = "LEASE"
            wire.lease = String(lease)
        }
        return wire
    }

    static func operation(_ operation: EtcdOperation) -> WireRequestOp {
        switch operation {
        case .put(let key, let value, let lease):
            WireRequestOp(
                request_put: WirePutRequest(
                    key: encode(key), value: encode(value), lease: lease == 0 ? nil : String(lease)))
        case .range(let keys):
            WireRequestOp(
                request_range: WireRangeRequest(key: Self.keys(keys).key, range_end: Self.keys(keys).rangeEnd))
        case .delete(let keys):
            WireRequestOp(
                request_delete_range: WireDeleteRangeRequest(
                    key: Self.keys(keys).key, range_end: Self.keys(keys).rangeEnd))
        }
    }
}
