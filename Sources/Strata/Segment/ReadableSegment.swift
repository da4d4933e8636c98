import StrataPayload
import StrataSegment
import StrataVectorMath

// The read side of a segment: what the mutable segment, a frozen segment and
// an immutable segment all answer, so that a collection-level read is one loop
// over the segment set plus one merge (as Qdrant reads through `SegmentEntry`
// and LevelDB merges memtables and tables through one iterator interface).
//
// Invariants every conforming segment keeps:
// - Answers name points by id and version, never by segment-local position, so
//   answers of different segments (and, later, of remote shards) merge by value.
// - Only live points are answered: deleted points, free slots and points a
//   newer segment superseded never appear.
// - A filter is evaluated by the segment itself against its own payloads and
//   field indexes; callers pass the filter, not a precomputed bitset.
// - Hits are ordered best first, ties by ascending id, and a segment returns
//   at most the limit asked for: a merge of the per-segment answers by the same
//   order, truncated to the limit, is the answer over the union.
//
// Thread safety: callers hold the owning store's lock shared (a read view) for
// the whole call; a segment's answer is computed synchronously. A remote shard
// answers the same requests behind an async layer.

/// One scored point found in one segment.
struct SegmentHit: Sendable {
    let id: PointID
    let version: UInt64
    let score: Float
}

/// What every segment read needs from the collection.
struct SegmentReadContext {
    /// The payload field indexes of the collection (the mutable and frozen
    /// segments build theirs from it; immutable segments carry their own).
    let payloadSchema: [PayloadPath: PayloadFieldSchema]
    /// Tokenizers of the full-text indexed fields.
    let filterSettings: FilterSettings

    init(payloadSchema: [PayloadPath: PayloadFieldSchema]) {
        self.payloadSchema = payloadSchema
        var tokenizers: [PayloadPath: TextTokenizer] = [:]
        for (key, schema) in payloadSchema where schema.type == .text { tokenizers[key] = schema.textTokenizer }
        filterSettings = FilterSettings(tokenizers: tokenizers)
    }
}

/// A nearest-neighbour search of one dense vector (or multivector), as each
/// segment receives it. The query is validated and prepared (normalised for
/// Cosine) by the caller.
struct SegmentSearchRequest {
    /// The query vector (a multivector: its rows back to back).
    var query: [Float]
    /// The vector name searched.
    var vector: String
    var distance: Distance
    var limit: Int
    var params: SearchParams
    /// `hnsw_ef` when `params` has none: the collection's `ef_construct`.
    var defaultEf: Int
    /// Below this many bytes of matching vectors a segment scores the matches
    /// exactly instead of walking its graph (Qdrant's `full_scan_threshold`).
    var fullScanBytes: Int
    var filter: Filter?
}

/// An exact sparse search (dot product) of one sparse vector.
struct SparseSearchRequest {
    /// Canonical (sorted, unique indices), weights already multiplied by IDF
    /// when the vector has that modifier.
    var query: SparseVector
    var vector: String
    var limit: Int
    /// With a filter matching at most this many points, a segment scores the
    /// matches from their stored vectors instead of walking the inverted index.
    var fullScanThreshold: Int
    var filter: Filter?
}

/// Per sparse vector name: how many live points have it, and per term how
/// many of them hold the term (the statistics of the `idf` modifier).
struct SparseStatistics {
    var points: Int
    var documentFrequencies: [Int]

    static func zero(terms: Int) -> SparseStatistics {
        SparseStatistics(points: 0, documentFrequencies: Array(repeating: 0, count: terms))
    }

    /// Counts `vector` as one point more (`delta` 1) or less (-1): the
    /// points, and each of `terms` (ascending) that the vector holds.
    mutating func count(_ vector: SparseVector, terms: [UInt32], as delta: Int) {
        points += delta
        var i = 0, j = 0
        while i < terms.count && j < vector.indices.count {
            if terms[i] == vector.indices[j] {
                documentFrequencies[i] += delta
                i += 1
                j += 1
            } else if terms[i] < vector.indices[j] {
                i += 1
            } else {
                j += 1
            }
        }
    }

