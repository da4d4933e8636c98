import Strata
import StrataIO
import StrataVectorMath

/// Knows what the store must hold after each crash, and checks it.
///
/// The model maps each id to the token (and op number) of its last write. After
/// a cycle, every operation the child reported is either acknowledged (with its
/// op number) or in flight (intent without ack: it may or may not have been
/// applied). For each id, the recovered store must show the state that the
/// acknowledged operations produce, applied in op-number order over the model;
/// the only other acceptable states are those an in-flight operation on that id
/// would produce. Anything else is a lost write, a phantom, or corruption.
/// After the check the model becomes the recovered state.
struct CrashTestOracle {
    struct Entry: Equatable {
        var token: UInt64
        var version: UInt64
        /// The `p` payload field a payload update set (nil: none since the upsert).
        var p: UInt64? = nil
    }

    private(set) var model: [UInt64: Entry] = [:]
    var pointCount: Int { model.count }

    struct CycleReport {
        var acked = 0
        var inFlight = 0
        var lost = 0
        var phantom = 0
        var corrupt = 0
        var problems: [String] = []
        var isClean: Bool { lost == 0 && phantom == 0 && corrupt == 0 }
    }

    enum Action {
        case upsert([(id: UInt64, token: UInt64)])
        case delete([UInt64])
        case setP(UInt64, [UInt64])
        case index
    }

    struct Key: Hashable {
        let writer: Int
        let sequence: Int
    }

    mutating func verify(childOutput: String, directory: String, cycle: Int, seed: UInt64) -> CycleReport {
        var report = CycleReport()
        var intents: [Key: Action] = [:]
        var acks: [Key: UInt64] = [:]
        for line in childOutput.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ")
            if fields.first == "E" {
                report.problems.append("cycle \(cycle): the child reported a failure: \(line)")
                report.corrupt += 1
                continue
            }
            guard fields.count >= 3, let writer = Int(fields[1]), let sequence = Int(fields[2]) else { continue }
            let key = Key(writer: writer, sequence: sequence)
            switch fields[0] {
            case "I" where fields.count >= 4:
                let rest = fields.dropFirst(4)
                if fields[3] == "U" {
                    let pairs = rest.compactMap { pair -> (UInt64, UInt64)? in
                        let parts = pair.split(separator: ":")
                        guard parts.count == 2, let id = UInt64(parts[0]), let token = UInt64(parts[1]) else { return nil }
                        return (id, token)
                    }
                    // A line cut by the kill is incomplete: it was never acknowledged
                    // and the operation may not have started; treat it as in flight.
                    intents[key] = .upsert(pairs.map { (id: $0.0, token: $0.1) })
                } else if fields[3] == "P" {
                    guard let ptoken = rest.first.flatMap({ UInt64($0) }) else { continue }
                    intents[key] = .setP(ptoken, rest.dropFirst().compactMap { UInt64($0) })
                } else if fields[3] == "X" {
                    intents[key] = .index
                } else {
                    intents[key] = .delete(rest.compactMap { UInt64($0) })
                }
            case "A" where fields.count == 4:
                if let opNum = UInt64(fields[3]) { acks[key] = opNum }
            default:
                continue
            }
        }

        // Expected state: acknowledged operations in op-number order over the model.
        var expected = model
        let acknowledged = acks.compactMap { key, opNum in intents[key].map { (opNum, $0) } }.sorted { $0.0 < $1.0 }
        report.acked = acknowledged.count
        for (opNum, action) in acknowledged {
            switch action {
            case .upsert(let pairs):
                for pair in pairs { expected[pair.id] = Entry(token: pair.token, version: opNum) }
            case .delete(let ids):
                for id in ids { expected[id] = nil }
            case .setP(let ptoken, let ids):
                for id in ids where expected[id] != nil {
                    expected[id]!.p = ptoken
                    expected[id]!.version = opNum
                }
            case .index:
                break
            }
        }
        // What in-flight operations could have done, per id.
        var possibleTokens: [UInt64: Set<UInt64>] = [:]
        var possiblyDeleted: Set<UInt64> = []
        var possibleP: [UInt64: Set<UInt64>] = [:]
        for (key, action) in intents where acks[key] == nil {
            report.inFlight += 1
            switch action {
            case .upsert(let pairs):
                for pair in pairs { possibleTokens[pair.id, default: []].insert(pair.token) }
            case .delete(let ids):
                possiblyDeleted.formUnion(ids)
            case .setP(let ptoken, let ids):
                for id in ids { possibleP[id, default: []].insert(ptoken) }
            case .index:
                break
            }
        }

