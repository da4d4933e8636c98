import Foundation
@testable import Strata
import StrataIO

/// What a collection must hold: every acknowledged write, applied in order.
/// The error-injection and corruption-sweep suites compare stores with it.
struct PointModel: Equatable {
    var points: [PointID: PointStruct] = [:]

    mutating func upsert(_ batch: [PointStruct]) {
        for point in batch { points[point.id] = point }
    }

    mutating func delete(_ ids: [PointID]) {
        for id in ids { points[id] = nil }
    }

    /// `setPayload`: merges the keys into each existing point's payload.
    mutating func setPayload(_ payload: Payload, for ids: [PointID]) {
        for id in ids where points[id] != nil {
            var merged = points[id]!.payload ?? [:]
            // Qdrant's merge: a null removes its key.
            for (key, value) in payload {
                if value == .null { merged.removeValue(forKey: key) } else { merged[key] = value }
            }
            points[id]!.payload = merged
        }
    }

    func applying(_ change: (inout PointModel) -> Void) -> PointModel {
        var copy = self
        change(&copy)
        return copy
    }

    /// The differences between `collection` and this model, empty when they
    /// agree: ids (scroll and count), every vector and payload, and an exact
    /// search whose scores must be the reference distances to the model's vectors.
    /// Reads that throw are reported as differences (callers that expect a
    /// corruption error check for it separately).
    func differences(from collection: Collection) -> [String] {
        var problems: [String] = []
        do {
            let records = try collection.scroll(limit: .max, withPayload: true, withVector: true).points
            let stored = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            if records.count != stored.count { problems.append("scroll returned duplicate ids") }
            let missing = Set(points.keys).subtracting(stored.keys)
            let extra = Set(stored.keys).subtracting(points.keys)
            if !missing.isEmpty { problems.append("missing: \(missing.sorted().prefix(10))") }
            if !extra.isEmpty { problems.append("phantom: \(extra.sorted().prefix(10))") }
            if collection.count() != records.count {
                problems.append("count() \(collection.count()) != scroll \(records.count)")
            }
            for (id, expected) in points.sorted(by: { $0.key < $1.key }) {
                guard let record = stored[id] else { continue }
                if record.vectors ?? [:] != expected.vectors {
                    problems.append("point \(id): vectors differ")
                }
                if record.payload != expected.payload {
                    problems.append(
                        "point \(id): payload \(String(describing: record.payload)) != \(String(describing: expected.payload))"
                    )
                }
                if problems.count > 20 { break }
            }
            if let probe = points.values.min(by: { $0.id < $1.id }), let vector = probe.vectors[""] {
                let distance = collection.config.vectors[""]!.distance
                let hits = try collection.search(
                    vector, limit: 10, params: SearchParams(exact: true), withPayload: true)
                for hit in hits {
                    guard let expected = points[hit.id] else {
                        problems.append("search returned phantom \(hit.id)")
                        continue
                    }
                    let reference = referenceScore(vector, expected.vectors[""]!, distance)
                    if abs(reference - hit.score) > 1e-3 * max(1, abs(reference)) {
                        problems.append("search score of \(hit.id) is \(hit.score), the model says \(reference)")
                    }
                    if hit.payload != expected.payload { problems.append("search payload of \(hit.id) differs") }
                }
                if hits.count != min(10, points.count) { problems.append("exact search returned \(hits.count) hits") }
            }
        } catch {
            problems.append("read failed: \(error)")
        }
        return problems
    }
}

/// Small seeded points: 8-d integer-valued vectors (exact in Float, Euclid),
/// payloads with an integer and a string.
func modelPoint(_ id: Int, salt: Int = 0) -> PointStruct {
    PointStruct(
        id: .number(UInt64(id)), vector: (0..<8).map { Float((id * 8 + $0 + salt) % 97) },
        payload: ["n": .int(Int64(id)), "tag": .string("t\(id % 5)")])
}
