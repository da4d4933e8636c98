import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// The endpoints a web dashboard needs (issue 18): a collection's storage
/// layout, verifying its segments, what the caller's credentials allow, and
/// the `/metrics` additions.
@Suite struct DashboardAPITests {
    /// `count` points of 4 dimensions; point i's vector starts with `marker + i`
    /// (a value found again in the segment file), with a payload when asked.
    static func points(_ ids: Range<Int>, marker: Float = 1234.5, payload: Bool = true) -> String {
        let items = ids.map { i in
            let payloadJSON = payload ? #","payload":{"title":"document number \#(i)","n":\#(i)}"# : ""
            return #"{"id":\#(i),"vector":[\#(marker + Float(i)),1,2,3]\#(payloadJSON)}"#
        }
        return #"{"points":[\#(items.joined(separator: ","))]}"#
    }

    /// The optimizer never flushes on its own here (a loaded machine reached the default
    /// interval between two upserts): tests flush when they mean to.
    static let createCollection =
        #"{"vectors":{"size":4,"distance":"Dot"},"optimizers_config":{"flush_interval_sec":3600,"indexing_threshold":1000000}}"#

    /// A JSON number as a Double (integers included).
    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let n)?: Double(n)
        case .double(let d)?: d
        default: nil
        }
    }

    // MARK: - GET /collections/{c}/storage

    @Test func storageShowsTheWALTheMutableSegmentAndThenASegmentFile() async throws {
        try await withServer { client, database async throws in
            #expect(try await client.send(.put, "/collections/docs", json: Self.createCollection).status == 200)
            #expect(try await client.send(.put, "/collections/docs/points", json: Self.points(0..<50)).status == 200)
            #expect(try await client.send(.put, "/collections/docs/points", json: Self.points(50..<100)).status == 200)

            let before = try await client.send(.get, "/collections/docs/storage")
            #expect(before.status == 200, "\(before.text)")
            #expect(before.body?["status"] == .string("ok"))
            #expect(Self.number(before.body?["time"]) != nil)
            let live = try #require(before.body?["result"])
            let wal = try #require(live["wal"])
            guard case .array(let files)? = wal["files"], let first = files.first else {
                Issue.record("no WAL files: \(before.text)")
                return
            }
            #expect(first["name"] != nil && Self.number(first["first_op"]) != nil)
            let fileBytes = files.compactMap { Self.number($0["bytes"]) }.reduce(0, +)
            #expect(fileBytes > 0 && Self.number(wal["bytes"]) == fileBytes)
            #expect(Self.number(wal["last_op"]) == Double(try database.collection("docs").lastOperation))
            #expect(Self.number(wal["records"]).map { $0 >= 2 } == true)
            #expect(Self.number(wal["batches"]).map { $0 >= 1 } == true)
            #expect(Self.number(wal["syncs"]) != nil && Self.number(wal["rotations"]) != nil)
            #expect(Self.number(wal["checkpoint_op"]) != nil)
            #expect(Self.number(live["mutable_segment"]?["points"]) == 100)
            #expect(live["sealed_segments"] == .int(0))
            #expect(live["segments"] == .array([]))
            #expect(live["optimizer"]?["status"] == .string("ok"))
            #expect(live["optimizer"]?["last_error"] == .null)
            #expect(live["optimizer"]?["running"] != nil)

            try database.collection("docs").flush()
            let after = try #require(try await client.send(.get, "/collections/docs/storage").body?["result"])
            #expect(Self.number(after["mutable_segment"]?["points"]) == 0)
            #expect(after["wal"]?["checkpoint_op"] == after["wal"]?["last_op"])
            guard case .array(let segments)? = after["segments"], segments.count == 1, let segment = segments.first
            else {
                Issue.record("expected one segment: \(after)")
                return
            }
            #expect(segment["kind"] == .string("immutable"))
            #expect(Self.number(segment["id"]) != nil)
            #expect(Self.number(segment["points"]) == 100 && Self.number(segment["deleted"]) == 0)
            let path = try #require(try database.collection("docs").storageInfo.segments.first?.path)
            #expect(segment["file"] == .string(URL(fileURLWithPath: path).lastPathComponent))
            guard case .array(let sections)? = segment["sections"], !sections.isEmpty else {
                Issue.record("no sections: \(segment)")
                return
            }
            #expect(sections.allSatisfy { $0["name"] != nil && Self.number($0["bytes"]) != nil })
            // The file's size on disk: its sections plus header, section table and footer.
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(Self.number(segment["file_bytes"]) == Double(size))
            #expect(size > Int(sections.compactMap { Self.number($0["bytes"]) }.reduce(0, +)))
            let raw = try #require(Self.number(segment["payload_raw_bytes"]))
            let compressed = try #require(Self.number(segment["payload_compressed_bytes"]))
            #expect(raw > 0 && compressed > 0)
            let ratio = try #require(Self.number(segment["payload_compression_ratio"]))
            #expect(abs(ratio - raw / compressed) < 1e-9)
        }
    }

    @Test func aSegmentWithoutPayloadHasNoCompressionRatio() async throws {
        try await withServer { client, database async throws in
            try await client.send(.put, "/collections/bare", json: Self.createCollection)
            try await client.send(.put, "/collections/bare/points", json: Self.points(0..<20, payload: false))
            try database.collection("bare").flush()
            let result = try await client.send(.get, "/collections/bare/storage").body?["result"]
            let segment = try #require(result?["segments"]?[0])
            #expect(segment["payload_compression_ratio"] == .null, "\(segment)")
        }
    }

    @Test func storageOfAnUnknownCollectionIs404() async throws {
        try await withServer { client, _ async throws in
            #expect(try await client.send(.get, "/collections/nothing/storage").status == 404)
            #expect(try await client.send(.post, "/collections/nothing/verify").status == 404)
        }
    }

    // MARK: - POST /collections/{c}/verify

    @Test func verifyOfCleanSegmentsIsOK() async throws {
        try await withServer { client, database async throws in
            try await client.send(.put, "/collections/docs", json: Self.createCollection)
            try await client.send(.put, "/collections/docs/points", json: Self.points(0..<100))
            try database.collection("docs").flush()
            let response = try await client.send(.post, "/collections/docs/verify")
            #expect(response.status == 200, "\(response.text)")
            let result = try #require(response.body?["result"])
            #expect(result["ok"] == .bool(true))
            #expect(result["segments"] == .int(1))
            #expect(result["problems"] == .array([]))
            #expect(Self.number(result["seconds"]).map { $0 >= 0 } == true)
        }
    }

    @Test func verifyFindsAFlippedByteInASegmentsVectorData() async throws {
        try await withServer { client, database async throws in
            try await client.send(.put, "/collections/docs", json: Self.createCollection)
            try await client.send(.put, "/collections/docs/points", json: Self.points(0..<100))
            let collection = try database.collection("docs")
            try collection.flush()
            let path = try #require(collection.storageInfo.segments.first?.path)
            let file = URL(fileURLWithPath: path).lastPathComponent
            // Point 37's first coordinate, 1234.5 + 37, is in the vector data section.
            var marker = Float(1234.5 + 37)
            let pattern = withUnsafeBytes(of: &marker) { Data($0) }
            let contents = try Data(contentsOf: URL(fileURLWithPath: path))
            let at = try #require(contents.range(of: pattern)?.lowerBound)
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(at + 1))
            try handle.write(contentsOf: [contents[at + 1] ^ 0x10])
            try handle.close()

            let response = try await client.send(.post, "/collections/docs/verify")
            #expect(response.status == 200, "\(response.text)")
            let result = try #require(response.body?["result"])
            #expect(result["ok"] == .bool(false))
            #expect(result["segments"] == .int(1))
            guard case .array(let problems)? = result["problems"], !problems.isEmpty else {
                Issue.record("no problems reported: \(response.text)")
                return
            }
            #expect(
                problems.contains {
                    guard case .string(let text) = $0 else { return false }
                    return text.contains("collections/docs/segments/" + file) && text.contains("vectors")
                }, "\(problems)")
            #expect(!"\(problems)".contains(database.path), "the server's paths stay private: \(problems)")
        }
    }

    // MARK: - Permissions of the collection endpoints

    @Test func storageAndVerifyNeedReadAccessToTheCollection() async throws {
        try await withServer(secured) { client, _ async throws in
            let manage = key(apiKey)
            for name in ["docs", "secret"] {
                try await client.send(.put, "/collections/\(name)", json: Self.createCollection, headers: manage)
            }
            let reader = bearer(makeJWT(#"{"access":[{"collection":"docs","access":"r"}]}"#, secret: apiKey))
            for headers in [reader, key(readOnlyKey)] {
                #expect(try await client.send(.get, "/collections/docs/storage", headers: headers).status == 200)
                #expect(try await client.send(.post, "/collections/docs/verify", headers: headers).status == 200)
            }
            #expect(try await client.send(.get, "/collections/secret/storage", headers: reader).status == 403)
            #expect(try await client.send(.post, "/collections/secret/verify", headers: reader).status == 403)
            #expect(try await client.send(.get, "/collections/docs/storage").status == 401)
        }
    }

    // MARK: - GET /access

    @Test func accessReportsWhatEachCredentialAllows() async throws {
        try await withServer(secured) { client, _ async throws in
            func access(_ headers: HTTPFields) async throws -> JSONValue? {
                let response = try await client.send(.get, "/access", headers: headers)
                #expect(response.status == 200, "\(response.text)")
                #expect(response.body?["status"] == .string("ok"))
                return response.body?["result"]
            }
            #expect(
                try await access(key(apiKey))
                    == .object(["access": .string("m"), "manage": .bool(true), "read_only": .bool(false)]))
            #expect(
                try await access(key(readOnlyKey))
                    == .object(["access": .string("r"), "manage": .bool(false), "read_only": .bool(true)]))
            let manageToken = makeJWT(#"{"access":"m"}"#, secret: apiKey)
            #expect(try await access(bearer(manageToken))?["access"] == .string("m"))
            let readToken = makeJWT(#"{"access":"r"}"#, secret: apiKey)
            #expect(
                try await access(bearer(readToken))
                    == .object(["access": .string("r"), "manage": .bool(false), "read_only": .bool(true)]))
            let grants = makeJWT(
                #"{"access":[{"collection":"zeta","access":"r"},{"collection":"alpha","access":"rw"}]}"#,
                secret: apiKey)
            #expect(
                try await access(bearer(grants))
                    == .object([
                        "access": .array([
                            .object(["collection": .string("alpha"), "access": .string("rw")]),
                            .object(["collection": .string("zeta"), "access": .string("r")]),
                        ]),
                        "manage": .bool(false), "read_only": .bool(false),
                    ]))
            let readGrants = makeJWT(#"{"access":[{"collection":"alpha","access":"r"}]}"#, secret: apiKey)
            #expect(try await access(bearer(readGrants))?["read_only"] == .bool(true))
            // Grants in the order they are listed: sorted, so the answer is stable.
            let raw = try await client.send(.get, "/access", headers: bearer(grants)).text
            #expect(
                raw.contains(#""access":[{"collection":"alpha","access":"rw"},{"collection":"zeta","access":"r"}]"#))
            #expect(try await client.send(.get, "/access").status == 401)
            #expect(try await client.send(.get, "/access", headers: key("wrong")).status == 401)
        }
    }

    @Test func withoutAnAPIKeyAccessIsManage() async throws {
        try await withServer { client, _ async throws in
            let response = try await client.send(.get, "/access")
            #expect(response.status == 200)
            #expect(
                response.body?["result"]
                    == .object(["access": .string("m"), "manage": .bool(true), "read_only": .bool(false)]))
        }
    }

    // MARK: - /metrics

    /// The value of the sample line `name` (labels included) in `text`.
    static func sample(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    @Test func theDurationHistogramIsCumulativeAndCountsEveryRequest() async throws {
        try await withServer { client, _ async throws in
            try await client.send(.put, "/collections/docs", json: Self.createCollection)
            try await client.send(.put, "/collections/docs/points", json: Self.points(0..<10))
            try await client.send(.get, "/collections/docs")
            try await client.send(.get, "/no/such/endpoint")
            let text = try await client.send(.get, "/metrics").text
            let bounds = [
                "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
                "10", "+Inf",
            ]
            let buckets = bounds.map { Self.sample(text, "rest_request_duration_seconds_bucket{le=\"\($0)\"}") }
            #expect(buckets.allSatisfy { $0 != nil }, "\(text)")
            let values = buckets.compactMap { $0 }
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "not cumulative: \(values)")
            let count = Self.sample(text, "rest_request_duration_seconds_count")
            // The four requests before this one (which is recorded after it answers).
            #expect(count == 4 && values.last == count, "\(text)")
            #expect(Self.sample(text, "rest_request_duration_seconds_sum").map { $0 > 0 } == true)
            #expect(text.contains("# TYPE rest_request_duration_seconds histogram"))
            // The per-endpoint summary is unchanged.
            #expect(text.contains("# TYPE rest_responses_duration_seconds summary"))
            #expect(
                text.contains(
                    #"rest_responses_duration_seconds_count{method="PUT",endpoint="/collections/{collection_name}/points",status="200"} 1"#
                ))
            #expect(!text.contains("rest_responses_duration_seconds_bucket"))
        }
    }

    @Test func pointAndWALCountersGrowWithWrites() async throws {
        try await withServer { client, _ async throws in
            try await client.send(.put, "/collections/docs", json: Self.createCollection)
            let start = try await client.send(.get, "/metrics").text
            #expect(Self.sample(start, "points_written_total") == 0)
            let syncs = try #require(Self.sample(start, "wal_syncs_total"))
            let records = try #require(Self.sample(start, "wal_records_total"))

            #expect(try await client.send(.put, "/collections/docs/points", json: Self.points(0..<10)).status == 200)
            let afterUpsert = try await client.send(.get, "/metrics").text
            #expect(Self.sample(afterUpsert, "points_written_total") == 10)
            #expect(Self.sample(afterUpsert, "wal_records_total") == records + 1)
            #expect(Self.sample(afterUpsert, "wal_syncs_total").map { $0 > syncs } == true)

            // A batch: an upsert and a vector update write points; a payload change does not.
            let batch = #"""
                {"operations":[
                  {"upsert":{"points":[{"id":100,"vector":[1,2,3,4]},{"id":101,"vector":[1,2,3,4]}]}},
                  {"update_vectors":{"points":[{"id":1,"vector":[4,3,2,1]}]}},
                  {"set_payload":{"payload":{"x":1},"points":[1,2]}}
                ]}
                """#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: batch).status == 200)
            let afterBatch = try await client.send(.get, "/metrics").text
            #expect(Self.sample(afterBatch, "points_written_total") == 13)
            #expect(Self.sample(afterBatch, "wal_records_total") == records + 4)
            // Deletes write no points.
            try await client.send(.post, "/collections/docs/points/delete", json: #"{"points":[1]}"#)
            let afterDelete = try await client.send(.get, "/metrics").text
            #expect(Self.sample(afterDelete, "points_written_total") == 13)
            #expect(Self.sample(afterDelete, "wal_records_total") == records + 5)
            // The WAL counters are counters: deleting the collection that wrote them lowers neither.
            let syncsBefore = try #require(Self.sample(afterDelete, "wal_syncs_total"))
            #expect(try await client.send(.delete, "/collections/docs").status == 200)
            let afterDrop = try await client.send(.get, "/metrics").text
            #expect(Self.sample(afterDrop, "wal_records_total") == records + 5)
            #expect(Self.sample(afterDrop, "wal_syncs_total") == syncsBefore)
        }
    }
}
