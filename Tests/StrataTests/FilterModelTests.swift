import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// A seeded random sequence of writes, payload operations (by ids, by
/// filter, at nested keys), index changes, flushes, merges and reopenings,
/// applied to the engine and to a plain in-memory model; retrieve, count,
/// scroll and exact filtered search are compared after every step.
///
/// `STRATA_MODEL_OPS` sets the number of operations (default 10,000), and
/// `STRATA_TEST_SEED` the seed: `STRATA_MODEL_OPS=200000 swift test -c release --filter FilterModelTests`.
@Suite struct FilterModelTests {
    @Test func engineMatchesTheModel() async throws {
        let operations = Int(ProcessInfo.processInfo.environment["STRATA_MODEL_OPS"] ?? "") ?? 10_000
        let seed =
            UInt64(ProcessInfo.processInfo.environment["STRATA_TEST_SEED"] ?? "") ?? UInt64.random(in: 0..<1 << 40)
        try await withTemporaryDirectory { dir in
            var data = FilterTestData(seed: seed)
            var model = FilterModel()
            var db = try Database.open(at: dir)
            var c = try db.createCollection("c", config: FilterTests.config())
            var log: [String] = []
            func randomIDs(_ n: Int) -> [PointID] { (0..<n).map { _ in .number(UInt64(data.random.int(400))) } }
            // An operation changes each point once, however often its id is listed
            // (the engine applies an operation to a point once: its version then
            // equals the op number). Not idempotent: deleting `reviews[0]` twice.
            func existing(_ ids: [PointID]) -> [PointID] {
                var seen = Set<PointID>()
                return ids.filter { model.points[$0] != nil && seen.insert($0).inserted }
            }

            for step in 0..<operations {
                let roll = data.random.int(100)
                switch roll {
                case 0..<30:
                    let points = randomIDs(1 + data.random.int(5)).map { data.point($0.number) }
                    try await c.upsert(points)
                    for p in points { model.points[p.id] = p }  // the last of a repeated id wins, as in the engine
                    log.append("upsert \(points.map(\.id))")
                case 30..<40:
                    let ids = randomIDs(1 + data.random.int(3))
                    try await c.delete(ids)
                    for id in ids { model.points[id] = nil }
                    log.append("delete \(ids)")
                case 40..<44:
                    let filter = data.filter()
                    let doomed = model.matching(filter)
                    guard doomed.count <= 8 else { continue }  // keep the population up
                    try await c.delete(filter: filter)
                    for id in doomed { model.points[id] = nil }
                    log.append("delete filter \(filter.json)")
                case 44..<54:
                    let ids = randomIDs(1 + data.random.int(3))
                    let change = data.payload().filter { _ in data.chance(40) }
                    try await c.setPayload(change, for: ids)
                    for id in existing(ids) {
                        // Qdrant's merge: a null removes its key.
                        for (key, value) in change {
                            if value == .null {
                                model.points[id]!.payload!.removeValue(forKey: key)
                            } else {
                                model.points[id]!.payload![key] = value
                            }
                        }
                    }
                    log.append("set \(change) on \(ids)")
                case 54..<58:
                    let filter = data.filter()
                    let change: Payload = ["flag": .int(Int64(step))]
                    let ids = model.matching(filter)
                    try await c.setPayload(change, filter: filter)
                    for id in ids { model.points[id]!.payload!.merge(change) { $1 } }
                    log.append("set by filter \(filter.json)")
                case 58..<63:
                    let ids = randomIDs(2)
                    let key = data.pick(["meta", "reviews[]", "meta.inner", "city"])
                    let change: Payload = ["v": .int(Int64(data.random.int(5))), "who": "ann"]
                    try await c.setPayload(change, for: ids, key: key)
                    let path = try PayloadPath(key)
                    for id in existing(ids) { path.merge(change, into: &model.points[id]!.payload!) }
                    log.append("set \(change) at \(key) on \(ids)")
                case 63..<68:
                    let ids = randomIDs(2)
                    let payload = data.payload()
                    try await c.overwritePayload(payload, for: ids)
                    for id in existing(ids) { model.points[id]!.payload = payload }
                    log.append("overwrite \(ids)")
                case 68..<74:
                    let ids = randomIDs(3)
                    let keys = [
                        data.pick(["tags", "reviews[].who", "location.lat", "price", "reviews[0]", "meta.v", "text"])
                    ]
                    try await c.deletePayloadKeys(keys, for: ids)
                    for id in existing(ids) {
                        for key in keys { try PayloadPath(key).remove(from: &model.points[id]!.payload!) }
                    }
                    log.append("delete keys \(keys) on \(ids)")
                case 74..<77:
                    let ids = randomIDs(2)
                    try await c.clearPayload(for: ids)
                    for id in existing(ids) { model.points[id]!.payload = [:] }
                    log.append("clear \(ids)")
                case 77..<82:
                    let (key, schema) = data.pick(FilterTestData.schemas)
                    try await c.createFieldIndex(key, schema: schema)
                    log.append("create index \(key)")
                case 82..<85:
                    let (key, _) = data.pick(FilterTestData.schemas)
                    try await c.deleteFieldIndex(key)
                    log.append("drop index \(key)")
                case 85..<88:
                    try c.flush()
                    log.append("flush")
                case 88..<89:
                    try c.optimize()
                    log.append("optimize")
                case 89..<90:
                    db.close()
                    db = try Database.open(at: dir)
                    c = try db.collection("c")
                    log.append("reopen")
                default:
                    break  // reads only
                }
                if log.count > 20 { log.removeFirst(log.count - 20) }
                let context = "seed \(seed), step \(step); last operations:\n" + log.joined(separator: "\n")
                // Compare reads.
                let probe = randomIDs(3)
                let records = try c.retrieve(probe, withPayload: true, withVector: true)
                let expected = probe.compactMap { model.points[$0] }
                #expect(records.map(\.id) == expected.map(\.id), "retrieve: \(context)")
                for (record, point) in zip(records, expected) {
                    #expect(record.payload == (point.payload ?? [:]), "payload of \(point.id): \(context)")
                    #expect(record.vectors?[""] == point.vectors[""], "vector of \(point.id): \(context)")
                }
                let filter = data.filter()
                let matching = model.matching(filter)
                #expect(try c.count(filter: filter) == matching.count, "count \(filter.json): \(context)")
                let start: PointID? = data.chance(50) ? .number(UInt64(data.random.int(400))) : nil
                let page = try c.scroll(offset: start, limit: 10, filter: filter, withPayload: false)
                let tail = matching.filter { id in start.map { id >= $0 } ?? true }
                #expect(
                    page.points.map(\.id) == Array(tail.prefix(10)),
                    "scroll \(filter.json) from \(String(describing: start)): \(context)")
                #expect(page.nextOffset == (tail.count > 10 ? tail[10] : nil), "next offset: \(context)")
                let query = data.random.vector(FilterTestData.dim)
                let hits = try c.search(query, limit: 4, params: SearchParams(exact: true), filter: filter).map(\.id)
                #expect(hits == model.search(query, filter: filter, limit: 4), "search \(filter.json): \(context)")
                if step % 500 == 0 {
                    #expect(c.count() == model.points.count, "total count: \(context)")
                }
            }
            #expect(c.count() == model.points.count)
            #expect(c.verify().isEmpty)
            db.close()
        }
    }
}

extension PointID {
    var number: UInt64 {
        if case .number(let n) = self { return n }
        return 0
    }
}
