internal import CStrataKernels
import StrataVectorMath

// Scoring. Every distance is "lower is better" and approximates, for
// .dot/.cosine, −⟨q, x⟩; for .euclid, ‖q − x‖²; for .manhattan, Σ|q − x|
// (binary: ‖q − x‖², see docs/format/quantization.md). The algebra:
//
// Scalar int8 (symmetric: the query is quantized too, with its own scale):
//   x ≈ lo + α·u (u in 0...255),  q ≈ β·s (s in −127...127, β = max|q|/127)
//   ⟨q, x⟩ ≈ α·β·Σ u·s + lo·β·Σ s        scale = αβ, offset = lo·β·Σs
//   ‖q − x‖² = ‖q‖² + ‖x‖² − 2⟨q, x⟩       constant = ‖q‖², ‖x‖² stored per row
//   Σ|q − x| ≈ α·Σ|u_q − u| + Σ|q − clamp(q)|, u_q the query on the codes' grid
//
// Binary (centre c = per-dimension mean, x' = x − c, level ℓ in {−1, 1} or
// {−1, 0, 1}, w = σ·ℓ, f = ‖x'‖²/⟨x', w⟩ per row, so x' ≈ f·w):
//   q̃ = q for .dot/.cosine (⟨q, x⟩ = ⟨q, x'⟩ + ⟨q, c⟩), q̃ = q − c otherwise.
//   asymmetric: t = round(q̃·σ / a) in −127...127; K = Σ t·(number of set planes)
//     ⟨q̃, x'⟩ ≈ f·a·((2/planes)·K − Σt)         scale = 2a/planes, offset = −a·Σt
//   symmetric: the query gets levels ℓ_q and factor f_q like a row, and
//     ⟨q̃, x'⟩ ≈ f·f_q·mean(σ²)·Σ ℓ_q·ℓ          (1 bit: Σℓ_qℓ = d − 2·Hamming)
//   1.5 bits (paired upper plane Y, ℓᵢ = X1ᵢ·(1 + Y⌊i/2⌋) − 1): the kernel
//     rebuilds a full second plane Z = X1 AND Y⌊i/2⌋ per word, so K = Σ vᵢ·(X1ᵢ + Zᵢ)
//     and Σ vᵢℓᵢ = K − Σv, exactly as with 2 full planes (v = t or ℓ_q).
//   .dot/.cosine: −(⟨q̃, x'⟩ + ⟨q, c⟩);  .euclid/.manhattan: ‖q̃‖² + ‖x'‖² − 2⟨q̃, x'⟩
//
// Product: the query's lookup table holds, per sub-space and centroid, −⟨q_m, c⟩,
// ‖q_m − c‖² or Σ|q_m − c|, and a distance is the sum of one entry per sub-space.
extension QuantizedVectors {
    /// Bit planes of the asymmetric binary query (8-bit two's complement integers).
    static let asymmetricQueryPlanes = 8

    /// Prepares `query` (dimension floats) for scoring against these codes.
    /// Allocates the returned object; reuse it for all distances of one query.
    /// Complexity: O(dimension), or O(256·dimension) for product quantization.
    public func prepare(query: UnsafePointer<Float>) -> QuantizedQuery {
        let prepared: QuantizedQuery
        switch kind {
        case .scalar:
            prepared = QuantizedQuery(owner: ObjectIdentifier(self), byteCount: dimension, tableCount: 0)
        case .binary:
            prepared = QuantizedQuery(
                owner: ObjectIdentifier(self), byteCount: 8 * words * Self.asymmetricQueryPlanes, tableCount: 0)
        case .product:
            prepared = QuantizedQuery(owner: ObjectIdentifier(self), byteCount: 0, tableCount: 256 * subspaces)
        }
        update(prepared, query: query)
        return prepared
    }

    /// Re-targets `prepared` (made by this object's `prepare`) at a new `query`,
    /// without allocating.
    public func update(_ prepared: QuantizedQuery, query q: UnsafePointer<Float>) {
        precondition(prepared.owner == ObjectIdentifier(self), "query prepared by another QuantizedVectors")
        switch kind {
        case .scalar: prepareScalar(prepared, q)
        case .binary: prepareBinary(prepared, q)
        case .product: prepareProduct(prepared, q)
        }
    }

