import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataDashboard
import StrataServer
import Testing

/// The dashboard's files (`GET /dashboard`, `/dashboard/{file}`) and the
/// snapshot calls its buttons make (`…/snapshots/{name}/verify`, `/restore`).
@Suite struct DashboardRouteTests {
    @Test func servesTheEmbeddedFilesWithoutCredentials() async throws {
        try await withServer({ $0.apiKey = "secret" }) { client, _ in
            let page = try await client.send(.get, "/dashboard")
            #expect(page.status == 200)
            #expect(page.text.contains("<script type=\"module\" src=\"/dashboard/app.js\">"))
            for file in ["app.js", "ui.js", "dashboard.css"]
                + DashboardFiles.files.keys.filter({ $0.hasPrefix("view-") })
            {
                try await client.execute(uri: "/dashboard/\(file)", method: .get) { response in
                    #expect(response.status == .ok, "\(file)")
                    #expect(response.headers[.contentType] == DashboardFiles.files[file]?.contentType)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                    #expect(response.body.readableBytes == DashboardFiles.files[file]?.bytes.count)
                }
            }
            #expect(DashboardFiles.files["app.js"]?.contentType == "text/javascript; charset=utf-8")
            // Every view module app.js imports is embedded.
            let app = String(decoding: DashboardFiles.files["app.js"]!.bytes, as: UTF8.self)
            for match in app.matches(of: /import\('\.\/([a-z-]+\.js)'\)/) {
                #expect(DashboardFiles.files[String(match.1)] != nil, "\(match.1)")
            }
            // Only the files themselves are open: the API behind them still needs the key.
            #expect(try await client.send(.get, "/collections").status == 401)
            #expect(try await client.send(.get, "/dashboard/missing.js").status == 404)
            #expect(try await client.send(.get, "/dashboard/..%2Fconfig.json").status == 404)
            let etag = DashboardFiles.files["index.html"]!.etag
            try await client.execute(uri: "/dashboard", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
            }
        }
    }

    @Test func verifiesAndRestoresAListedSnapshotByName() async throws {
        try await withServer { client, database in
            #expect(try await client.send(.put, "/collections/c", json: createSmallCollection).status == 200)
            #expect(try await client.send(.put, "/collections/c/points?wait=true", json: twoPoints).status == 200)
            let made = try await client.send(.post, "/collections/c/snapshots")
            guard case .string(let name)? = made.body?["result"]?["name"] else {
                Issue.record("no snapshot name: \(made.text)")
                return
            }
            let verified = try await client.send(.post, "/collections/c/snapshots/\(name)/verify")
            #expect(verified.status == 200)
            #expect(verified.body?["result"]?["ok"] == .bool(true), "\(verified.text)")
            #expect(try await client.send(.post, "/collections/c/snapshots/nope/verify").status == 404)

            // Writes after the snapshot are gone once it is restored by name.
            let delete = #"{"points": [1, 2]}"#
            #expect(try await client.send(.post, "/collections/c/points/delete?wait=true", json: delete).status == 200)
            #expect(try database.collection("c").count() == 0)
            let restored = try await client.send(.post, "/collections/c/snapshots/\(name)/restore")
            #expect(restored.status == 200, "\(restored.text)")
            #expect(try database.collection("c").count() == 2)

            // A damaged archive is an answer naming the problem, not an error.
            let path = try #require(try database.listSnapshots(collection: "c").first { $0.name == name }).path
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: 1024)
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 64))
            try handle.close()
            let damaged = try await client.send(.post, "/collections/c/snapshots/\(name)/verify")
            #expect(damaged.status == 200)
            #expect(damaged.body?["result"]?["ok"] == .bool(false))
            guard case .string(let problem)? = damaged.body?["result"]?["problem"] else {
                Issue.record("no problem named: \(damaged.text)")
                return
            }
            #expect(!problem.contains(database.snapshotsDirectory), "the server's paths stay private: \(problem)")
        }
    }

    @Test func restoresAFullSnapshotWhileServing() async throws {
        try await withServer { client, database in
            #expect(try await client.send(.put, "/collections/kept", json: createSmallCollection).status == 200)
            #expect(try await client.send(.put, "/collections/kept/points?wait=true", json: twoPoints).status == 200)
            let made = try await client.send(.post, "/snapshots")
            guard case .string(let name)? = made.body?["result"]?["name"] else {
                Issue.record("no snapshot name: \(made.text)")
                return
            }
            let verified = try await client.send(.post, "/snapshots/\(name)/verify")
            #expect(verified.body?["result"]?["ok"] == .bool(true), "\(verified.text)")
            // After the snapshot: a point deleted, a collection added.
            let delete = #"{"points": [1]}"#
            #expect(
                try await client.send(.post, "/collections/kept/points/delete?wait=true", json: delete).status == 200)
            #expect(try await client.send(.put, "/collections/later", json: createSmallCollection).status == 200)
            let restored = try await client.send(.post, "/snapshots/\(name)/restore")
            #expect(restored.status == 200, "\(restored.text)")
            #expect(database.collectionNames() == ["kept"])
            let count = try await client.send(.post, "/collections/kept/points/count", json: #"{"exact": true}"#)
            #expect(count.body?["result"]?["count"] == .int(2), "\(count.text)")
            #expect(try await client.send(.post, "/snapshots/nope/restore").status == 404)
        }
    }

    @Test func readOnlyKeysVerifyButDoNotRestore() async throws {
        try await withServer({
            $0.apiKey = "full"
            $0.readOnlyAPIKey = "reader"
        }) { client, _ in
            let full = key("full")
            let reader = key("reader")
            #expect(
                try await client.send(.put, "/collections/c", json: createSmallCollection, headers: full).status == 200)
            let made = try await client.send(.post, "/collections/c/snapshots", headers: full)
            guard case .string(let name)? = made.body?["result"]?["name"] else { return }
            #expect(
                try await client.send(.post, "/collections/c/snapshots/\(name)/verify", headers: reader).status == 200)
            #expect(
                try await client.send(.post, "/collections/c/snapshots/\(name)/restore", headers: reader).status == 403)
        }
    }
}
