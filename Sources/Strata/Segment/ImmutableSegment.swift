import StrataHNSW
import StrataIO
import StrataPayload
import StrataQuantization
import StrataSegment
import StrataVectorMath

/// An immutable segment in use by a collection: its mmap'd file and the
/// deletions made against it since it was written.
///
/// Thread safety: reachable only through the owning store's `State`, under
/// its lock: `tombstones`, `deletedBits`, `fieldIndexes`, `persistedGeneration`
/// and `persistedCount` change only with that lock held exclusively. `reader`,
/// `graphs` and the other `let`s never change, so the optimizer reads them
/// (to copy a segment it merges) without the lock.
final class ImmutableSegment {
    let id: UInt64
    let reader: SegmentReader
    /// Internal offset → op number of the operation that deleted (or superseded) it.
    private(set) var tombstones: [UInt32: UInt64]
    /// The same offsets as a bitset (bit i of word i/64), which graph search reads.
    private(set) var deletedBits: [UInt64]
    /// Per vector name, the HNSW graph stored in the segment (indexed segments only).
    let graphs: [String: HNSWGraph]
    /// Per vector name, the quantized codes, copied into RAM at open.
    let quantized: [String: QuantizedVectors]
    /// Generation of the tombstone file the durable manifest names (0 = none).
    var persistedGeneration: UInt64
    /// The highest generation ever written for this segment, published or not.
    /// A publish that failed after writing a generation may still have put a
    /// manifest naming it on disk (a failed directory fsync leaves that
    /// unknown), so that name is never written again with other contents.
    var highestWrittenGeneration: UInt64
    /// How many tombstones that file holds.
    var persistedCount: Int

    /// Per vector name, the offsets of points that lack it (usually none), so
    /// scans do not test a presence bit per row.
    let absentOffsets: [String: [Int]]
    /// The payload field indexes of the collection's schema: read from the
    /// segment's `payload_index` sections, or built from its payloads when the
    /// segment predates the index. Guarded by the owning store's lock.
    var fieldIndexes: [PayloadPath: FieldIndex] = [:]
    /// Per sparse vector name, its checked sections (views over the mapping).
    let sparse: [String: SparseSections]
    /// Per sparse vector name, how many points have it (deleted ones included).
    let sparsePresent: [String: Int]
    /// The vectors stored as multivectors (rows in `multivector[<name>]`
    /// sections, their aggregates in `vectors[<name>]`).
    let multiVectorNames: Set<String>
    /// Vector names whose sections in this file belong to an older incarnation
    /// of the name (removed, or removed and added again, after the segment was
    /// written; see `VectorNameHistory`). They are never read: to every caller
    /// the segment simply lacks these vectors.
    let hiddenVectors: Set<String>

    struct SparseSections {
        let vectors: SparseVectorsView
        let index: SparseIndexView
    }