    mutating func add(_ other: SparseStatistics) {
        points += other.points
        for i in documentFrequencies.indices { documentFrequencies[i] += other.documentFrequencies[i] }
    }
}

/// The read protocol of a segment (see the invariants at the top of this file).
/// Every method may throw `SegmentError` when a checksummed part of an
/// immutable segment it must read is damaged; the collection names itself and
/// reports it as corruption.
protocol ReadableSegment: AnyObject {
    /// How many live points the segment holds.
    var liveCount: Int { get }

    /// The best `request.limit` live points matching `request.filter` by the
    /// dense vector (or multivector) `request.vector`.
    func search(_ request: SegmentSearchRequest, context: SegmentReadContext) throws -> [SegmentHit]

    /// The best `request.limit` live points by sparse dot product; points
    /// scoring 0 are left out.
    func sparseSearch(_ request: SparseSearchRequest, context: SegmentReadContext) throws -> [SegmentHit]

    /// `SparseStatistics` of sparse vector `name` for `terms` (ascending),
    /// over the live points matching `corpus` (all of them without one).
    func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter?, context: SegmentReadContext
    ) throws
        -> SparseStatistics

    /// The best `limit` live points matching `filter` that have dense vector
    /// `name`, scored by `score` over the stored vector (a multivector: its
    /// rows back to back); higher is better; NaN scores are left out.
    func scoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (UnsafeBufferPointer<Float>) -> Float
    ) throws -> [SegmentHit]

    /// As `scoredScan`, over sparse vector `name`.
    func sparseScoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (SparseVector) -> Float
    ) throws -> [SegmentHit]

    /// The ids of the live points matching `filter`, unordered.
    func matchingIDs(_ filter: Filter, context: SegmentReadContext) throws -> [PointID]

    /// Live points matching `filter` (all without one). Not `exact`: an
    /// estimate from index value counts where the segment has indexes.
    func count(_ filter: Filter?, exact: Bool, context: SegmentReadContext) throws -> Int

    /// The smallest `limit` ids ≥ `start` of live points matching `filter`, ascending.
    func scroll(from start: PointID?, filter: Filter?, limit: Int, context: SegmentReadContext) throws -> [PointID]

    /// The live point `id`, if the segment holds it.
    func record(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record?

    /// Per value of the indexed field `key`, how many live points matching
    /// `filter` hold it.
    func facetCounts(
        _ key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, context: SegmentReadContext
    ) throws
        -> [IndexKey: Int]

    /// (id, value) of the live points matching `filter` by the indexed numeric
    /// field `key`: a point once per distinct value it holds, as Qdrant.
    func ordered(
        by key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, descending: Bool,
        context: SegmentReadContext
    ) throws -> [(id: PointID, value: Double)]
}

extension SegmentHit {
    /// Best first by `higherIsBetter`, ties by ascending id: the order of every
    /// segment answer and of their merge.
    static func order(higherIsBetter: Bool) -> (SegmentHit, SegmentHit) -> Bool {
        if higherIsBetter {
            return { (a: SegmentHit, b: SegmentHit) -> Bool in a.score != b.score ? a.score > b.score : a.id < b.id }
        }
        return { (a: SegmentHit, b: SegmentHit) -> Bool in a.score != b.score ? a.score < b.score : a.id < b.id }
    }
}

extension Array where Element == SegmentHit {
    /// The first `limit` hits by `SegmentHit.order` (a segment's answer from
    /// an unordered candidate list).
    func best(_ limit: Int, higherIsBetter: Bool = true) -> [SegmentHit] {
        Array(sorted(by: SegmentHit.order(higherIsBetter: higherIsBetter)).prefix(Swift.max(limit, 0)))
    }
}
