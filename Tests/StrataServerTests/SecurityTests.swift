import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// Every endpoint the server registers (method, path with collection `docs`).
let allEndpoints: [(HTTPRequest.Method, String)] = [
    (.get, "/"), (.get, "/metrics"), (.get, "/telemetry"), (.get, "/cluster"), (.get, "/collections/docs/cluster"),
    (.post, "/cluster/recover"), (.delete, "/cluster/peer/1"), (.get, "/collections"), (.get, "/collections/docs"),
    (.get, "/collections/docs/exists"), (.put, "/collections/docs"), (.patch, "/collections/docs"),
    (.delete, "/collections/docs"), (.post, "/collections/aliases"), (.get, "/aliases"),
    (.get, "/collections/docs/aliases"),
    (.put, "/collections/docs/points"), (.post, "/collections/docs/points"), (.get, "/collections/docs/points/1"),
    (.post, "/collections/docs/points/delete"), (.post, "/collections/docs/points/batch"),
    (.post, "/collections/docs/points/scroll"), (.post, "/collections/docs/points/count"),
    (.post, "/collections/docs/points/payload"), (.put, "/collections/docs/points/payload"),
    (.post, "/collections/docs/points/payload/delete"), (.post, "/collections/docs/points/payload/clear"),
    (.post, "/collections/docs/points/query"), (.post, "/collections/docs/points/query/batch"),
    (.post, "/collections/docs/points/search"), (.post, "/collections/docs/points/search/batch"),
    (.post, "/collections/docs/points/query/groups"), (.put, "/collections/docs/points/vectors"),
    (.post, "/collections/docs/facet"), (.put, "/collections/docs/index"), (.delete, "/collections/docs/index/f"),
    (.get, "/collections/docs/snapshots"), (.post, "/collections/docs/snapshots"), (.get, "/snapshots"),
    (.post, "/snapshots"), (.get, "/collections/docs/optimizations"), (.get, "/issues"), (.delete, "/issues"),
    (.get, "/quotas"), (.put, "/quotas"), (.get, "/cluster/telemetry"), (.get, "/collections/docs/shards/0/snapshot"),
    (.get, "/access"), (.get, "/collections/docs/storage"), (.post, "/collections/docs/verify"),
    (.get, "/no/such/endpoint"),
]

@Suite struct SecurityTests {
    @Test func everyEndpointButHealthProbesRefusesWithoutCredentials() async throws {
        try await withServer(secured) { client, _ async throws in
            for (method, path) in allEndpoints {
                let response = try await client.send(method, path, json: "{}")
                #expect(response.status == 401, "\(method) \(path) answered \(response.status) without credentials")
                #expect(response.body?.errorMessage?.contains("API key") == true)
                let wrong = try await client.send(method, path, json: "{}", headers: key("not-the-key"))
                #expect(wrong.status == 401, "\(method) \(path) answered \(wrong.status) to a wrong key")
            }
            for probe in ["/healthz", "/livez", "/readyz"] {
                #expect(try await client.send(.get, probe).status == 200)
            }
        }
    }

