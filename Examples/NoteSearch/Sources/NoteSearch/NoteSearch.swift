import Foundation
import Strata
import StrataClient
import StrataText

/// `note-search`: index a folder of text files and search it by BM25 (sparse
/// vectors from Strata's encoder), optionally by dense vectors given in a file.
///
/// Everything below `main` is written against `VectorStore` and
/// `VectorCollection`; `--data DIR` runs it on the embedded engine, `--server URL`
/// on a server, with no other difference.
@main
struct NoteSearch {
    static let usage = """
        usage: note-search [--data DIR | --server URL [--api-key KEY] [--grpc PORT]] COMMAND
          index FOLDER [--vectors FILE]   index every .txt and .md file of FOLDER (again: replaces)
          search TEXT [--limit N]         the notes that best match TEXT (BM25)
          similar NAME [--limit N]        the notes nearest to note NAME by its dense vector (needs --vectors)
          count                           how many notes are indexed
        --grpc PORT: talk to the server over Qdrant's gRPC API on PORT instead of REST
        --vectors FILE: a JSON object {"file name": [numbers], ...}, one vector per note, all the same size
        """

    static func main() async {
        do {
            var arguments = Array(CommandLine.arguments.dropFirst())
            let dataDirectory = take("--data", from: &arguments)
            let server = take("--server", from: &arguments)
            let apiKey = take("--api-key", from: &arguments) ?? ProcessInfo.processInfo.environment["STRATA_API_KEY"]
            let grpcPort = take("--grpc", from: &arguments)
            guard let command = arguments.first else { throw UsageError(usage) }
            arguments.removeFirst()
            if let server {
                var configuration = StrataClient.Configuration(apiKey: apiKey)
                if let grpcPort {
                    guard let port = Int(grpcPort) else { throw UsageError("--grpc takes a port number") }
                    configuration.transport = .grpc(port: port)
                }
                let client = try StrataClient(url: server, configuration: configuration)
                do {
                    try await run(command, arguments, on: client)
                    try await client.shutdown()
                } catch {
                    try? await client.shutdown()
                    throw error
                }
            } else {
                let database = try Database.open(at: dataDirectory ?? "./note-search-data")
                defer { database.close() }
                try await run(command, arguments, on: database)
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            exit(2)
        } catch {
            FileHandle.standardError.write(Data("note-search: \(error)\n".utf8))
            exit(1)
        }
    }

    /// The command, on whichever store: the only code that touches the data.
    static func run(_ command: String, _ arguments: [String], on store: some VectorStore) async throws {
        var arguments = arguments
        let limit = Int(take("--limit", from: &arguments) ?? "5") ?? 5
        let vectorsFile = take("--vectors", from: &arguments)
        let notes = Notes(encoder: try BM25Encoder(averageLength: 64, stopwords: ["the", "a", "an", "of", "and"]))
        switch (command, arguments.count) {
        case ("index", 1):
            let vectors = try vectorsFile.map(Notes.readVectors) ?? [:]
            let count = try await notes.index(folder: arguments[0], vectors: vectors, into: store)
            print("indexed \(count) notes")
        case ("search", 1):
            for hit in try await notes.search(arguments[0], limit: limit, in: store) {
                print(String(format: "%.3f  %@", hit.score, hit.name))
            }
        case ("similar", 1):
            for hit in try await notes.similar(to: arguments[0], limit: limit, in: store) {
                print(String(format: "%.3f  %@", hit.score, hit.name))
            }
        case ("count", 0):
            print(try await store.collection(Notes.collection).count(filter: nil, exact: true))
        default:
            throw UsageError(usage)
        }
    }

    /// Removes `--name VALUE` from `arguments` and returns VALUE.
    static func take(_ name: String, from arguments: inout [String]) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        let value = arguments[index + 1]
        arguments.removeSubrange(index...index + 1)
        return value
    }
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The notes collection: one point per file, the file's BM25 sparse vector
/// under "text", its dense vector (when given) under "dense", and its name,
/// title and size as payload.
struct Notes {
    static let collection = "notes"
    let encoder: BM25Encoder

    /// Reads every .txt and .md file of `folder` and writes them as points,
    /// replacing the collection. Returns how many were indexed.
    func index(folder: String, vectors: [String: [Float]], into store: some VectorStore) async throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".txt") || $0.hasSuffix(".md") }.sorted()
        guard !names.isEmpty else { throw UsageError("no .txt or .md files in \(folder)") }
        var config = CollectionConfig(
            vectors: [:], sparseVectors: ["text": SparseVectorParams(modifier: .idf)])
        if let size = vectors.values.first?.count {
            guard vectors.values.allSatisfy({ $0.count == size }) else {
                throw UsageError("every vector of --vectors must have the same size")
            }
            config.vectors["dense"] = VectorParams(size: size, distance: .cosine)
        }
        if try await store.collectionNames().contains(Self.collection) {
            try await store.deleteCollection(Self.collection)
        }
        let collection = try await store.createCollection(Self.collection, config: config)
        var points: [PointStruct] = []
        for (number, name) in names.enumerated() {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            let title = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? name
            var point = PointStruct(
                id: .number(UInt64(number + 1)), vectors: [:],
                payload: ["name": .string(name), "title": .string(title), "bytes": .int(Int64(text.utf8.count))],
                sparseVectors: ["text": encoder.document(text)])
            if let vector = vectors[name] { point.vectors["dense"] = vector }
            points.append(point)
        }
        _ = try await collection.upsert(points)
        return try await collection.count(filter: nil, exact: true)
    }

    /// The notes best matching `text` by BM25, best first.
    func search(_ text: String, limit: Int, in store: some VectorStore) async throws -> [(name: String, score: Float)] {
        let collection = try await store.collection(Self.collection)
        let hits = try await collection.query(
            QueryRequest(query: .nearest(.sparse(encoder.query(text))), using: "text", limit: limit, withPayload: true))
        return hits.map { (Self.name(of: $0), $0.score) }
    }

    /// The notes nearest to note `name` by their dense vectors, best first.
    func similar(to name: String, limit: Int, in store: some VectorStore) async throws -> [(name: String, score: Float)]
    {
        let collection = try await store.collection(Self.collection)
        let byName = Filter(must: [.field(FieldCondition(key: try PayloadPath("name"), .match(.value(.keyword(name)))))])
        let found = try await collection.scroll(offset: nil, limit: 1, filter: byName, withPayload: false, withVector: false)
        guard let id = found.points.first?.id else { throw UsageError("no note named \(name)") }
        let hits = try await collection.query(
            QueryRequest(
                query: .nearest(.point(id)), using: "dense",
                filter: Filter(mustNot: [.hasID([id])]), limit: limit, withPayload: true))
        return hits.map { (Self.name(of: $0), $0.score) }
    }

    static func name(of hit: ScoredPoint) -> String {
        if case .string(let name)? = hit.payload?["name"] { return name }
        return "\(hit.id)"
    }

    /// `--vectors FILE`: a JSON object of file name → numbers.
    static func readVectors(_ path: String) throws -> [String: [Float]] {
        try JSONDecoder().decode([String: [Float]].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