    private func prepareScalar(_ p: QuantizedQuery, _ q: UnsafePointer<Float>) {
        if metric == .manhattan {
            let grid = p.bytes.assumingMemoryBound(to: UInt8.self)
            let hi = lo + 255 * alpha
            var outside: Float = 0
            for i in 0..<dimension {
                let clamped = min(max(q[i], lo), hi)
                outside += abs(q[i] - clamped)
                // NaN (possible with a hostile but finite codebook) maps to 0, never traps.
                let level = ((clamped - lo) / alpha).rounded()
                grid[i] = level.isNaN ? 0 : UInt8(min(max(level, 0), 255))
            }
            p.scale = alpha
            p.constant = outside
            return
        }
        let values = p.bytes.assumingMemoryBound(to: Int8.self)
        var largest: Float = 0
        for i in 0..<dimension { largest = max(largest, abs(q[i])) }
        let beta: Float = largest > 0 ? largest / 127 : 1
        var sum = 0
        for i in 0..<dimension {
            let s = Int8(min(max((q[i] / beta).rounded(), -127), 127))
            values[i] = s
            sum += Int(s)
        }
        p.scale = alpha * beta
        p.offset = lo * beta * Float(sum)
        p.constant = metric == .euclid ? strata_dot_f32(q, q, dimension) : 0
    }