    @Test func apiKeyWorksInEitherHeader() async throws {
        try await withServer(secured) { client, _ async throws in
            #expect(
                try await client.send(.put, "/collections/docs", json: createSmallCollection, headers: key(apiKey))
                    .status == 200)
            #expect(try await client.send(.get, "/collections/docs", headers: bearer(apiKey)).status == 200)
        }
    }

    @Test func readOnlyKeyReadsButCannotWrite() async throws {
        try await withServer(secured) { client, database async throws in
            try await client.send(.put, "/collections/docs", json: createSmallCollection, headers: key(apiKey))
            try await client.send(.put, "/collections/docs/points", json: twoPoints, headers: key(apiKey))
            let read = key(readOnlyKey)
            #expect(try await client.send(.get, "/collections", headers: read).status == 200)
            #expect(try await client.send(.get, "/quotas", headers: read).status == 200)
            #expect(
                try await client.send(.post, "/collections/docs/points/query", json: #"{"query":[1,0]}"#, headers: read)
                    .status == 200)
            #expect(
                try await client.send(.post, "/collections/docs/points/scroll", json: "{}", headers: read).status == 200
            )
            let writes: [(HTTPRequest.Method, String, String)] = [
                (.put, "/collections/docs/points", twoPoints),
                (.post, "/collections/docs/points/delete", #"{"points":[1]}"#),
                (.post, "/collections/docs/points/payload", #"{"payload":{"b":1},"points":[1]}"#),
                (.post, "/collections/docs/points/payload/clear", #"{"points":[1]}"#),
                (.put, "/quotas", #"{"enabled":true,"max_disk_usage_percent":1}"#),
                (.get, "/collections/docs/shards/0/snapshot", ""),
                (.put, "/collections/other", createSmallCollection), (.delete, "/collections/docs", ""),
                (
                    .post, "/collections/aliases",
                    #"{"actions":[{"create_alias":{"collection_name":"docs","alias_name":"x"}}]}"#
                ),
            ]
            for (method, path, body) in writes {
                let response = try await client.send(method, path, json: body, headers: read)
                #expect(response.status == 403, "\(method) \(path) with the read-only key answered \(response.status)")
            }
            let collection = try database.collection("docs")
            #expect(collection.count() == 2)
            #expect(try collection.retrieve([1]).first?.payload == ["a": 1])
            #expect(database.collectionNames() == ["docs"])
            #expect(database.aliases().isEmpty)
        }
    }

    @Test func jwtGlobalAccessReadAndManage() async throws {
        try await withServer(secured) { client, _ async throws in
            let manage = makeJWT(#"{"access":"m"}"#, secret: apiKey)
            let read = makeJWT(#"{"access":"r","exp":\#(Int(Date().timeIntervalSince1970) + 600)}"#, secret: apiKey)
            #expect(
                try await client.send(.put, "/collections/docs", json: createSmallCollection, headers: bearer(manage))
                    .status == 200)
            #expect(try await client.send(.get, "/collections/docs", headers: bearer(read)).status == 200)
            #expect(
                try await client.send(.put, "/collections/docs/points", json: twoPoints, headers: bearer(read)).status
                    == 403)
            #expect(
                try await client.send(.put, "/collections/docs/points", json: twoPoints, headers: key(manage)).status
                    == 200)
        }
    }

    @Test func expiredForgedAndWrongAlgorithmTokensAreRejected() async throws {
        try await withServer(secured) { client, _ async throws in
            let now = Int(Date().timeIntervalSince1970)
            let expired = makeJWT(#"{"access":"m","exp":\#(now - 10)}"#, secret: apiKey)
            let forged = makeJWT(#"{"access":"m"}"#, secret: "some-other-secret")
            let signedWithReadOnlyKey = makeJWT(#"{"access":"m"}"#, secret: readOnlyKey)
            let valid = makeJWT(#"{"access":"m"}"#, secret: apiKey)
            let parts = valid.split(separator: ".")
            let noneHeader = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            let algNone = "\(noneHeader).\(parts[1])."
            let algNoneKeepingSignature = "\(noneHeader).\(parts[1]).\(parts[2])"
            let hs512Header = makeJWT(#"{"access":"m"}"#, secret: apiKey, header: #"{"alg":"HS512","typ":"JWT"}"#)
            let tamperedClaims = makeJWT(#"{"access":"r"}"#, secret: apiKey).split(separator: ".")
            let escalated = "\(tamperedClaims[0]).\(parts[1]).\(tamperedClaims[2])"
            let withCondition = makeJWT(
                #"{"access":"m","value_exists":{"collection":"users","matches":[]}}"#, secret: apiKey)
            for token in [
                expired, forged, signedWithReadOnlyKey, algNone, algNoneKeepingSignature, hs512Header, escalated,
                withCondition, "a.b.c", "..", valid + "x",
            ] {
                let response = try await client.send(.get, "/collections", headers: bearer(token))
                #expect(response.status == 401, "token \(token) answered \(response.status)")
            }
            #expect(try await client.send(.get, "/collections", headers: bearer(valid)).status == 200)
        }
    }

    @Test func collectionScopedTokenCannotReadOrListOthers() async throws {
        try await withServer(secured) { client, database async throws in
            for name in ["docs", "secret"] {
                try await client.send(.put, "/collections/\(name)", json: createSmallCollection, headers: key(apiKey))
                try await client.send(.put, "/collections/\(name)/points", json: twoPoints, headers: key(apiKey))
            }
            try await client.send(
                .post, "/collections/aliases",
                json: #"{"actions":[{"create_alias":{"collection_name":"secret","alias_name":"hidden"}}]}"#,
                headers: key(apiKey))
            let reader = bearer(makeJWT(#"{"access":[{"collection":"docs","access":"r"}]}"#, secret: apiKey))
            let writer = bearer(makeJWT(#"{"access":[{"collection":"docs","access":"rw"}]}"#, secret: apiKey))

            let list = try await client.send(.get, "/collections", headers: reader)
            #expect(list.status == 200)
            #expect(list.body?["result"]?["collections"] == .array([.object(["name": "docs"])]))
            #expect(try await client.send(.get, "/aliases", headers: reader).body?["result"]?["aliases"] == .array([]))
            #expect(
                try await client.send(
                    .post, "/collections/docs/points/query", json: #"{"query":[1,0]}"#, headers: reader
                ).status == 200)
            for path in [
                "/collections/secret", "/collections/hidden", "/collections/secret/exists", "/collections/nonexistent",
            ] {
                #expect(try await client.send(.get, path, headers: reader).status == 403, "\(path)")
            }
            for path in [
                "/collections/secret/points/query", "/collections/hidden/points/query",
                "/collections/secret/points/scroll",
            ] {
                #expect(
                    try await client.send(.post, path, json: #"{"query":[1,0]}"#, headers: writer).status == 403,
                    "\(path)")
            }
            #expect(
                try await client.send(.put, "/collections/docs/points", json: twoPoints, headers: reader).status == 403)
            #expect(
                try await client.send(
                    .post, "/collections/docs/points/delete", json: #"{"points":[2]}"#, headers: writer
                ).status == 200)
            #expect(
                try await client.send(
                    .post, "/collections/secret/points/delete", json: #"{"points":[2]}"#, headers: writer
                ).status == 403)
            #expect(
                try await client.send(.put, "/collections/new", json: createSmallCollection, headers: writer).status
                    == 403)
            #expect(try await client.send(.get, "/metrics", headers: writer).status == 403)
            #expect(try database.collection("secret").count() == 2)
            #expect(try database.collection("docs").count() == 1)
        }
    }

    @Test func keysNeverReachTheLog() async throws {
        let store = LogLines()
        try await withServer(secured, logHandler: CapturingLogHandler(store: store)) { client, _ async throws in
            let token = makeJWT(#"{"access":"m"}"#, secret: apiKey)
            try await client.send(.put, "/collections/docs", json: createSmallCollection, headers: key(apiKey))
            try await client.send(.get, "/collections", headers: key(readOnlyKey))
            try await client.send(.get, "/collections", headers: bearer(token))
            try await client.send(.get, "/collections", headers: key("wrong-\(apiKey)"))
        }
        let lines = store.all
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.contains(apiKey) && !line.contains(readOnlyKey) && !line.contains("eyJ"), "\(line)")
        }
        var configuration = ServerConfiguration()
        secured(&configuration)
        #expect(!configuration.description.contains(apiKey) && !configuration.description.contains(readOnlyKey))
    }

    @Test func withoutAPIKeyEverythingIsOpen() async throws {
        try await withServer { client, _ async throws in
            #expect(try await client.send(.put, "/collections/docs", json: createSmallCollection).status == 200)
            #expect(try await client.send(.get, "/metrics").status == 200)
        }
    }
}