        // Reopen and compare.
        let database: Database
        do {
            database = try Database.open(at: directory)
        } catch {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): reopening the store failed: \(error)")
            return report
        }
        defer { database.close() }
        let collection: Collection
        do {
            collection = try database.collection(CrashWorkload.collectionName)
        } catch {
            if acknowledged.isEmpty && model.isEmpty { return report }  // killed before the collection existed
            report.lost += 1
            report.problems.append("cycle \(cycle): the collection is missing after recovery: \(error)")
            return report
        }
        let records: [Record]
        do {
            records = try collection.scroll(limit: Int.max, withPayload: true, withVector: true).points
        } catch {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): reading the store failed: \(error)")
            return report
        }
        var actual: [UInt64: Entry] = [:]
        for record in records {
            guard case .number(let id) = record.id, case .int(let rawToken)? = record.payload?["token"] else {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): point \(record.id) has no token in its payload: \(String(describing: record.payload))")
                continue
            }
            let token = UInt64(bitPattern: rawToken)
            var payload = record.payload ?? [:]
            var p: UInt64?
            if case .int(let raw)? = payload.removeValue(forKey: "p") { p = UInt64(bitPattern: raw) }
            if record.vectors?[""] != CrashWorkload.vector(for: token) || payload != CrashWorkload.payload(for: token) {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): point \(id) token \(token): vector or payload differ from what was written")
            }
            actual[id] = Entry(token: token, version: record.version, p: p)
        }
        for problem in collection.verify() {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): verify: \(problem)")
        }
        if collection.count() != records.count {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): count() says \(collection.count()) but scroll returned \(records.count) points")
        }
        // Filters (through whatever field indexes survived) agree with the payloads read back.
        for tag in ["t\(cycle % 97)", "t\((cycle * 7 + 3) % 97)"] {
            let filter = Filter(must: [.field(FieldCondition(key: try! PayloadPath("tag"), .match(.value(.keyword(tag)))))])
            let want = records.filter { $0.payload?["tag"] == .string(tag) }.map(\.id).sorted()
            do {
                let counted = try collection.count(filter: filter)
                let scrolled = try collection.scroll(limit: Int.max, filter: filter, withPayload: false).points.map(\.id)
                if counted != want.count || scrolled != want {
                    report.corrupt += 1
                    report.problems.append("cycle \(cycle): filter tag=\(tag): count \(counted), scroll \(scrolled.count) points, payloads say \(want.count)")
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): filtered read failed: \(error)")
            }
        }

        // Every payload token a P operation of this cycle (acknowledged or not)
        // aimed at each id, plus what the point held before the cycle.
        var anyP: [UInt64: Set<UInt64>] = possibleP
        for (_, action) in acknowledged {
            if case .setP(let ptoken, let ids) = action { for id in ids { anyP[id, default: []].insert(ptoken) } }
        }
        for (id, entry) in model { if let p = entry.p { anyP[id, default: []].insert(p) } }
        for id in Set(expected.keys).union(actual.keys).union(possibleTokens.keys) {
            let want = expected[id]
            let got = actual[id]
            if want == got { continue }
            guard let got else {
                if possiblyDeleted.contains(id) { continue }
                report.lost += 1
                report.problems.append("cycle \(cycle): acknowledged write lost: point \(id) should hold token \(want!.token) (op \(want!.version)), store has nothing")
                continue
            }
            if let want, got.token == want.token {
                // The acknowledged upsert is there; an in-flight payload update may have changed `p` after it.
                if got.p == want.p {
                    report.corrupt += 1
                    report.problems.append("cycle \(cycle): point \(id) has the right data but version \(got.version), expected \(want.version)")
                } else if let p = got.p, possibleP[id]?.contains(p) == true {
                    continue
                } else {
                    report.lost += 1
                    report.problems.append("cycle \(cycle): acknowledged payload update lost: point \(id) has p \(got.p.map(String.init) ?? "none"), expected \(want.p.map(String.init) ?? "none")")
                }
                continue
            }
            if possibleTokens[id]?.contains(got.token) == true {
                // An in-flight upsert replaced the point; payload updates of this
                // cycle may have reached it after that (their order is unknown).
                if got.p == nil || anyP[id]?.contains(got.p!) == true { continue }
                report.corrupt += 1
                report.problems.append("cycle \(cycle): point \(id) holds p \(got.p!), which no payload update wrote")
                continue
            }
            if let want {
                report.lost += 1
                report.problems.append("cycle \(cycle): acknowledged write lost: point \(id) should hold token \(want.token) (op \(want.version)), store has token \(got.token) (op \(got.version))")
            } else {
                report.phantom += 1
                report.problems.append("cycle \(cycle): phantom: point \(id) holds token \(got.token) (op \(got.version)) but it should be absent")
            }
        }

        // Exact search over the store must equal exact search over the model.
        var rng = SplitMix64(seed: seed ^ UInt64(cycle) &* 31)
        for _ in 0..<3 {
            let query = CrashWorkload.vector(for: rng.next())
            let limit = 10
            do {
                let hits = try collection.search(query, limit: limit, params: SearchParams(exact: true))
                // Graph search (indexed segments) may miss neighbours, but every
                // hit must be a live point at its true distance, once.
                let approximate = try collection.search(query, limit: limit)
                var seen = Set<PointID>()
                for hit in approximate {
                    guard case .number(let id) = hit.id, let entry = actual[id], seen.insert(hit.id).inserted else {
                        report.corrupt += 1
                        report.problems.append("cycle \(cycle): graph search returned \(hit.id), which is deleted, never written or a duplicate")
                        continue
                    }
                    let v = CrashWorkload.vector(for: entry.token)
                    let distance = zip(v, query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    if abs(hit.score - distance) > 1e-4 * max(1, distance) {
                        report.corrupt += 1
                        report.problems.append("cycle \(cycle): graph search scored \(hit.id) \(hit.score), its vector is at \(distance)")
                    }
                }
                let reference = actual.map { id, entry -> (UInt64, Float) in
                    let v = CrashWorkload.vector(for: entry.token)
                    let distance = zip(v, query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    return (id, distance)
                }.sorted { $0.1 < $1.1 }.prefix(limit)
                let gotScores = hits.map(\.score)
                let wantScores = reference.map(\.1)
                let matches = gotScores.count == wantScores.count
                    && zip(gotScores, wantScores).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }
                if !matches {
                    report.corrupt += 1
                    report.problems.append("cycle \(cycle): exact search differs from the model: got \(gotScores), want \(Array(wantScores))")
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): search failed: \(error)")
            }
        }
        model = actual
        return report
    }
}
