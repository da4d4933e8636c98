import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// docs/api-endpoints.md lists every Qdrant 1.20 endpoint with a status; every
/// endpoint not marked "in progress" or "not yet" must exist: it may refuse
/// the empty body it gets here (400, 422), but never answer 404 or 501.
@Suite struct EndpointTableTests {
    struct Row {
        var method: HTTPRequest.Method
        var path: String
        var status: String
    }

    static func table() throws -> [Row] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/api-endpoints.md")
        let text = try String(contentsOf: file, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == 5, let method = HTTPRequest.Method(cells[1]), cells[2].hasPrefix("`") else {
                return nil
            }
            return Row(method: method, path: cells[2].trimmingCharacters(in: ["`"]), status: cells[3])
        }
    }

    @Test func theTableCoversQdrant120() throws {
        let rows = try Self.table()
        #expect(rows.count == 69)
        #expect(Set(rows.map { "\($0.method) \($0.path)" }).count == 69)
    }

    @Test func everyServedEndpointAnswers() async throws {
        let rows = try Self.table()
        try await withServer { client, _ async throws in
            // The API level qdrant-client checks for compatibility.
            guard case .string(let version)? = try await client.send(.get, "/").body?["version"] else {
                Issue.record("GET / has no version")
                return
            }
            #expect(version.hasPrefix("1.20."))
            // Real resources for the path parameters, so a 404 can only mean a missing route.
            #expect(
                try await client.send(.put, "/collections/docs", json: #"{"vectors":{"size":2,"distance":"Dot"}}"#)
                    .status == 200)
            #expect(
                try await client.send(
                    .put, "/collections/docs/points", json: #"{"points":[{"id":1,"vector":[1,0],"payload":{"f":"a"}}]}"#
                ).status == 200)
            #expect(
                try await client.send(
                    .put, "/collections/docs/index", json: #"{"field_name":"f","field_schema":"keyword"}"#
                ).status == 200)
            #expect(
                try await client.send(
                    .put, "/collections/docs/vectors/v", json: #"{"dense":{"size":2,"distance":"Dot"}}"#
                )
                .status == 200)
            let snapshot = try await client.send(.post, "/collections/docs/snapshots").body?["result"]?["name"]
            let full = try await client.send(.post, "/snapshots").body?["result"]?["name"]
            guard case .string(let snapshotName)? = snapshot, case .string(let fullName)? = full else {
                Issue.record("no snapshot names")
                return
            }
            // Deletions last, the collection's very last.
            let ordered = rows.sorted {
                ($0.method == .delete ? 1 : 0, $0.path == "/collections/{collection_name}" ? 1 : 0)
                    < ($1.method == .delete ? 1 : 0, $1.path == "/collections/{collection_name}" ? 1 : 0)
            }
            var checked = 0
            for row in ordered where !row.status.hasPrefix("not yet") && !row.status.hasPrefix("in progress") {
                var path = row.path.replacingOccurrences(of: "{collection_name}", with: "docs")
                    .replacingOccurrences(of: "{field_name}", with: "f").replacingOccurrences(
                        of: "{vector_name}", with: "v"
                    )
                    .replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{peer_id}", with: "1")
                    .replacingOccurrences(of: "{shard_id}", with: "0")
                    .replacingOccurrences(
                        of: "{snapshot_name}", with: row.path.hasPrefix("/snapshots") ? fullName : snapshotName)
                if row.method == .delete, row.path.hasPrefix("/collections/"), row.path.hasSuffix("{snapshot_name}") {
                    // The shard and collection endpoints delete the same files: each gets its own
                    // snapshot (a write first, so the name, which holds the op number, is new).
                    let id = 100 + checked
                    _ = try await client.send(
                        .put, "/collections/docs/points", json: #"{"points":[{"id":\#(id),"vector":[1,0]}]}"#)
                    guard
                        case .string(let fresh)? = try await client.send(.post, "/collections/docs/snapshots")
                            .body?["result"]?["name"]
                    else {
                        Issue.record("no snapshot for \(row.path)")
                        continue
                    }
                    path = path.replacingOccurrences(of: snapshotName, with: fresh)
                }
                let hasBody = [.post, .put, .patch].contains(row.method)
                let answer = try await client.send(row.method, path, json: hasBody ? "{}" : nil)
                #expect(
                    answer.status != 404 && answer.status != 501,
                    "\(row.method) \(row.path) (\(row.status)): \(answer.status) \(answer.text.prefix(200))")
                checked += 1
            }
            #expect(
                checked == rows.count
                    - rows.filter { $0.status.hasPrefix("not yet") || $0.status.hasPrefix("in progress") }.count)
        }
    }
}
