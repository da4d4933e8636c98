import Crypto
import Foundation
import Strata
import StrataClient
import StrataTestSupport
import Testing

// One behavioural suite, two backends: every scenario runs against the
// embedded `Database` and against a real `strata serve` (a separate process)
// through `StrataClient`, written only against `VectorStore` and
// `VectorCollection`. Each run checks its own expectations and writes a
// transcript of what it saw; the two transcripts must be equal.

/// What a scenario saw, line by line, in a form both backends must produce alike.
final class Transcript: @unchecked Sendable {
    private(set) var lines: [String] = []
    func log(_ line: String) { lines.append(line) }
}

/// Runs `scenario` on the embedded store and on a server through
/// `StrataClient` over REST and over gRPC, and expects the same transcript
/// from all three.
func bothBackendsAgree(
    _ scenario: @Sendable (any VectorStore, Transcript) async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let embedded = Transcript()
    try await withTemporaryDirectory { path in
        let database = try Database.open(at: path + "/db")
        defer { database.close() }
        try await scenario(database, embedded)
    }
    let printing = ProcessInfo.processInfo.environment["STRATA_PRINT_TRANSCRIPTS"] != nil
    if printing { print(embedded.lines.map { "embedded | \($0)" }.joined(separator: "\n")) }
    #expect(embedded.lines.count > 0, sourceLocation: sourceLocation)
    for transport in [StrataClient.Configuration.Transport.rest, .grpc()] {
        let remote = Transcript()
        let server = try await ServerProcess()
        var configuration = StrataClient.Configuration(apiKey: ServerProcess.apiKey)
        if case .grpc = transport { configuration.transport = .grpc(port: server.grpcPort) }
        do {
            let client = try StrataClient(url: server.url, configuration: configuration)
            do {
                try await scenario(client, remote)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
        let label = transport == .rest ? "rest" : "grpc"
        if printing { print(remote.lines.map { "\(label)     | \($0)" }.joined(separator: "\n")) }
        for (index, pair) in zip(embedded.lines, remote.lines).enumerated() where pair.0 != pair.1 {
            Issue.record("line \(index): embedded \(pair.0) ≠ \(label) \(pair.1)", sourceLocation: sourceLocation)
        }
        #expect(embedded.lines.count == remote.lines.count, "\(label)", sourceLocation: sourceLocation)
    }
}

/// The code of the `StrataError` that `body` throws (nil when it returns).
func errorCode(_ body: () async throws -> Void) async -> ErrorCode? {
    do {
        try await body()
        return nil
    } catch let error as StrataError {
        return error.code
    } catch {
        return ErrorCode(rawValue: "not a StrataError: \(error)")
    }
}

func describe(_ record: Record) -> String {
    var text = "\(record.id)"
    if let payload = record.payload { text += " payload=\(JSONValue.object(payload))" }
    if let vectors = record.vectors {
        text +=
            " vectors="
            + vectors.keys.sorted().map { "\($0):\(vectors[$0]!.map { rounded($0) })" }.joined(separator: ",")
    }
    if let sparse = record.sparseVectors {
        text +=
            " sparse="
            + sparse.keys.sorted().map { "\($0):\(sparse[$0]!.indices)/\(sparse[$0]!.values)" }.joined(separator: ",")
    }
    return text
}

func describe(_ hits: [ScoredPoint]) -> String {
    hits.map { hit in
        var text = "\(hit.id)@\(rounded(hit.score))"
        if let payload = hit.payload { text += " \(JSONValue.object(payload))" }
        if let order = hit.orderValue { text += " order=\(order)" }
        return text
    }.joined(separator: "; ")
}

func rounded(_ value: Float) -> String { String(format: "%.4f", value) }

func point(_ id: UInt64, _ vector: [Float], _ payload: Payload? = nil) -> PointStruct {
    PointStruct(id: .number(id), vector: vector, payload: payload)
}

/// Twenty points around the unit circle in 4 dimensions, with a category,
/// a price and a tag list.
func circlePoints() -> [PointStruct] {
    (1...20).map { (i: UInt64) in
        let angle = Float(i) * 0.3
        return point(
            i, [cos(angle), sin(angle), Float(i % 3), 0.5],
            [
                "category": .string(["red", "green", "blue"][Int(i % 3)]), "price": .int(Int64(i * 10)),
                "tags": .array([.string("t\(i % 2)")]),
            ])
    }
}

@Suite(.serialized) struct TwoBackendTests {
    @Test func collectionsAreCreatedListedAndDeletedAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let config = CollectionConfig(size: 4, distance: .cosine)
            _ = try await store.createCollection("b", config: config)
            _ = try await store.createCollection("a", config: config)
            transcript.log("names \(try await store.collectionNames())")
            let duplicate = await errorCode { _ = try await store.createCollection("a", config: config) }
            #expect(duplicate == .alreadyExists)
            transcript.log("duplicate \(String(describing: duplicate))")
            let missing = await errorCode { _ = try await store.collection("nope") }
            #expect(missing == .notFound)
            transcript.log("missing \(String(describing: missing))")
            let handle = try await store.collection("a")
            transcript.log("handle \(handle.name)")
            try await store.deleteCollection("b")
            transcript.log("after delete \(try await store.collectionNames())")
            let deletedTwice = await errorCode { try await store.deleteCollection("b") }
            #expect(deletedTwice == .notFound)
            transcript.log("deleted twice \(String(describing: deletedTwice))")
            let badConfig = await errorCode {
                _ = try await store.createCollection("c", config: CollectionConfig(size: 0, distance: .dot))
            }
            #expect(badConfig == .invalidArgument)
            transcript.log("bad config \(String(describing: badConfig))")
        }
    }

    @Test func pointsAreWrittenReadAndCountedAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let points = try await store.createCollection("points", config: CollectionConfig(size: 4, distance: .dot))
            let write = try await points.upsert(circlePoints())
            transcript.log("upsert op \(write.operationID)")
            let records = try await points.retrieve(
                [.number(3), .number(99), .number(1)], withPayload: true, withVector: true)
            #expect(records.map(\.id) == [.number(3), .number(1)])
            for record in records { transcript.log("retrieve \(describe(record))") }
            transcript.log("count \(try await points.count(filter: nil, exact: true))")
            let red = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("category"), .match(.value(.keyword("red")))))
            ])
            transcript.log("count red \(try await points.count(filter: red, exact: true))")
            var offset: PointID? = nil
            var pages = 0
            repeat {
                let page = try await points.scroll(
                    offset: offset, limit: 7, filter: nil, withPayload: false, withVector: false)
                transcript.log("page \(page.points.map(\.id)) next \(String(describing: page.nextOffset))")
                offset = page.nextOffset
                pages += 1
            } while offset != nil && pages < 10
            #expect(pages == 3)
            _ = try await points.delete([.number(1), .number(2)])
            _ = try await points.delete(filter: red)
            transcript.log("count after deletes \(try await points.count(filter: nil, exact: true))")
            _ = try await points.setPayload(["note": "hello"], for: [.number(4)])
            _ = try await points.deletePayloadKeys(["tags"], for: [.number(4)])
            _ = try await points.overwritePayload(["only": .int(1)], for: [.number(5)])
            _ = try await points.clearPayload(for: [.number(7)])
            for record in try await points.retrieve(
                [.number(4), .number(5), .number(7)], withPayload: true, withVector: false)
            {
                transcript.log("payload \(describe(record))")
            }
        }
    }

    @Test func searchesAndQueriesRankAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let points = try await store.createCollection(
                "search", config: CollectionConfig(size: 4, distance: .cosine))
            _ = try await points.upsert(circlePoints())
            _ = try await points.createFieldIndex("price", schema: PayloadFieldSchema(.integer))
            _ = try await points.createFieldIndex("category", schema: PayloadFieldSchema(.keyword))
            let query: [Float] = [1, 0.2, 1, 0.5]
            let plain = try await points.search(
                query, using: "", limit: 5, params: SearchParams(), filter: nil, scoreThreshold: nil, withPayload: true,
                withVector: false)
            #expect(plain.count == 5)
            transcript.log("search \(describe(plain))")
            let cheap = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("price"), .range(RangeBounds(lt: 100))))
            ])
            let filtered = try await points.search(
                query, using: "", limit: 5, params: SearchParams(exact: true), filter: cheap, scoreThreshold: 0.5,
                withPayload: false, withVector: false)
            transcript.log("filtered \(describe(filtered))")
            let fused = try await points.query(
                QueryRequest(
                    prefetch: [
                        QueryStage(query: .nearest(.dense(query)), limit: 8),
                        QueryStage(query: .nearest(.dense([0, 1, 0, 0.5])), limit: 8),
                    ], query: .fusion(.rrf()), limit: 5))
            transcript.log("rrf \(describe(fused))")
            let recommended = try await points.query(
                QueryRequest(
                    query: .recommend(positive: [.point(.number(3))], negative: [.point(.number(10))]), limit: 4,
                    withPayload: false))
            transcript.log("recommend \(describe(recommended))")
            let ordered = try await points.query(
                QueryRequest(query: .orderBy(OrderBy(key: "price", descending: true)), limit: 3))
            transcript.log("order_by \(describe(ordered))")
            let boosted = try await points.query(
                QueryRequest(
                    prefetch: [QueryStage(query: .nearest(.dense(query)), limit: 10)],
                    query: .formula(
                        Formula(
                            .sum([
                                .variable(.score(0)),
                                .mult([.constant(0.01), .variable(try FormulaVariable(parsing: "price"))]),
                                .condition(
                                    .field(
                                        FieldCondition(
                                            key: try PayloadPath("category"), .match(.value(.keyword("blue")))))),
                            ]))), limit: 4))
            transcript.log("formula \(describe(boosted))")
            let sampled = try await points.query(QueryRequest(query: .sampleRandom, limit: 3))
            #expect(sampled.count == 3)
            transcript.log("sample \(sampled.count)")
            let wrongDimension = await errorCode {
                _ = try await points.search(
                    [1, 2], using: "", limit: 3, params: SearchParams(), filter: nil, scoreThreshold: nil,
                    withPayload: false, withVector: false)
            }
            #expect(wrongDimension == .invalidArgument)
            transcript.log("wrong dimension \(String(describing: wrongDimension))")
            let unknownVector = await errorCode {
                _ = try await points.search(
                    query, using: "image", limit: 3, params: SearchParams(), filter: nil, scoreThreshold: nil,
                    withPayload: false, withVector: false)
            }
            #expect(unknownVector == .invalidArgument)
            transcript.log("unknown vector \(String(describing: unknownVector))")
        }
    }

    @Test func namedAndSparseVectorsRoundTripAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let config = CollectionConfig(
                vectors: [
                    "text": VectorParams(size: 3, distance: .dot), "image": VectorParams(size: 2, distance: .euclid),
                ], sparseVectors: ["keywords": SparseVectorParams(modifier: .none)])
            let points = try await store.createCollection("named", config: config)
            _ = try await points.upsert(
                (1...6).map { (i: UInt64) in
                    PointStruct(
                        id: .number(i), vectors: ["text": [Float(i), 1, 0], "image": [Float(i) / 2, 0]],
                        payload: ["i": .int(Int64(i))],
                        sparseVectors: ["keywords": SparseVector(indices: [UInt32(i), 100], values: [1, Float(i)])])
                })
            for record in try await points.retrieve([.number(2)], withPayload: false, withVector: true) {
                transcript.log("retrieve \(describe(record))")
            }
            let byImage = try await points.search(
                [1, 0], using: "image", limit: 3, params: SearchParams(), filter: nil, scoreThreshold: nil,
                withPayload: false, withVector: false)
            transcript.log("image \(describe(byImage))")
            let sparse = try await points.query(
                QueryRequest(
                    query: .nearest(.sparse(SparseVector(indices: [3, 100], values: [2, 0.5]))), using: "keywords",
                    limit: 3))
            transcript.log("sparse \(describe(sparse))")
            let missingName = await errorCode {
                _ = try await points.upsert([PointStruct(id: 9, vectors: ["audio": [1]])])
            }
            #expect(missingName == .invalidArgument)
            transcript.log("unknown vector name \(String(describing: missingName))")
            transcript.log("count \(try await points.count(filter: nil, exact: true))")
        }
    }

    @Test func multivectorsRoundTripAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let config = CollectionConfig(
                vectors: ["colbert": VectorParams(size: 2, distance: .dot, multivectorConfig: MultiVectorConfig())])
            _ = try await store.createCollection("late", config: config)
            // Opened again by name: the handle learns the row size from the server.
            let points = try await store.collection("late")
            _ = try await points.upsert(
                (1...4).map { (i: UInt64) in
                    PointStruct(id: .number(i), vectors: ["colbert": [Float(i), 0, 0, Float(i), 1, 1]])
                })
            for record in try await points.retrieve([.number(2)], withPayload: false, withVector: true) {
                transcript.log("retrieve \(describe(record))")
            }
            let hits = try await points.query(
                QueryRequest(query: .nearest(.multi([[1, 0], [0, 1]])), using: "colbert", limit: 3))
            transcript.log("max_sim \(describe(hits))")
        }
    }

    @Test func snapshotsAreTakenListedAndDeletedAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let points = try await store.createCollection("saved", config: CollectionConfig(size: 4, distance: .dot))
            _ = try await points.upsert(circlePoints())
            let first = try await store.createSnapshot(of: "saved")
            #expect(first.size > 0)
            transcript.log(
                "snapshot of \(String(describing: first.collection)) named like \(first.name.hasPrefix("saved-"))")
            let listed = try await store.snapshots(of: "saved")
            #expect(listed.map(\.name) == [first.name])
            transcript.log("listed \(listed.count)")
            try await store.deleteSnapshot(named: first.name, collection: "saved")
            transcript.log("after delete \(try await store.snapshots(of: "saved").count)")
            let missing = await errorCode { try await store.deleteSnapshot(named: first.name, collection: "saved") }
            #expect(missing == .notFound)
            transcript.log("deleted twice \(String(describing: missing))")
            let unknown = await errorCode { _ = try await store.snapshots(of: "nope") }
            #expect(unknown == .notFound)
            transcript.log("unknown collection \(String(describing: unknown))")
        }
    }

    @Test func operationsOnAMissingCollectionAreNotFoundAlike() async throws {
        try await bothBackendsAgree { store, transcript in
            let points = try await store.createCollection("gone", config: CollectionConfig(size: 2, distance: .dot))
            try await store.deleteCollection("gone")
            let codes = [
                await errorCode { _ = try await points.upsert([point(1, [1, 2])]) },
                await errorCode { _ = try await points.count(filter: nil, exact: true) },
                await errorCode { _ = try await points.retrieve([1], withPayload: true, withVector: false) },
            ]
            transcript.log("codes \(codes.map { String(describing: $0) })")
        }
    }

    /// The server's own errors: credentials. The embedded store has none.
    @Test(arguments: ["rest", "grpc"]) func aServerRefusesMissingAndReadOnlyCredentials(
        _ transport: String
    ) async throws {
        let server = try await ServerProcess()
        let chosen: StrataClient.Configuration.Transport = transport == "grpc" ? .grpc(port: server.grpcPort) : .rest
        let admin = try StrataClient(
            url: server.url, configuration: .init(transport: chosen, apiKey: ServerProcess.apiKey))
        let anonymous = try StrataClient(url: server.url, configuration: .init(transport: chosen))
        let reader = try StrataClient(
            url: server.url, configuration: .init(transport: chosen, apiKey: ServerProcess.readOnlyKey))
        do {
            _ = try await admin.createCollection("guarded", config: CollectionConfig(size: 2, distance: .dot))
            #expect(await errorCode { _ = try await anonymous.collectionNames() } == .permissionDenied)
            let readable = try await reader.collection("guarded")
            #expect(try await readable.count(filter: nil, exact: true) == 0)
            #expect(await errorCode { _ = try await readable.upsert([point(1, [1, 2])]) } == .permissionDenied)
            #expect(await errorCode { try await reader.deleteCollection("guarded") } == .permissionDenied)
            #expect(try await admin.collectionNames() == ["guarded"])
        } catch {
            Issue.record(error)
        }
        for client in [admin, anonymous, reader] { try? await client.shutdown() }
        await server.stop()
    }

    /// A JWT (HS256, signed with the server's API key) as the bearer token:
    /// a token for one collection reads and writes it and nothing else.
    @Test(arguments: ["rest", "grpc"]) func aBearerTokenGrantsWhatItSays(_ transport: String) async throws {
        let server = try await ServerProcess()
        let chosen: StrataClient.Configuration.Transport = transport == "grpc" ? .grpc(port: server.grpcPort) : .rest
        let admin = try StrataClient(
            url: server.url, configuration: .init(transport: chosen, apiKey: ServerProcess.apiKey))
        let token = Self.jwt(["access": [["collection": "mine", "access": "rw"]]], secret: ServerProcess.apiKey)
        let scoped = try StrataClient(url: server.url, configuration: .init(transport: chosen, bearerToken: token))
        do {
            _ = try await admin.createCollection("mine", config: CollectionConfig(size: 2, distance: .dot))
            _ = try await admin.createCollection("theirs", config: CollectionConfig(size: 2, distance: .dot))
            let mine = try await scoped.collection("mine")
            _ = try await mine.upsert([point(1, [1, 0])])
            #expect(try await mine.count(filter: nil, exact: true) == 1)
            #expect(await errorCode { _ = try await scoped.collection("theirs") } == .permissionDenied)
            #expect(await errorCode { try await scoped.deleteCollection("mine") } == .permissionDenied)
        } catch {
            Issue.record(error)
        }
        try? await admin.shutdown()
        try? await scoped.shutdown()
        await server.stop()
    }

    /// An HS256 JWT with `claims`, signed with `secret`.
    static func jwt(_ claims: [String: Any], secret: String) -> String {
        func base64URL(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let body = base64URL((try? JSONSerialization.data(withJSONObject: claims)) ?? Data())
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data("\(header).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(body).\(base64URL(Data(signature)))"
    }

    /// An id of 2^63 or more is never rounded into another id. Written over
    /// REST (as decimal text) it is stored exactly: gRPC reads it back. REST
    /// cannot read it back yet (JSONValue has no unsigned 64-bit case): that
    /// is a clear error, not a different id.
    @Test func hugeIdsAreNeverRounded() async throws {
        let server = try await ServerProcess()
        let rest = try StrataClient(url: server.url, configuration: .init(apiKey: ServerProcess.apiKey))
        let grpc = try StrataClient(
            url: server.url, configuration: .init(transport: .grpc(port: server.grpcPort), apiKey: ServerProcess.apiKey)
        )
        do {
            let written = try await rest.createCollection("ids", config: CollectionConfig(size: 2, distance: .dot))
            // Between 2^63 and 2^64: a double rounds it to 2^63 (UInt64.max - 2 would be out of a
            // double's range anyway, so it would not show the rounding).
            let huge = PointID.number((1 << 63) + 3)
            _ = try await written.upsert([PointStruct(id: huge, vector: [1, 0])])
            let read = try await grpc.collection("ids")
            #expect(try await read.retrieve([huge], withPayload: false, withVector: false).map(\.id) == [huge])
            #expect(try await read.search([1, 0], limit: 1).map(\.id) == [huge])
            #expect(await errorCode { _ = try await written.search([1, 0], limit: 1) } == .io)
        } catch {
            Issue.record(error)
        }
        try? await rest.shutdown()
        try? await grpc.shutdown()
        await server.stop()
    }

    /// A server with TLS (a self-signed certificate made by openssl): both
    /// transports connect when they trust the certificate, and refuse to
    /// when they do not.
    @Test(arguments: ["rest", "grpc"]) func tlsIsUsedAndVerified(_ transport: String) async throws {
        let directory = NSTemporaryDirectory() + "strata-client-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days",
            "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        await ServerProcess.offThePool { openssl.waitUntilExit() }
        try #require(openssl.terminationStatus == 0, "openssl could not make a test certificate")

        let server = try await ServerProcess(tls: (certificate, key))
        let chosen: StrataClient.Configuration.Transport = transport == "grpc" ? .grpc(port: server.grpcPort) : .rest
        let trusting = try StrataClient(
            url: server.url,
            configuration: .init(
                transport: chosen, apiKey: ServerProcess.apiKey, certificateAuthorityFile: certificate))
        let doubting = try StrataClient(
            url: server.url,
            configuration: .init(
                transport: chosen, apiKey: ServerProcess.apiKey, timeout: .seconds(5), connectTimeout: .seconds(2),
                retries: 0))
        do {
            let secured = try await trusting.createCollection(
                "secured", config: CollectionConfig(size: 2, distance: .dot))
            _ = try await secured.upsert([point(1, [1, 0]), point(2, [0, 1])])
            let hits = try await secured.search([1, 0], limit: 1)
            #expect(hits.map(\.id) == [.number(1)])
            // The same server reached by its address: the certificate names 127.0.0.1 too.
            let byAddress = try StrataClient(
                url: server.url.replacingOccurrences(of: "localhost", with: "127.0.0.1"),
                configuration: .init(
                    transport: chosen, apiKey: ServerProcess.apiKey, certificateAuthorityFile: certificate))
            let names: [String]
            do {
                names = try await byAddress.collectionNames()
            } catch {
                try? await byAddress.shutdown()
                throw error
            }
            try await byAddress.shutdown()
            #expect(names == ["secured"])
            let refused = await errorCode { _ = try await doubting.collectionNames() }
            #expect(
                refused != nil && refused != .permissionDenied,
                "a client that does not trust the certificate got \(String(describing: refused))")
        } catch {
            Issue.record(error)
        }
        try? await trusting.shutdown()
        try? await doubting.shutdown()
        await server.stop()
    }

    /// A server that is not there: `.unavailable` after the retries, quickly.
    @Test(arguments: ["rest", "grpc"]) func anUnreachableServerIsUnavailable(_ transport: String) async throws {
        let port = try ServerProcess.freePort()
        let client = try StrataClient(
            url: "http://127.0.0.1:\(port)",
            configuration: .init(
                transport: transport == "grpc" ? .grpc(port: port) : .rest, timeout: .seconds(2),
                connectTimeout: .milliseconds(300), retries: 2, retryPause: .milliseconds(10)))
        let code = await errorCode { _ = try await client.collectionNames() }
        try await client.shutdown()
        #expect(code == .unavailable)
        #expect(await errorCode { _ = try StrataClient(url: "ftp://example") } == .invalidArgument)
    }
}
