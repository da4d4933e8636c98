import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// `GET /collections/{c}/shards/{shard_id}/snapshot`: a snapshot made for the
/// download, streamed, and gone afterwards.
@Suite struct StreamSnapshotTests {
    @Test func streamsAShardSnapshotAndKeepsNone() async throws {
        try await withServer { client, database in
            #expect(try await client.send(.get, "/collections/c/shards/0/snapshot").status == 404)
            #expect(try await client.send(.put, "/collections/c", json: createSmallCollection).status == 200)
            #expect(try await client.send(.put, "/collections/c/points", json: twoPoints).status == 200)
            let unknownShard = try await client.send(.get, "/collections/c/shards/1/snapshot")
            #expect(unknownShard.status == 404)
            #expect(unknownShard.body?.errorMessage?.hasPrefix("Not found: Shard 1 of collection `c`") == true)

            let bytes = try await client.execute(uri: "/collections/c/shards/0/snapshot", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/octet-stream")
                #expect(response.headers[.contentLength] == String(response.body.readableBytes))
                return Array(response.body.readableBytesView)
            }
            #expect(bytes.count > 512)
            #expect(try database.listSnapshots(collection: "c").isEmpty)

            // The bytes are a snapshot of the collection: restored as another, it holds the same points.
            let path = database.snapshotsDirectory + "/streamed.snapshot"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            _ = try database.restoreSnapshot(from: [path], as: "copy", overwrite: false, checksum: nil)
            #expect(try database.collection("copy").count() == 2)
        }
    }
}
