import Foundation

/// A data set in the TEXMEX layout that `shared/bench/gen_dataset.py` writes:
/// `base.fvecs`, `query.fvecs`, `gt.ivecs` (top-100 ids per query), `meta.json`,
/// and optionally `payload.jsonl`.
struct VectorDataset {
    let directory: String
    let dimension: Int
    /// Row-major base vectors, `count * dimension` floats.
    let base: [Float]
    let queries: [Float]
    let groundTruth: [[Int32]]
    /// "euclid", "cosine" (or "dot") as meta.json says.
    let metric: String

    var count: Int { base.count / dimension }
    var queryCount: Int { queries.count / dimension }

    static func load(_ directory: String, maxQueries: Int = .max) throws -> VectorDataset {
        let (base, dim) = try readVectors(joinedPath(directory, "base.fvecs"))
        let (queries, queryDim) = try readVectors(joinedPath(directory, "query.fvecs"))
        guard queryDim == dim else { throw DatasetError("query.fvecs has dimension \(queryDim), base.fvecs \(dim)") }
        var gt: [[Int32]] = []
        if FileManager.default.fileExists(atPath: joinedPath(directory, "gt.ivecs")) {
            let (raw, k) = try readVectors(joinedPath(directory, "gt.ivecs"))
            gt = stride(from: 0, to: raw.count, by: k).map { start in
                raw[start..<start + k].map { Int32(bitPattern: $0.bitPattern) }
            }
        }
        let metric = try metric(of: directory)
        let keptQueries = min(queries.count / dim, maxQueries)
        return VectorDataset(
            directory: directory, dimension: dim, base: base, queries: Array(queries.prefix(keptQueries * dim)),
            groundTruth: Array(gt.prefix(keptQueries)), metric: metric)
    }

    /// The metric meta.json names ("euclid" when it names none).
    static func metric(of directory: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: joinedPath(directory, "meta.json")),
            let meta = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let value = meta["metric"] as? String
        else { return "euclid" }
        return value
    }

    /// Reads an fvecs/ivecs file: per row a little-endian int32 dimension, then
    /// that many 4-byte values (returned as raw Float bit patterns).
    static func readVectors(_ path: String) throws -> ([Float], Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read \(path)") }
        guard data.count >= 4 else { throw DatasetError("\(path) is empty") }
        let dim = Int(data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
        guard dim > 0, data.count % ((dim + 1) * 4) == 0 else {
            throw DatasetError("\(path) is not a valid vecs file (dimension \(dim), \(data.count) bytes)")
        }
        let rows = data.count / ((dim + 1) * 4)
        var out = [Float](repeating: 0, count: rows * dim)
        data.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { dst in
                for row in 0..<rows {
                    let src = raw.baseAddress! + row * (dim + 1) * 4 + 4
                    (dst.baseAddress! + row * dim * 4).copyMemory(from: src, byteCount: dim * 4)
                }
            }
        }
        return (out, dim)
    }

    /// payload.jsonl lines, if present.
    func payloadLines() -> [String]? {
        guard let data = FileManager.default.contents(atPath: joinedPath(directory, "payload.jsonl")) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

struct DatasetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func joinedPath(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }
