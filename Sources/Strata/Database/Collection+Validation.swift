import StrataVectorMath

/// Validation of every write before it is logged: known vector names, the
/// dimensions, finite values, Cosine normalisation, multivector rows, JSON
/// payloads with finite numbers. A write that fails any check changes nothing.
extension Collection {

    func validate(_ points: [PointStruct]) throws -> [PointStruct] {
        var lastIndex: [PointID: Int] = [:]
        for (index, point) in points.enumerated() { lastIndex[point.id] = index }
        var result: [PointStruct] = []
        result.reserveCapacity(lastIndex.count)
        for (index, point) in points.enumerated() where lastIndex[point.id] == index {
            var prepared = point
            for (vectorName, vector) in point.vectors {
                guard let params = config.vectors[vectorName] else {
                    throw StrataError.invalid(
                        "point \(point.id): Not existing vector name error: \(vectorName.isEmpty ? "(unnamed)" : vectorName); collection `\(name)` has \(config.vectors.keys.sorted())"
                    )
                }
                prepared.vectors[vectorName] = try prepare(
                    vector, name: vectorName, params: params, what: "point \(point.id)")
            }
            prepared.sparseVectors = try prepareSparse(point.sparseVectors, what: "point \(point.id)")
            if let payload = point.payload { try validate(payload) }
            result.append(prepared)
        }
        return result
    }

    func prepare(_ vector: [Float], name vectorName: String, params: VectorParams, what: String) throws -> [Float] {
        let label = vectorName.isEmpty ? "vector" : "vector \"\(vectorName)\""
        if params.isMultiVector { return try prepareMultiVector(vector, label: label, params: params, what: what) }
        guard vector.count == params.size else {
            throw StrataError.invalid("\(what): wrong \(label) dimension: expected \(params.size), got \(vector.count)")
        }
        guard VectorKernels.allFinite(vector) else {
            throw StrataError.invalid("\(what): \(label) contains NaN or infinite values")
        }
        guard params.distance == .cosine && params.storedDatatype.normalizesForCosine() else {
            return try rounded(vector, params: params, label: label, what: what)
        }
        var normalized = vector
        guard VectorKernels.normalize(&normalized) else {
            throw StrataError.invalid("\(what): \(label) is all zeros and cannot be normalised for Cosine distance")
        }
        return try rounded(normalized, params: params, label: label, what: what)
    }

    /// `vector` rounded to the vector's datatype; a value beyond float16's
    /// range (±65504) is refused rather than stored as infinity.
    private func rounded(_ vector: [Float], params: VectorParams, label: String, what: String) throws -> [Float] {
        let datatype = params.storedDatatype
        guard datatype != .float32 else { return vector }
        let result = datatype.rounded(vector)
        guard VectorKernels.allFinite(result) else {
            throw StrataError.invalid(
                "\(what): \(label) has a value beyond ±65504, which the vector's datatype float16 cannot hold")
        }
        return result
    }

    /// Checks a multivector given as its rows back to back (row-major) and
    /// normalises each row for Cosine.
    private func prepareMultiVector(
        _ rows: [Float], label: String, params: VectorParams, what: String
    ) throws -> [Float] {
        guard !rows.isEmpty, rows.count % params.size == 0 else {
            throw StrataError.invalid(
                "\(what): multi\(label) must be one or more rows of \(params.size) numbers, got \(rows.count) numbers in all"
            )
        }
        guard rows.count / params.size <= Self.maxMultiVectorRows else {
            throw StrataError.invalid(
                "\(what): multi\(label) has \(rows.count / params.size) rows; at most \(Self.maxMultiVectorRows) are allowed"
            )
        }
        guard VectorKernels.allFinite(rows) else {
            throw StrataError.invalid("\(what): multi\(label) contains NaN or infinite values")
        }
        guard params.distance == .cosine && params.storedDatatype.normalizesForCosine() else {
            return try rounded(rows, params: params, label: "multi" + label, what: what)
        }
        var normalized: [Float] = []
        normalized.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count, by: params.size) {
            var row = Array(rows[start..<start + params.size])
            guard VectorKernels.normalize(&row) else {
                throw StrataError.invalid(
                    "\(what): row \(start / params.size) of multi\(label) is all zeros and cannot be normalised for Cosine distance"
                )
            }
            normalized.append(contentsOf: row)
        }
        return try rounded(normalized, params: params, label: "multi" + label, what: what)
    }

    /// Rows one multivector may have (a ColBERT passage has a few hundred).
    static let maxMultiVectorRows = 8192

    func validate(_ payload: Payload) throws {
        guard JSONValue.object(payload).isFinite else {
            throw StrataError.invalid("payload contains a NaN or infinite number, which JSON cannot represent")
        }
    }
}