    /// Opens the segment's vector and payload indexes. Throws `.corruption`
    /// naming the file when a graph or an index section fails its checks.
    init(
        id: UInt64, reader: SegmentReader, tombstones: [UInt32: UInt64] = [:], persistedGeneration: UInt64 = 0,
        config: CollectionConfig, payloadSchema: [PayloadPath: PayloadFieldSchema] = [:],
        hiddenVectors: Set<String> = []
    ) throws {
        self.id = id
        self.reader = reader
        self.hiddenVectors = hiddenVectors
        self.tombstones = tombstones
        self.persistedGeneration = persistedGeneration
        self.highestWrittenGeneration = persistedGeneration
        self.persistedCount = tombstones.count
        var bits = [UInt64](repeating: 0, count: (reader.pointCount + 63) / 64)
        for offset in tombstones.keys { bits[Int(offset) >> 6] |= 1 << UInt64(offset & 63) }
        deletedBits = bits
        var absent: [String: [Int]] = [:]
        var graphs: [String: HNSWGraph] = [:]
        var quantized: [String: QuantizedVectors] = [:]
        for spec in reader.vectorSpecs where !hiddenVectors.contains(spec.name) {
            absent[spec.name] = (0..<reader.pointCount).filter { !reader.hasVector(spec.name, at: $0) }
            if let image = reader.indexSection(.hnswGraph, vector: spec.name) {
                do {
                    graphs[spec.name] = try HNSWGraph(image: image, expectedNodeCount: reader.pointCount, owner: reader)
                } catch {
                    throw StrataError(
                        .corruption, "segment \(reader.path), section hnsw[\(spec.name)]: \(error.message)")
                }
            }
            if let bytes = reader.indexSection(.quantizedVectors, vector: spec.name) {
                guard let metric = config.vectors[spec.name]?.distance else {
                    throw StrataError(
                        .corruption,
                        "segment \(reader.path) has quantized[\(spec.name)] but the collection has no such vector")
                }
                do {
                    quantized[spec.name] = try QuantizedVectors.decode(
                        bytes, metric: metric, dimension: spec.dimension,
                        count: reader.pointCount)
                    // The codes now live in RAM; the file's copy need not stay resident too.
                    reader.releaseIndexSectionPages(.quantizedVectors, vector: spec.name)
                } catch {
                    throw StrataError(.corruption, "segment \(reader.path), section quantized[\(spec.name)]: \(error)")
                }
            }
        }
        absentOffsets = absent
        let stored = Set(reader.multiVectorNames).subtracting(hiddenVectors)
        for spec in reader.vectorSpecs
        where !hiddenVectors.contains(spec.name)
            && (config.vectors[spec.name]?.isMultiVector ?? false) != stored.contains(spec.name)
        {
            throw StrataError(
                .corruption,
                stored.contains(spec.name)
                    ? "segment \(reader.path) holds vector \"\(spec.name)\" as a multivector, but the collection's vector \"\(spec.name)\" is a plain vector"
                    : "segment \(reader.path) has no multivector[\(spec.name)] sections, but the collection's vector \"\(spec.name)\" is a multivector"
            )
        }
        multiVectorNames = stored
        var sparse: [String: SparseSections] = [:]
        var sparsePresent: [String: Int] = [:]
        for name in reader.sparseVectorNames where !hiddenVectors.contains(name) {
            do {
                if let (vectors, index) = try reader.sparseSections(name) {
                    sparse[name] = SparseSections(vectors: vectors, index: index)
                    sparsePresent[name] = vectors.presentCount
                }
            } catch {
                throw StrataError(.corruption, error.description, cause: error)
            }
        }
        self.sparse = sparse
        self.sparsePresent = sparsePresent
        // Indexed segments are read by graph walks: read-ahead around each
        // fault would fetch pages the walk never uses.
        if !graphs.isEmpty { reader.adviseRandomAccess() }
        self.graphs = graphs
        self.quantized = quantized
        for (key, schema) in payloadSchema {
            let section: UnsafeRawBufferPointer?
            do {
                section = try reader.fieldIndexSection(key.description)
            } catch {
                throw StrataError(.corruption, error.description, cause: error)
            }
            if let bytes = section {
                let index: FieldIndex
                do {
                    index = try FieldIndex.decode(bytes, key: key, pointCount: reader.pointCount)
                } catch {
                    throw StrataError(
                        .corruption, "segment \(reader.path), section payload_index[\(key)]: \(error.message)")
                }
                if index.schema == schema && !index.predatesUUIDForms {
                    fieldIndexes[key] = index
                    continue
                }
            }
            buildFieldIndex(key, schema: schema)
        }
    }

    /// Builds the index of `key` from the segment's payloads (an index created
    /// after the segment was written). If a payload block fails its checksum
    /// the segment gets no index for `key`: filters on it then read payloads
    /// and report the corruption instead of answering from a partial index.
    func buildFieldIndex(_ key: PayloadPath, schema: PayloadFieldSchema) {
        fieldIndexes[key] = try? FieldIndex.build(key: key, schema: schema, pointCount: reader.pointCount) { offset in
            try reader.payload(at: offset)
        }
    }

    /// Records that the point at `offset` was deleted or superseded by `opNum`.
    func tombstone(_ offset: UInt32, opNum: UInt64) {
        tombstones[offset] = opNum
        deletedBits[Int(offset) >> 6] |= 1 << UInt64(offset & 63)
    }

    var liveCount: Int { reader.pointCount - tombstones.count }

    /// The live offset of `id`, if the segment holds it and it is not deleted.
    func liveOffset(of id: PointID) -> Int? {
        guard let offset = reader.offset(of: id), tombstones[UInt32(offset)] == nil else { return nil }
        return offset
    }

    func record(at offset: Int, withPayload: Bool, withVector: Bool) throws -> Record {
        Record(
            id: reader.id(at: offset), version: reader.version(at: offset),
            payload: withPayload ? (try reader.payload(at: offset) ?? [:]) : nil,
            vectors: withVector ? vectors(at: offset) : nil,
            sparseVectors: withVector && !sparse.isEmpty ? sparseVectors(at: offset) : nil)
    }

    func sparseVectors(at offset: Int) -> [String: SparseVector] {
        var result: [String: SparseVector] = [:]
        for (name, sections) in sparse { if let vector = sections.vectors.vector(at: offset) { result[name] = vector } }
        return result
    }

