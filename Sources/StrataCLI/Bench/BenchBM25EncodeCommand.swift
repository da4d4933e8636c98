import ArgumentParser
import Foundation
import Strata
import StrataText

/// `strata bench bm25-encode`: turns a text corpus written by
/// Benchmarks/bm25_corpus.py (passages.jsonl, queries.jsonl) into the CSR files
/// `strata bench sparse` and Benchmarks/sparse_peer.py read, with Strata's
/// `BM25Encoder` — document side for passages, query side (weight 1 per
/// distinct token) for queries — so both engines index identical vectors.
/// Adds `"modifier": "idf"` and the encoding's statistics to meta.json: the
/// engines apply IDF at query time (Qdrant's formula), and
/// Benchmarks/bm25_ground_truth.py computes the exact top-10 the same way.
struct BenchBM25EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bm25-encode",
        abstract: "Encode a text corpus (Benchmarks/bm25_corpus.py) into BM25 sparse CSR files for `bench sparse`.")

    @Option(
        name: .long,
        help: "Corpus directory (passages.jsonl, queries.jsonl, meta.json); the CSR files are written there.")
    var corpus: String

    @Option(name: .customLong("avg-len"), help: "BM25 avg_len. Default: the corpus's mean token count per passage.")
    var averageLength: Double?

    @Option(name: .long, help: "BM25 k1.")
    var k: Double = 1.2

    @Option(name: .long, help: "BM25 b.")
    var b: Double = 0.75

    private struct Line: Decodable { var text: String }

    /// The `text` field of every line of a JSON-lines file, in order.
    /// Throws if the file is unreadable or a line is not an object with a string `text`.
    static func texts(_ path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        var texts: [String] = []
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            if end > start {
                do {
                    texts.append(try decoder.decode(Line.self, from: data[start..<end]).text)
                } catch {
                    throw ValidationError(
                        "\(path) line \(texts.count + 1): not a JSON object with a string \"text\" (\(error)); regenerate it with Benchmarks/bm25_corpus.py"
                    )
                }
            }
            start = end + 1
        }
        return texts
    }

    static func write<T>(_ values: [T], to path: String) throws {
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    /// Writes `name`.indptr (u64), .indices (u32), .values (f32), little-endian (this machine's order).
    static func writeCSR(_ rows: [SparseVector], named name: String, in directory: String) throws {
        var indptr: [UInt64] = [0]
        var indices: [UInt32] = []
        var values: [Float] = []
        indptr.reserveCapacity(rows.count + 1)
        for row in rows {
            indices += row.indices
            values += row.values
            indptr.append(UInt64(indices.count))
        }
        try write(indptr, to: joinedPath(directory, "\(name).indptr"))
        try write(indices, to: joinedPath(directory, "\(name).indices"))
        try write(values, to: joinedPath(directory, "\(name).values"))
    }

    func run() throws {
        let start = ContinuousClock.now
        let passages = try Self.texts(joinedPath(corpus, "passages.jsonl"))
        let queryTexts = try Self.texts(joinedPath(corpus, "queries.jsonl"))
        progress("read \(passages.count) passages, \(queryTexts.count) queries")
        let tokenizer = try BM25Encoder(k1: k, b: b)
        var totalTokens = 0
        if averageLength == nil {
            for text in passages { totalTokens += tokenizer.tokenize(text).count }
        }
        let avgLen = averageLength ?? Double(totalTokens) / Double(max(passages.count, 1))
        let encoder = try BM25Encoder(k1: k, b: b, averageLength: avgLen)
        let docs = passages.map { encoder.document($0) }
        let queries = queryTexts.map { encoder.query($0) }
        try Self.writeCSR(docs, named: "docs", in: corpus)
        try Self.writeCSR(queries, named: "queries", in: corpus)

        var documentFrequency: [UInt32: Int] = [:]
        for doc in docs { for term in doc.indices { documentFrequency[term, default: 0] += 1 } }
        let postings = docs.reduce(0) { $0 + $1.indices.count }
        let queryTerms = queries.reduce(0) { $0 + $1.indices.count }
        let metaPath = joinedPath(corpus, "meta.json")
        var meta =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metaPath))) as? [String: Any])
            ?? [:]
        meta["modifier"] = "idf"
        meta["encoder"] =
            [
                "model": BM25Encoder.modelName, "k": k, "b": b, "avg_len": avgLen, "lowercase": true,
                "stemmer": "none", "stopwords": "none",
            ] as [String: Any]
        meta["docs"] = docs.count
        meta["queries"] = queries.count
        meta["k"] = 10
        meta["vocab"] = documentFrequency.count
        meta["postings"] = postings
        meta["doc_nnz_mean"] = Double(postings) / Double(max(docs.count, 1))
        meta["query_nnz_mean"] = Double(queryTerms) / Double(max(queries.count, 1))
        meta["max_df"] = documentFrequency.values.max() ?? 0
        meta["empty_docs"] = docs.filter { $0.indices.isEmpty }.count
        meta["queries_with_unseen_terms"] =
            queries.filter { $0.indices.contains { documentFrequency[$0] == nil } }.count
        meta["encode_s"] = (seconds(ContinuousClock.now - start) * 10).rounded() / 10
        try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: metaPath))
        progress(
            "wrote docs.* (\(postings) postings, \(documentFrequency.count) terms, avg_len \(String(format: "%.2f", avgLen))) and queries.* in \(meta["encode_s"]!) s"
        )
    }
}

private func progress(_ message: String) {
    FileHandle.standardError.write(Data("[bench bm25-encode] \(message)\n".utf8))
}