    private func prepareBinary(_ p: QuantizedQuery, _ q: UnsafePointer<Float>) {
        let mean = UnsafePointer(codebook), sigma = UnsafePointer(codebook + dimension)
        let centred = metric == .euclid || metric == .manhattan
        let planesOut = p.bytes.assumingMemoryBound(to: UInt64.self)
        planesOut.initialize(repeating: 0, count: words * Self.asymmetricQueryPlanes)
        // q̃ and the constant term.
        var normSquared: Float = 0, centreDot: Float = 0
        for i in 0..<dimension {
            let v = centred ? q[i] - mean[i] : q[i]
            normSquared += v * v
            centreDot += q[i] * mean[i]
        }
        p.constant = centred ? normSquared : centreDot
        guard case .binary(_, let asymmetric, let queryBits, _) = method else { return }
        if paired && !asymmetric {
            preparePairedSymmetric(p, q)
            return
        }
        if asymmetric {
            // Levels −L…L in `queryBits`-bit two's complement: L = 127 (8 bits) or 7 (4 bits).
            let top = Float((1 << (queryBits - 1)) - 1)
            var largest: Float = 0
            for i in 0..<dimension {
                let v = (centred ? q[i] - mean[i] : q[i]) * sigma[i]
                largest = max(largest, abs(v))
            }
            let a: Float = largest > 0 ? largest / top : 1
            let inverse = 1 / a
            var total = 0
            // One 64-dimension word at a time, all eight planes in one vector
            // register (no per-bit branches, no libm rounding call: this runs
            // once per query and segment, and at 1024-d it showed in profiles).
            let planeShifts = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7)
            for word in 0..<words {
                var planes = SIMD8<UInt64>(repeating: 0)
                for i in (word * 64)..<min(word * 64 + 64, dimension) {
                    let v = (centred ? q[i] - mean[i] : q[i]) * sigma[i] * inverse
                    // Clamp before converting: a codebook with huge (finite) values can
                    // make v infinite or NaN (found by VectorIndexFuzz); NaN counts as 0.
                    let clamped = v.isNaN ? 0 : min(max(v, -top), top)
                    let t = Int32(clamped + (clamped >= 0 ? 0.5 : -0.5))  // round half away from zero
                    total += Int(t)
                    let bits = SIMD8<UInt64>(repeating: UInt64(UInt8(bitPattern: Int8(t))))
                    planes |= ((bits &>> planeShifts) & 1) &<< UInt64(i & 63)
                }
                // The low `queryBits` planes are the level's two's complement at that width.
                for j in 0..<queryBits { planesOut[j * words + word] = planes[j] }
            }
            p.queryPlanes = queryBits
            p.usesHamming = false
            p.scale = 2 * a / Float(planes)
            p.offset = -a * Float(total)
            return
        }
        // Symmetric: encode q̃ like a row (its own planes), then re-express its levels.
        let (factor, _, _) = Self.binaryEncode(
            q, centre: centred ? mean : nil, sigma: sigma, dimension: dimension,
            planes: planes, words: words, into: planesOut)
        let weight = factor * meanVariance
        if planes == 1 {
            // Σ ℓ_q ℓ = d − 2·Hamming.
            p.usesHamming = true
            p.queryPlanes = 1
            p.scale = -2 * weight
            p.offset = weight * Float(dimension)
        } else {
            // Thermometer planes (X1, X2) → two's-complement planes of ℓ_q = X1 + X2 − 1:
            // plane 0 = (ℓ ≠ 0) = (X1 = X2), plane 1 = (ℓ = −1) = NOT X1 (within the dimension).
            var levelSum = 0
            for w in 0..<words {
                let x1 = planesOut[w], x2 = planesOut[words + w]
                let valid: UInt64 =
                    (w == words - 1 && dimension % 64 != 0) ? (UInt64(1) << UInt64(dimension % 64)) - 1 : ~0
                let notX1 = ~x1 & valid
                planesOut[w] = ~(x1 ^ x2) & valid
                planesOut[words + w] = notX1
                levelSum += x2.nonzeroBitCount - notX1.nonzeroBitCount
            }
            p.usesHamming = false
            p.queryPlanes = 2
            // Σ ℓ_q·ℓ = K − Σ ℓ_q, where K = Σ ℓ_q·(X1 + X2) is the kernel result.
            p.scale = weight
            p.offset = -weight * Float(levelSum)
        }
    }

    /// Symmetric query for 1.5-bit codes: encoded like a row, its levels ℓ_q
    /// (−1, 0, 1, read back as a row's are) in two two's-complement planes.
    private func preparePairedSymmetric(_ p: QuantizedQuery, _ q: UnsafePointer<Float>) {
        let mean = UnsafePointer(codebook), sigma = UnsafePointer(codebook + dimension)
        let centred = metric == .euclid || metric == .manhattan
        // The query's own 1.5-bit code goes to planes 2 and up of the query
        // buffer (8 planes, of which the kernel reads only the first 2 here),
        // so preparing a query allocates nothing.
        let out = p.bytes.assumingMemoryBound(to: UInt64.self)
        let scratch = out + 2 * words
        let (factor, _, _) = Self.binaryEncode(
            q, centre: centred ? mean : nil, sigma: sigma, dimension: dimension,
            planes: 2, words: words, upperWords: upperWords, into: scratch)
        var levelSum = 0
        for i in 0..<dimension {
            let level = Self.pairedLevel(UnsafePointer(scratch), UnsafePointer(scratch + words), i)
            levelSum += level
            let bit = UInt64(1) << UInt64(i & 63)
            // Two's complement of −1, 0, 1 in two planes: 1 = 01, −1 = 11.
            if level != 0 { out[i >> 6] |= bit }
            if level < 0 { out[words + (i >> 6)] |= bit }
        }
        let weight = factor * meanVariance
        p.usesHamming = false
        p.queryPlanes = 2
        // Σ ℓ_q·ℓ = K − Σ ℓ_q, where K = Σ ℓ_q·(X1 + Z) is the kernel result.
        p.scale = weight
        p.offset = -weight * Float(levelSum)
    }

    private func prepareProduct(_ p: QuantizedQuery, _ q: UnsafePointer<Float>) {
        let shape = Shape(method: method, metric: metric, dimension: dimension)
        for m in 0..<subspaces {
            let (offset, length) = shape.subspace(m, dimension: dimension)
            let centroids = codebook + 256 * offset
            let out = p.table + 256 * m
            switch metric {
            case .dot, .cosine:
                strata_dot_batch_f32(q + offset, centroids, 256, length, out)
                for c in 0..<256 { out[c] = -out[c] }
            case .euclid:
                strata_l2sq_batch_f32(q + offset, centroids, 256, length, out)
            case .manhattan:
                strata_l1_batch_f32(q + offset, centroids, 256, length, out)
            }
        }
    }

    // MARK: Scoring

    /// Approximate distance from the prepared query to `row` (lower is better;
    /// see the top of this file for what it approximates).
    /// Precondition: `row < count`; `query` was prepared by this object.
    /// Complexity: O(code bytes); allocates nothing.
    @inline(__always)
    public func distance(_ query: QuantizedQuery, to row: UInt32) -> Float {
        precondition(Int(row) < count, "row out of range")
        let code = UnsafeRawPointer(codes + Int(row) * codeStride)
        switch scoring {
        case .scalarDot:
            let k = kernels.pointee.dot_u8i8(
                code.assumingMemoryBound(to: UInt8.self),
                query.bytes.assumingMemoryBound(to: Int8.self), dimension)
            return -(query.scale * Float(k) + query.offset)
        case .scalarEuclid:
            let k = kernels.pointee.dot_u8i8(
                code.assumingMemoryBound(to: UInt8.self),
                query.bytes.assumingMemoryBound(to: Int8.self), dimension)
            return query.constant + corrections[Int(row)] - 2 * (query.scale * Float(k) + query.offset)
        case .scalarManhattan:
            let l1 = kernels.pointee.l1_u8(
                query.bytes.assumingMemoryBound(to: UInt8.self),
                code.assumingMemoryBound(to: UInt8.self), dimension)
            return query.scale * Float(l1) + query.constant
        case .binaryDot, .binaryEuclid:
            let k: Float
            if query.usesHamming {
                k = Float(
                    kernels.pointee.hamming(
                        query.bytes.assumingMemoryBound(to: UInt64.self),
                        code.assumingMemoryBound(to: UInt64.self), words))
            } else if paired {
                k = Float(
                    kernels.pointee.paired_bitplane_dot(
                        query.bytes.assumingMemoryBound(to: UInt64.self), query.queryPlanes,
                        code.assumingMemoryBound(to: UInt64.self), words))
            } else {
                k = Float(
                    kernels.pointee.bitplane_dot(
                        query.bytes.assumingMemoryBound(to: UInt64.self), query.queryPlanes,
                        code.assumingMemoryBound(to: UInt64.self), planes, words))
            }
            return binaryDistance(query, k, Int(row))
        case .product:
            return kernels.pointee.pq_lookup(query.table, code.assumingMemoryBound(to: UInt8.self), subspaces)
        }
    }

    @inline(__always)
    private func scalarDistance(_ query: QuantizedQuery, _ k: Float, _ row: Int) -> Float {
        let dot = query.scale * k + query.offset
        if scoring == .scalarEuclid { return query.constant + corrections[row] - 2 * dot }
        return -dot
    }

    @inline(__always)
    private func binaryDistance(_ query: QuantizedQuery, _ k: Float, _ row: Int) -> Float {
        let correction = corrections + 2 * row
        let estimate = correction[0] * (query.scale * k + query.offset)
        if scoring == .binaryEuclid { return query.constant + correction[1] - 2 * estimate }
        return -(estimate + query.constant)
    }

    /// Distances to `count` rows at once (e.g. the neighbours of one graph node),
    /// prefetching codes a few rows ahead. out[k] = distance(query, to: rows[k]).
    /// Precondition: every row < self.count. Allocates nothing.
    public func distances(
        _ query: QuantizedQuery, rows: UnsafePointer<UInt32>, count n: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(query.owner == ObjectIdentifier(self), "query prepared by another QuantizedVectors")
        for k in 0..<n { precondition(Int(rows[k]) < count, "row \(rows[k]) out of range 0..<\(count)") }
        let base = UnsafeRawPointer(codes).assumingMemoryBound(to: UInt8.self)
        var start = 0
        while start < n {
            let block = min(QuantizedQuery.scratchRows, n - start)
            let r = rows + start, o = out + start
            switch kind {
            case .scalar:
                if scoring == .scalarManhattan {
                    let tmp = query.scratch.assumingMemoryBound(to: UInt32.self)
                    strata_l1_u8_rows(
                        base, codeStride, r, block, query.bytes.assumingMemoryBound(to: UInt8.self), dimension, tmp)
                    for k in 0..<block { o[k] = query.scale * Float(tmp[k]) + query.constant }
                } else {
                    let tmp = query.scratch.assumingMemoryBound(to: Int32.self)
                    strata_dot_u8i8_rows(
                        base, codeStride, r, block, query.bytes.assumingMemoryBound(to: Int8.self), dimension, tmp)
                    for k in 0..<block { o[k] = scalarDistance(query, Float(tmp[k]), Int(r[k])) }
                }
            case .binary:
                if query.usesHamming {
                    let tmp = query.scratch.assumingMemoryBound(to: UInt64.self)
                    strata_hamming_rows(
                        base, codeStride, r, block, query.bytes.assumingMemoryBound(to: UInt64.self), words, tmp)
                    for k in 0..<block { o[k] = binaryDistance(query, Float(tmp[k]), Int(r[k])) }
                } else if paired {
                    let tmp = query.scratch.assumingMemoryBound(to: Int64.self)
                    strata_paired_bitplane_dot_rows(
                        base, codeStride, r, block, query.bytes.assumingMemoryBound(to: UInt64.self),
                        query.queryPlanes, words, tmp)
                    for k in 0..<block { o[k] = binaryDistance(query, Float(tmp[k]), Int(r[k])) }
                } else {
                    let tmp = query.scratch.assumingMemoryBound(to: Int64.self)
                    strata_bitplane_dot_rows(
                        base, codeStride, r, block, query.bytes.assumingMemoryBound(to: UInt64.self),
                        query.queryPlanes, planes, words, tmp)
                    for k in 0..<block { o[k] = binaryDistance(query, Float(tmp[k]), Int(r[k])) }
                }
            case .product:
                strata_pq_lookup_rows(base, codeStride, r, block, query.table, subspaces, o)
            }
            start += block
        }
    }

    /// Approximate distance between two stored rows, same scale and order as
    /// `distance` (for building a graph from codes). Slower than `distance`
    /// (portable kernels, O(dimension)); allocates nothing. Precondition: rows < count.
    public func distance(between a: UInt32, and b: UInt32) -> Float {
        precondition(Int(a) < count && Int(b) < count, "rows \(a), \(b) out of range 0..<\(count)")
        let codeA = UnsafeRawPointer(codes + Int(a) * codeStride), codeB = UnsafeRawPointer(codes + Int(b) * codeStride)
        switch kind {
        case .scalar:
            let ua = codeA.assumingMemoryBound(to: UInt8.self), ub = codeB.assumingMemoryBound(to: UInt8.self)
            switch metric {
            case .dot, .cosine:
                let dot =
                    alpha * alpha * Float(strata_dot_u8u8(ua, ub, dimension))
                    + alpha * lo * Float(strata_sum_u8(ua, dimension) + strata_sum_u8(ub, dimension))
                    + Float(dimension) * lo * lo
                return -dot
            case .euclid:
                return alpha * alpha * Float(strata_l2sq_u8(ua, ub, dimension))
            case .manhattan:
                return alpha * Float(kernels.pointee.l1_u8(ua, ub, dimension))
            }
        case .binary:
            let xa = codeA.assumingMemoryBound(to: UInt64.self), xb = codeB.assumingMemoryBound(to: UInt64.self)
            let levels: Float
            if paired {
                var sum = 0
                for i in 0..<dimension {
                    sum += Self.pairedLevel(xa, xa + words, i) * Self.pairedLevel(xb, xb + words, i)
                }
                levels = Float(sum)
            } else if planes == 1 {
                levels = Float(dimension) - 2 * Float(kernels.pointee.hamming(xa, xb, words))
            } else {
                let both = Float(strata_planes_and_popcount(xa, 2, xb, 2, words))
                levels =
                    both - Float(strata_popcount(xa, 2 * words)) - Float(strata_popcount(xb, 2 * words))
                    + Float(dimension)
            }
            let ca = corrections + 2 * Int(a), cb = corrections + 2 * Int(b)
            let estimate = ca[0] * cb[0] * meanVariance * levels
            if metric == .euclid || metric == .manhattan { return ca[1] + cb[1] - 2 * estimate }
            // ⟨x_a, x_b⟩ = ⟨x'_a, x'_b⟩ + ⟨c, x'_a⟩ + ⟨c, x'_b⟩ + ‖c‖².
            return -(estimate + ca[1] + cb[1] + strata_dot_f32(codebook, codebook, dimension))
        case .product:
            let ca = codeA.assumingMemoryBound(to: UInt8.self), cb = codeB.assumingMemoryBound(to: UInt8.self)
            let shape = Shape(method: method, metric: metric, dimension: dimension)
            var total: Float = 0
            for m in 0..<subspaces {
                let (offset, length) = shape.subspace(m, dimension: dimension)
                let x = codebook + 256 * offset + Int(ca[m]) * length, y = codebook + 256 * offset + Int(cb[m]) * length
                switch metric {
                case .dot, .cosine: total -= strata_dot_f32(x, y, length)
                case .euclid: total += strata_l2sq_f32(x, y, length)
                case .manhattan: total += strata_l1_f32(x, y, length)
                }
            }
            return total
        }
    }
}