    /// Live points with sparse vector `name` and, per term, how many hold it;
    /// with a `corpus`, only the live points matching it count.
    func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter?, context: SegmentReadContext
    ) throws
        -> SparseStatistics
    {
        guard let sections = sparse[name] else { return .zero(terms: terms.count) }
        if let corpus {
            var statistics = SparseStatistics.zero(terms: terms.count)
            try SegmentFilter.matching(corpus, in: self, settings: context.filterSettings).forEach { offset in
                if let vector = sections.vectors.vector(at: offset) { statistics.count(vector, terms: terms, as: 1) }
            }
            return statistics
        }
        var statistics = SparseStatistics(
            points: sparsePresent[name] ?? 0, documentFrequencies: terms.map { sections.index.postingCount($0) })
        // The index still lists deleted points: take them out again.
        for offset in tombstones.keys {
            guard let vector = sections.vectors.vector(at: Int(offset)) else { continue }
            statistics.count(vector, terms: terms, as: -1)
        }
        return statistics
    }

    func vectors(at offset: Int) -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for spec in reader.vectorSpecs
        where !hiddenVectors.contains(spec.name) && reader.hasVector(spec.name, at: offset) {
            result[spec.name] =
                multiVectorNames.contains(spec.name)
                ? reader.withMultiVectorRows(spec.name, at: offset) { rows, _ in Array(rows) }
                : reader.vector(spec.name, at: offset)
        }
        return result
    }

    /// The stored rows of vector `name` for `body`, or nil when the segment
    /// has no such (visible) vector section.
    func withVectorRows<T>(_ name: String, _ body: (VectorRows) throws -> T) rethrows -> T? {
        guard !hiddenVectors.contains(name) else { return nil }
        return try reader.withVectorRows(name, body)
    }

    /// Top-`request.limit` live points by the request's vector: through the
    /// segment's graph when it has one and the params allow, else by exact
    /// scan. With `allowed` (the points a filter matched, all live) the planner
    /// scores exactly the allowed points when their vectors take less than
    /// `request.fullScanBytes` (or the segment has no graph, or `params.exact`),
    /// and otherwise walks the graph returning only allowed points. Returns
    /// (offset, score) pairs, best first.
    func searchHits(_ request: SegmentSearchRequest, allowed: PointBitset?) -> [(offset: Int, score: Float)] {
        guard !hiddenVectors.contains(request.vector) else { return [] }
        if multiVectorNames.contains(request.vector) { return multiVectorHits(request, allowed: allowed) }
        return denseHits(request, allowed: allowed)
    }

    private func denseHits(_ request: SegmentSearchRequest, allowed: PointBitset?) -> [(offset: Int, score: Float)] {
        let name = request.vector, query = request.query, distance = request.distance, limit = request.limit
        let params = request.params
        if let allowed {
            let cardinality = allowed.cardinality
            guard cardinality > 0, limit > 0 else { return [] }
            let spec = reader.vectorSpecs.first { $0.name == name }
            let rowBytes = (spec?.dimension ?? 0) * (spec?.datatype.bytesPerElement ?? 4)
            if graphs[name] == nil || params.exact || cardinality * rowBytes < request.fullScanBytes {
                return exactHits(query: query, using: name, distance: distance, limit: limit, offsets: allowed)
            }
        }
        guard limit > 0, let graph = graphs[name], !params.exact else {
            return exactHits(query: query, using: name, distance: distance, limit: limit)
        }
        let ef = max(params.hnswEf ?? request.defaultEf, limit)
        // The graph walk skips results whose bit is set: deleted points, and
        // with a filter every point it did not match.
        let excludedBits = allowed.map { $0.inverted().words } ?? deletedBits
        let acorn = params.acorn ?? AcornSearchParams()
        let twoHop =
            allowed.map { acorn.enable && Double($0.cardinality) < acorn.maxSelectivity * Double(reader.pointCount) }
            ?? false
        let allowedWords = twoHop ? allowed!.words : []
        func walk<S: HNSWDistanceSource>(
            _ source: S, limit: Int, ef: Int, excluded: UnsafePointer<UInt64>
        ) -> [(node: UInt32, distance: Float)] {
            guard twoHop else { return graph.search(source, limit: limit, ef: ef, excluded: excluded) }
            return allowedWords.withUnsafeBufferPointer {
                graph.searchTwoHop(source, limit: limit, ef: ef, allowed: $0.baseAddress!)
            }
        }
        let hits: [(node: UInt32, distance: Float)]? = reader.withVectorRows(name) { rows in
            query.withUnsafeBufferPointer { q in
                excludedBits.withUnsafeBufferPointer { deleted in
                    let exact = StoredRowsDistance(
                        query: q.baseAddress!, rows: rows.base, dimension: rows.dimension, datatype: rows.datatype,
                        metric: distance)
                    guard let codes = quantized[name], !(params.quantization?.ignore ?? false) else {
                        return walk(exact, limit: limit, ef: ef, excluded: deleted.baseAddress!)
                    }
                    // Walk the graph with the codes in RAM, keeping `oversampling`
                    // times more candidates; then re-rank them by their full
                    // vectors (a few random reads of the mapping).
                    let oversampling = params.quantization?.oversampling ?? 1
                    let candidates = max(limit, Int((Double(limit) * oversampling).rounded(.up)))
                    // Codes of raw-cosine (uint8) rows encode their unit vectors.
                    var unitQuery = query
                    if rows.datatype == .uint8 && distance == .cosine { _ = VectorKernels.normalize(&unitQuery) }
                    let source = unitQuery.withUnsafeBufferPointer {
                        QuantizedDistance(codes: codes, query: codes.prepare(query: $0.baseAddress!))
                    }
                    let found = walk(source, limit: candidates, ef: max(ef, candidates), excluded: deleted.baseAddress!)
                    guard params.quantization?.rescore ?? true else { return Array(found.prefix(limit)) }
                    var nodes = found.map(\.node)
                    var exactDistances = [Float](repeating: 0, count: nodes.count)
                    exact.distances(&nodes, count: nodes.count, into: &exactDistances)
                    return zip(nodes, exactDistances).sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
                        .prefix(limit).map { (node: $0.0, distance: $0.1) }
                }
            }
        }
        return (hits ?? []).map { (offset: Int($0.node), score: distance.score(fromDistance: $0.distance)) }
    }

    /// `searchHits` for a multivector (`request.query`: its rows back to back).
    /// With a graph (and no reason to scan), the graph is walked with the
    /// query's aggregate for `max(limit, ef)` candidates, which are rescored by
    /// max_sim over their full rows; otherwise every candidate is scored by
    /// max_sim.
    private func multiVectorHits(
        _ request: SegmentSearchRequest, allowed: PointBitset?
    ) -> [(offset: Int, score: Float)] {
        let name = request.vector, distance = request.distance, limit = request.limit
        guard limit > 0, let spec = reader.vectorSpecs.first(where: { $0.name == name }) else { return [] }
        let dimension = spec.dimension
        let scanAll =
            graphs[name] == nil || request.params.exact
            || allowed.map { $0.cardinality * dimension * spec.datatype.bytesPerElement < request.fullScanBytes }
                ?? false
        var candidates: [Int]
        if scanAll {
            let absent = Set(absentOffsets[name] ?? [])
            let live = allowed ?? filterLivePoints()
            candidates = live.offsets.filter { !absent.contains($0) }
        } else {
            // The dense search over the aggregates: a graph walk for ef candidates.
            let ef = max(request.params.hnswEf ?? request.defaultEf, limit)
            var aggregate = request
            aggregate.query = request.query.withUnsafeBufferPointer {
                MaxSim.aggregate(rows: $0, dim: dimension, metric: distance)
            }
            aggregate.limit = ef
            aggregate.defaultEf = ef
            aggregate.params.exact = false
            aggregate.fullScanBytes = 0
            candidates = denseHits(aggregate, allowed: allowed).map(\.offset)
        }
        var selector = TopKSelector(k: limit, higherIsBetter: distance.higherIsBetter)
        var scratch: [Float] = []
        request.query.withUnsafeBufferPointer { q in
            for offset in candidates {
                _ = reader.withMultiVectorRows(name, at: offset) { rows, rowCount in
                    guard rowCount > 0 else { return }
                    selector.insert(
                        id: offset,
                        score: MaxSim.score(
                            metric: distance, query: q.baseAddress!, queryRows: q.count / dimension,
                            rows: rows.baseAddress!,
                            rowCount: rowCount, dim: dimension, scratch: &scratch))
                }
            }
        }
        return selector.sorted().map { (offset: $0.id, score: $0.score) }
    }

    /// Exact top-`limit` over the points in `offsets` (live ones) that have
    /// vector `name`: gathers their rows from the mapping in chunks.
    func exactHits(
        query: [Float], using name: String, distance: Distance, limit: Int, offsets: PointBitset
    )
        -> [(offset: Int, score: Float)]
    {
        guard !hiddenVectors.contains(name) else { return [] }
        // Points without this vector never rank (their rows are zeros).
        var nodes = offsets.offsets.map { UInt32($0) }
        if let absent = absentOffsets[name], !absent.isEmpty {
            let missing = Set(absent.map { UInt32($0) })
            nodes.removeAll { missing.contains($0) }
        }
        var distances = [Float](repeating: 0, count: nodes.count)
        let scored: Void? = reader.withVectorRows(name) { rows in
            query.withUnsafeBufferPointer { q in
                let source = StoredRowsDistance(
                    query: q.baseAddress!, rows: rows.base, dimension: rows.dimension, datatype: rows.datatype,
                    metric: distance)
                source.distances(&nodes, count: nodes.count, into: &distances)
            }
        }
        guard scored != nil else { return [] }
        var selector = TopKSelector(k: limit, higherIsBetter: false)
        for i in 0..<nodes.count { selector.insert(id: Int(nodes[i]), score: distances[i]) }
        return selector.sorted().map { (offset: $0.id, score: distance.score(fromDistance: $0.score)) }
    }

    /// Exact top-`limit` over the live points that have vector `name`, reading
    /// the vectors straight from the mapping. Returns (offset, score) pairs.
    func exactHits(query: [Float], using name: String, distance: Distance, limit: Int) -> [(offset: Int, score: Float)]
    {
        let count = reader.pointCount
        guard limit > 0, count > 0, !hiddenVectors.contains(name) else { return [] }
        var selector = TopKSelector(k: limit, higherIsBetter: distance.higherIsBetter)
        let chunk = 2048
        var scores = [Float](repeating: 0, count: chunk)
        let absent = absentOffsets[name] ?? []
        var nextAbsent = 0
        // Tombstoned offsets in order, so each chunk masks its own with a cursor.
        let deleted = tombstones.keys.map { Int($0) }.sorted()
        var nextDeleted = 0
        var nodes = [UInt32](repeating: 0, count: chunk)
        let found: Void? = reader.withVectorRows(name) { rows in
            let dim = rows.dimension
            query.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { out in
                    var start = 0
                    while start < count {
                        let n = min(chunk, count - start)
                        if rows.datatype == .float32 {
                            VectorKernels.scoreBatch(
                                metric: distance, query: q.baseAddress!,
                                base: rows.base.assumingMemoryBound(to: Float.self) + start * dim,
                                count: n, dim: dim, into: out.baseAddress!)
                        } else {
                            // Compact rows: the gather kernels widen each element.
                            for i in 0..<n { nodes[i] = UInt32(start + i) }
                            StoredRowsDistance(
                                query: q.baseAddress!, rows: rows.base, dimension: dim, datatype: rows.datatype,
                                metric: distance
                            ).distances(nodes, count: n, into: out.baseAddress!)
                            for i in 0..<n { out[i] = distance.score(fromDistance: out[i]) }
                        }
                        // Points without this vector and deleted points never rank:
                        // the selector ignores NaN scores.
                        while nextAbsent < absent.count && absent[nextAbsent] < start + n {
                            out[absent[nextAbsent] - start] = .nan
                            nextAbsent += 1
                        }
                        while nextDeleted < deleted.count && deleted[nextDeleted] < start + n {
                            out[deleted[nextDeleted] - start] = .nan
                            nextDeleted += 1
                        }
                        selector.insert(scores: UnsafeBufferPointer(start: out.baseAddress!, count: n), firstID: start)
                        start += n
                    }
                }
            }
        }
        guard found != nil else { return [] }
        return selector.sorted().map { (offset: $0.id, score: $0.score) }
    }
}

extension ImmutableSegment: FilterableSegment {
    var filterPointCount: Int { reader.pointCount }

    func filterLivePoints() -> PointBitset { PointBitset(count: reader.pointCount, words: deletedBits).inverted() }

    func filterIndex(for key: PayloadPath) -> FieldIndex? { fieldIndexes[key] }

    func filterOffsets(of ids: Set<PointID>) -> [Int] { ids.compactMap { reader.offset(of: $0) } }

    func filterHasVector(_ name: String, at offset: Int) -> Bool {
        if hiddenVectors.contains(name) { return false }
        if let sections = sparse[name] { return sections.vectors.hasVector(at: offset) }
        return reader.hasVector(name, at: offset)
    }

    func filterSubject(at offset: Int) throws -> FilterSubject {
        let reader = self.reader
        let sparse = self.sparse
        let hidden = hiddenVectors
        return FilterSubject(
            id: reader.id(at: offset), payload: try reader.payload(at: offset),
            hasVector: { name in
                if hidden.contains(name) { return false }
                if let sections = sparse[name] { return sections.vectors.hasVector(at: offset) }
                return reader.hasVector(name, at: offset)
            })
    }
}
