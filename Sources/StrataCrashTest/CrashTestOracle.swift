import Strata
import StrataIO
import StrataVectorMath

/// Knows what the store must hold after each crash, and checks it.
///
/// The model maps each id to its state: the token of its vector, its payload
/// and its version (the op number of the last operation that changed it).
/// Writer `w` owns the ids with `id % writers == w` and runs one operation at
/// a time, so after a kill each writer has acknowledged a sequence of
/// operations (with their op numbers) and has at most one more in flight.
/// The recovered store must show, for every writer's partition as a whole,
/// either the model with the acknowledged operations applied (**A**), or that
/// plus the in-flight operation applied whole (**B**) — never part of an
/// operation, never anything else. Filter operations are evaluated on the
/// model, as the store evaluated them when they ran.
///
/// Conditional writes (`N`: an upsert with an update mode and maybe a filter;
/// `G`: a vector update under a filter) are decided the same way, per point,
/// against the model as the operations before them in the writer's order
/// left it — never by asking the store. That is exact even after a kill: a
/// partition's in-flight operation is its writer's last, so every operation
/// before it is acknowledged and in the model, and only the in-flight one
/// itself is either applied (decided against state A) or not.
///
/// Op numbers give the **prefix** check: the store's last op number after
/// recovery, minus the one before the cycle, must equal the acknowledged
/// operations plus the in-flight ones that were applied (give or take the
/// in-flight ones whose effect cannot be seen, such as a delete of absent
/// ids); a hole in the log would break it. An applied in-flight operation's
/// version must be a new op number no acknowledged operation has.
///
/// After the check the model becomes the recovered state.
struct CrashTestOracle {
    struct PointState: Equatable {
        /// Takes `aux`, `mv` and `sp` from `token` where it has them; where it
        /// has none, clears them (an upsert) or keeps them (`keepingAbsent`, an
        /// update of vectors).
        mutating func takeNamedVectors(of token: UInt64, named: Bool, keepingAbsent: Bool = false) {
            guard named else { return }
            func take(_ has: Bool, _ field: inout UInt64?) {
                if has { field = token } else if !keepingAbsent { field = nil }
            }
            take(CrashWorkload.auxVector(for: token) != nil, &auxToken)
            take(CrashWorkload.multiVector(for: token) != nil, &multiToken)
            take(CrashWorkload.sparseVector(for: token) != nil, &sparseToken)
        }

        var vectorToken: UInt64
        /// The tokens whose `aux` vector, `mv` multivector and `sp` sparse
        /// vector the point holds (the `mixed` workload), or nil.
        var auxToken: UInt64? = nil
        var multiToken: UInt64? = nil
        var sparseToken: UInt64? = nil
        var payload: Payload
        var version: UInt64
    }

    /// Whether points carry the `aux` named vector (the `mixed` workload).
    let named: Bool

    init(named: Bool = false) { self.named = named }

    private(set) var model: [UInt64: PointState] = [:]
    /// Whether the collection's alias existed after an earlier recovery.
    private(set) var aliasSeen = false
    /// Tagged versions (`M tagged`) and the digest each reads as, kept across cycles.
    private(set) var tagDigests: [String: String] = [:]
    /// The store's last op number after the previous recovery.
    private(set) var lastOperation: UInt64 = 0
    var pointCount: Int { model.count }

    struct CycleReport {
        var acked = 0
        var inFlight = 0
        /// In-flight operations found applied after recovery.
        var appliedInFlight = 0
        var lost = 0
        var phantom = 0
        var corrupt = 0
        var problems: [String] = []
        var isClean: Bool { lost == 0 && phantom == 0 && corrupt == 0 }
    }

    enum Action: Equatable {
        case upsert([Pair])
        case updateVectors([Pair])
        case delete([UInt64])
        case deleteByFilter(tag: String)
        case setP(UInt64, [UInt64])
        case setPByFilter(UInt64, tag: String)
        case overwrite(UInt64, [UInt64])
        case deleteKey(String, [UInt64])
        case clear([UInt64])
        case index
        /// An upsert with update mode `mode`, replacing existing points only
        /// where they meet `condition` (nil: no filter).
        case conditionalUpsert(UpdateMode, CrashWorkload.WriteCondition?, [Pair])
        /// A vector update of the points that meet `condition`.
        case conditionalUpdateVectors(CrashWorkload.WriteCondition, [Pair])
        /// An atomic batch: these actions in order, under one op number, all or none.
        indirect case batch([Action])
        /// The deletion of expired points: no change to any model (they are absent already).
        case sweep

        struct Pair: Equatable {
            var id: UInt64
            var token: UInt64
        }

        init?(_ fields: ArraySlice<Substring>) {
            guard let kind = fields.first else { return nil }
            let rest = fields.dropFirst()
            func ids(_ items: ArraySlice<Substring>) -> [UInt64]? {
                let parsed = items.compactMap { UInt64($0) }
                return parsed.count == items.count ? parsed : nil
            }
            func pairs(_ rest: ArraySlice<Substring>) -> [Pair]? {
                let parsed = rest.compactMap { item -> Pair? in
                    let parts = item.split(separator: ":")
                    guard parts.count == 2, let id = UInt64(parts[0]), let token = UInt64(parts[1]) else { return nil }
                    return Pair(id: id, token: token)
                }
                return parsed.count == rest.count ? parsed : nil
            }
            switch kind {
            case "B":
                let parts = rest.split(separator: "|", omittingEmptySubsequences: false)
                let actions = parts.compactMap { part in part.first == "B" ? nil : Action(part) }
                guard !parts.isEmpty, actions.count == parts.count else { return nil }
                self = .batch(actions)
            case "U": guard let p = pairs(rest) else { return nil }; self = .upsert(p)
            case "V": guard let p = pairs(rest) else { return nil }; self = .updateVectors(p)
            case "N":
                guard let mode = rest.first.flatMap({ UpdateMode(rawValue: String($0)) }),
                    let name = rest.dropFirst().first, let p = pairs(rest.dropFirst(2))
                else { return nil }
                let condition = CrashWorkload.WriteCondition(rawValue: String(name))
                guard condition != nil || name == "none" else { return nil }
                self = .conditionalUpsert(mode, condition, p)
            case "G":
                guard let condition = rest.first.flatMap({ CrashWorkload.WriteCondition(rawValue: String($0)) }),
                    let p = pairs(rest.dropFirst())
                else { return nil }
                self = .conditionalUpdateVectors(condition, p)
            case "D": guard let i = ids(rest) else { return nil }; self = .delete(i)
            case "F": guard rest.count == 1 else { return nil }; self = .deleteByFilter(tag: String(rest.first!))
            case "P":
                guard let t = rest.first.flatMap({ UInt64($0) }), let i = ids(rest.dropFirst()) else { return nil };
                self = .setP(t, i)
            case "Q":
                guard rest.count == 2, let t = UInt64(rest.first!) else { return nil };
                self = .setPByFilter(t, tag: String(rest.last!))
            case "O":
                guard let t = rest.first.flatMap({ UInt64($0) }), let i = ids(rest.dropFirst()) else { return nil };
                self = .overwrite(t, i)
            case "K":
                guard let key = rest.first, let i = ids(rest.dropFirst()) else { return nil };
                self = .deleteKey(String(key), i)
            case "C": guard let i = ids(rest) else { return nil }; self = .clear(i)
            case "X": self = .index
            case "S": self = .sweep
            default: return nil
            }
        }

        /// Applies the operation of writer `writer` to `state` with version
        /// `version`; returns the ids it changed.
        func apply(to state: inout [UInt64: PointState], writer: Int, version: UInt64, named: Bool) -> Set<UInt64> {
            var touched = Set<UInt64>()
            func update(_ ids: [UInt64], _ change: (inout PointState) -> Void) {
                for id in ids where state[id] != nil {
                    change(&state[id]!)
                    state[id]!.version = version
                    touched.insert(id)
                }
            }
            func matching(_ tag: String) -> [UInt64] {
                state.compactMap { id, point in
                    point.payload["w"] == .int(Int64(writer)) && point.payload["tag"] == .string(tag) ? id : nil
                }
            }
            switch self {
            case .upsert(let pairs):
                for pair in pairs {
                    var point = PointState(
                        vectorToken: pair.token, payload: CrashWorkload.payload(for: pair.token, named: named),
                        version: version)
                    point.takeNamedVectors(of: pair.token, named: named)
                    // An expired point is absent from the moment it is written
                    // (hidden from reads and writes until deleted through the WAL).
                    if named && CrashWorkload.isExpired(point.payload) {
                        if state.removeValue(forKey: pair.id) != nil { touched.insert(pair.id) }
                    } else {
                        state[pair.id] = point
                        touched.insert(pair.id)
                    }
                }
            case .updateVectors(let pairs):
                // Replaces the unnamed vector, and each named one the token has (keeping the others).
                for pair in pairs {
                    update([pair.id]) { point in
                        point.vectorToken = pair.token
                        point.takeNamedVectors(of: pair.token, named: named, keepingAbsent: true)
                    }
                }
            case .delete(let ids):
                for id in ids where state.removeValue(forKey: id) != nil { touched.insert(id) }
            case .deleteByFilter(let tag):
                for id in matching(tag) {
                    state[id] = nil
                    touched.insert(id)
                }
            case .setP(let token, let ids):
                update(ids) { $0.payload["p"] = .int(Int64(bitPattern: token)) }
            case .setPByFilter(let token, let tag):
                update(matching(tag)) { $0.payload["p"] = .int(Int64(bitPattern: token)) }
            case .overwrite(let token, let ids):
                update(ids) { $0.payload = CrashWorkload.overwritePayload(for: token) }
            case .deleteKey(let key, let ids):
                update(ids) { $0.payload[key] = nil }
            case .clear(let ids):
                update(ids) { $0.payload = [:] }
            case .index, .sweep:
                break
            case .conditionalUpsert(let mode, let condition, let pairs):
                // Each point decided against the state before the operation
                // (as the store does), then the kept ones upserted in order.
                let kept = pairs.filter { pair in
                    guard let current = state[pair.id] else { return mode != .updateOnly }
                    guard mode != .insertOnly else { return false }
                    return condition.map { Self.meets($0, current, writer: writer) } ?? true
                }
                return Action.upsert(kept).apply(to: &state, writer: writer, version: version, named: named)
            case .conditionalUpdateVectors(let condition, let pairs):
                let kept = pairs.filter { pair in
                    state[pair.id].map { Self.meets(condition, $0, writer: writer) } ?? false
                }
                return Action.updateVectors(kept).apply(to: &state, writer: writer, version: version, named: named)
            case .batch(let actions):
                // Each on the state the ones before it left, all with the batch's op number.
                for action in actions {
                    touched.formUnion(action.apply(to: &state, writer: writer, version: version, named: named))
                }
            }
            return touched
        }

        /// Whether a point in state `point` matches the filter of `condition`
        /// (`WriteCondition.filter(writer:)`), evaluated here on the model.
        static func meets(_ condition: CrashWorkload.WriteCondition, _ point: PointState, writer: Int) -> Bool {
            switch condition {
            case .aux:
                return point.auxToken != nil
            case .even, .odd:
                guard point.payload["w"] == .int(Int64(writer)), case .string(let tag)? = point.payload["tag"],
                    tag.first == "t", let k = Int(tag.dropFirst()), (0..<97).contains(k), tag == "t\(k)"
                else { return false }
                return k % 2 == (condition == .even ? 0 : 1)
            }
        }
    }

    /// Tagged versions (the `mixed` workload): every acknowledged tag is
    /// there and reads exactly what it read when it was made; an untag that
    /// was acknowledged removed it; a tag or untag in flight at the crash is
    /// either done or not (a tag found for the first time is learnt).
    mutating func checkTags(
        _ collection: Collection, lines: [Substring], cycle: Int, report: inout CycleReport,
        history: (acknowledged: [Int: [(opNum: UInt64, action: Action)]], inFlight: [Int: Action], writers: Int)
    ) {
        var madeNow: Set<String> = []
        var started: Set<String> = []
        var untagging: Set<String> = []
        var untagged: Set<String> = []
        for line in lines where line.hasPrefix("M ") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let name = String(fields[2])
            switch fields[1] {
            case "tag": started.insert(name)
            case "tagged" where fields.count == 4:
                tagDigests[name] = String(fields[3])
                madeNow.insert(name)
            case "untag": untagging.insert(name)
            case "untagged": untagged.insert(name)
            default: continue
            }
        }
        let present = Set(collection.versions.compactMap(\.tag))
        // A tag made in this cycle holds exactly the model's state after its op.
        for name in madeNow.intersection(present).sorted() {
            guard let op = collection.versions.first(where: { $0.tag == name })?.operation else { continue }
            do {
                let version = try collection.at(.tag(name))
                if let problem = try historyMismatch(version, op: op, history) {
                    report.corrupt += 1
                    report.problems.append("cycle \(cycle): tagged version \(name) (op \(op)): \(problem)")
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): reading tagged version \(name) failed: \(error)")
            }
        }
        for name in untagged {
            tagDigests[name] = nil
            if present.contains(name) {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): tag \(name) was deleted (acknowledged) but is still there")
            }
        }
        for (name, digest) in tagDigests.sorted(by: { $0.key < $1.key }) {
            guard present.contains(name) else {
                if untagging.contains(name) {
                    tagDigests[name] = nil  // its deletion was in flight and happened
                    continue
                }
                report.lost += 1
                report.problems.append("cycle \(cycle): tagged version \(name) is gone")
                continue
            }
            do {
                let read = try CrashWorkload.digest(try collection.at(.tag(name)))
                if read != digest {
                    report.corrupt += 1
                    report.problems.append(
                        "cycle \(cycle): tagged version \(name) reads \(read), not \(digest) as when it was made")
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): reading tagged version \(name) failed: \(error)")
            }
        }
        for name in present.subtracting(tagDigests.keys) {
            guard started.contains(name), let digest = try? CrashWorkload.digest(try collection.at(.tag(name))) else {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): tag \(name) exists but was never made")
                continue
            }
            tagDigests[name] = digest  // made by the operation in flight at the crash
        }
    }

    /// What in `version` (the state after op `op`) differs from the model:
    /// per writer, the state at the cycle's start plus its acknowledged
    /// operations up to `op`, or that plus its operation in flight at the
    /// crash (whose op number is unknown). Nil when every partition matches.
    func historyMismatch(
        _ version: Collection, op: UInt64,
        _ history: (acknowledged: [Int: [(opNum: UInt64, action: Action)]], inFlight: [Int: Action], writers: Int)
    ) throws -> String? {
        var actual: [UInt64: ReadPoint] = [:]
        for record in try version.scroll(limit: Int.max, withPayload: true, withVector: true).points {
            guard case .number(let id) = record.id else { return "point \(record.id) is not an id the workload writes" }
            actual[id] = ReadPoint(
                vectors: record.vectors ?? [:], sparseVectors: record.sparseVectors ?? [:],
                payload: record.payload ?? [:], version: record.version)
        }
        for writer in 0..<history.writers {
            let owned = { (id: UInt64) in CrashWorkload.owner(of: id, writers: history.writers) == writer }
            var stateA = model.filter { owned($0.key) }
            for (opNum, action) in history.acknowledged[writer] ?? [] where opNum <= op {
                _ = action.apply(to: &stateA, writer: writer, version: opNum, named: named)
            }
            let present = actual.filter { owned($0.key) }
            func matches(_ expected: [UInt64: PointState], touched: Set<UInt64>) -> Bool {
                expected.count == present.count
                    && expected.allSatisfy { id, want in
                        present[id].map {
                            touched.contains(id) ? $0.equals(want, anyVersionAbove: lastOperation) : $0.equals(want)
                        } ?? false
                    }
            }
            if matches(stateA, touched: []) { continue }
            if let action = history.inFlight[writer] {
                var stateB = stateA
                let touched = action.apply(to: &stateB, writer: writer, version: 0, named: named)
                if matches(stateB, touched: touched) { continue }
            }
            let differing = Set(stateA.keys).union(present.keys).filter { id in
                guard let got = present[id], let want = stateA[id] else { return true }
                return !got.equals(want)
            }
            return
                "writer \(writer)'s partition is not the model's state after that op (points \(differing.sorted().prefix(8)) differ)"
        }
        return nil
    }

    struct Key: Hashable {
        let writer: Int
        let sequence: Int
    }

    /// A point as read back from the store.
    struct ReadPoint {
        var vectors: [String: [Float]]
        var sparseVectors: [String: SparseVector] = [:]
        var payload: Payload
        var version: UInt64

        func equals(_ state: PointState, anyVersionAbove floor: UInt64? = nil) -> Bool {
            let versionOK = floor.map { version > $0 } ?? (version == state.version)
            var want = ["": CrashWorkload.vector(for: state.vectorToken)]
            if let aux = state.auxToken.flatMap(CrashWorkload.auxVector(for:)) {
                want[CrashWorkload.auxVectorName] = aux
            }
            if let rows = state.multiToken.flatMap(CrashWorkload.multiVector(for:)) {
                want[CrashWorkload.multiVectorName] = rows
            }
            var wantSparse: [String: SparseVector] = [:]
            if let sparse = state.sparseToken.flatMap(CrashWorkload.sparseVector(for:)) {
                wantSparse[CrashWorkload.sparseVectorName] = sparse
            }
            return versionOK && payload == state.payload && vectors == want && sparseVectors == wantSparse
        }
    }

    /// Checks the store after cycle `cycle`. `open` opens the database the
    /// child wrote (on the real disk, or on the simulated one after a power
    /// loss). With `failuresMayBeCrashes`, a child's `E` line is a write cut
    /// off by the simulated crash (its operation is in flight), not a problem.
    mutating func verify(
        childOutput: String, writers: Int, cycle: Int, seed: UInt64,
        failuresMayBeCrashes: Bool = false, open: () throws -> Database
    ) -> CycleReport {
        var report = CycleReport()
        var intents: [Key: Action] = [:]
        var acks: [Key: UInt64] = [:]
        // Only whole lines: a pipe write is atomic, but be strict anyway.
        var lines = childOutput.split(separator: "\n", omittingEmptySubsequences: true)
        if !childOutput.hasSuffix("\n"), !lines.isEmpty { lines.removeLast() }
        for line in lines {
            let fields = line.split(separator: " ")
            if fields.first == "E" {
                if failuresMayBeCrashes && line.contains("simulated crash") { continue }
                report.problems.append("cycle \(cycle): the child reported a failure: \(line)")
                report.corrupt += 1
                continue
            }
            guard fields.count >= 3, let writer = Int(fields[1]), let sequence = Int(fields[2]) else { continue }
            let key = Key(writer: writer, sequence: sequence)
            switch fields[0] {
            case "I" where fields.count >= 4:
                guard let action = Action(fields.dropFirst(3)) else {
                    report.corrupt += 1
                    report.problems.append("cycle \(cycle): cannot parse the child's line: \(line)")
                    continue
                }
                intents[key] = action
            case "A" where fields.count == 4:
                if let opNum = UInt64(fields[3]) { acks[key] = opNum }
            default:
                continue
            }
        }

        // Per writer: acknowledged operations in order, and the one in flight.
        var acknowledged: [Int: [(opNum: UInt64, action: Action)]] = [:]
        var inFlight: [Int: Action] = [:]
        for (key, action) in intents.sorted(by: { ($0.key.writer, $0.key.sequence) < ($1.key.writer, $1.key.sequence) })
        {
            if let opNum = acks[key] {
                // A sweep that found nothing expired logged nothing.
                if opNum == 0, action == .sweep { continue }
                acknowledged[key.writer, default: []].append((opNum, action))
            } else if let earlier = inFlight[key.writer] {
                report.corrupt += 1
                report.problems.append(
                    "cycle \(cycle): writer \(key.writer) had two operations in flight (\(earlier), \(action)): the harness is broken"
                )
            } else {
                inFlight[key.writer] = action
            }
        }
        report.acked = acknowledged.values.reduce(0) { $0 + $1.count }
        report.inFlight = inFlight.count
        let ackedOpNums = Set(acknowledged.values.flatMap { $0.map(\.opNum) })

        // Reopen and read everything back.
        let database: Database
        do {
            database = try open()
        } catch {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): reopening the store failed: \(error)")
            return report
        }
        defer { database.close() }
        // The mixed workload renames the collection and back: it may be under
        // either name, never both; its alias, once seen, names it wherever it is.
        let names = Set(database.collectionNames())
        let present = [CrashWorkload.collectionName, CrashWorkload.renamedCollectionName].filter(names.contains)
        if present.count == 2 {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): the collection exists under both names of a rename: \(present)")
        }
        let alias = database.resolveAlias(CrashWorkload.aliasName)
        if let present = present.first, let alias, alias != present {
            report.corrupt += 1
            report.problems.append(
                "cycle \(cycle): alias \(CrashWorkload.aliasName) names `\(alias)`, the collection is `\(present)`")
        } else if aliasSeen && alias == nil {
            report.corrupt += 1
            report.problems.append(
                "cycle \(cycle): alias \(CrashWorkload.aliasName) is gone (the collection is \(present))")
        }
        if alias != nil { aliasSeen = true }
        let collection: Collection
        do {
            collection = try database.collection(present.first ?? CrashWorkload.collectionName)
        } catch {
            if report.acked == 0 && model.isEmpty { return report }  // killed before the collection existed
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
        let lastNow = collection.storageInfo.lastOperation
        var actual: [UInt64: ReadPoint] = [:]
        for record in records {
            guard case .number(let id) = record.id, id < CrashWorkload.idSpace else {
                report.phantom += 1
                report.problems.append("cycle \(cycle): point \(record.id) is not an id the workload writes")
                continue
            }
            if actual[id] != nil {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): scroll returned point \(id) twice")
            }
            actual[id] = ReadPoint(
                vectors: record.vectors ?? [:], sparseVectors: record.sparseVectors ?? [:],
                payload: record.payload ?? [:],
                version: record.version)
        }

        // Each writer's partition: state A (acknowledged) or B (plus the in-flight operation).
        var recovered: [UInt64: PointState] = [:]
        var appliedInFlight = 0
        var invisibleInFlight = 0
        for writer in 0..<writers {
            let owned = { (id: UInt64) in CrashWorkload.owner(of: id, writers: writers) == writer }
            var stateA = model.filter { owned($0.key) }
            for (opNum, action) in acknowledged[writer] ?? [] {
                if opNum <= lastOperation || opNum > lastNow {
                    report.lost += 1
                    report.problems.append(
                        "cycle \(cycle): writer \(writer)'s acknowledged op \(opNum) is outside (\(lastOperation), \(lastNow)], the op numbers recovery left"
                    )
                }
                _ = action.apply(to: &stateA, writer: writer, version: opNum, named: named)
            }
            var stateB: [UInt64: PointState]?
            var touchedB = Set<UInt64>()
            if let action = inFlight[writer] {
                var b = stateA
                touchedB = action.apply(to: &b, writer: writer, version: 0, named: named)
                if touchedB.isEmpty { invisibleInFlight += 1 } else { stateB = b }
            }
            let present = actual.filter { owned($0.key) }
            let ids = Set(stateA.keys).union(present.keys).union(stateB?.keys ?? [:].keys)

            func matches(_ expected: [UInt64: PointState], floor: UInt64?, touched: Set<UInt64>) -> Bool {
                guard expected.count == present.count else { return false }
                var versions = Set<UInt64>()
                for (id, want) in expected {
                    guard let got = present[id] else { return false }
                    if touched.contains(id) {
                        guard got.equals(want, anyVersionAbove: floor) else { return false }
                        versions.insert(got.version)
                    } else if !got.equals(want) {
                        return false
                    }
                }
                // One operation, one op number: new, within the recovered log, no acknowledged one's.
                if floor != nil, let v = versions.first {
                    guard versions.count == 1, v <= lastNow, !ackedOpNums.contains(v) else { return false }
                }
                return true
            }
            func adopt(_ expected: [UInt64: PointState]) {
                for (id, want) in expected {
                    var point = want
                    point.version = present[id]!.version
                    recovered[id] = point
                }
            }
            if matches(stateA, floor: nil, touched: []) {
                adopt(stateA)
            } else if let stateB, matches(stateB, floor: lastOperation, touched: touchedB) {
                adopt(stateB)
                appliedInFlight += 1
            } else {
                // Name what differs, against A (and B where it explains a point).
                for id in ids.sorted() {
                    let got = present[id]
                    let want = stateA[id]
                    let alternative = stateB?[id]
                    if let got, let want, got.equals(want) { continue }
                    if let got, let alternative, got.equals(alternative, anyVersionAbove: lastOperation) {
                        report.corrupt += 1
                        report.problems.append(
                            "cycle \(cycle): point \(id) shows writer \(writer)'s in-flight operation \(inFlight[writer]!), but the rest of the partition does not: applied in part"
                        )
                        continue
                    }
                    if got == nil && want == nil && alternative == nil { continue }
                    guard let got else {
                        // Only the in-flight operation would have put it here, or
                        // its delete removed it (either is checked as a whole above).
                        guard let want, alternative != nil || stateB == nil else { continue }
                        report.lost += 1
                        report.problems.append(
                            "cycle \(cycle): acknowledged write lost: point \(id) should be \(describe(want)), the store has nothing"
                        )
                        continue
                    }
                    guard let want else {
                        report.phantom += 1
                        report.problems.append(
                            "cycle \(cycle): phantom: point \(id) is \(describe(got)) but should be absent")
                        continue
                    }
                    if let before = model[id], got.equals(before) {
                        report.lost += 1
                        report.problems.append(
                            "cycle \(cycle): acknowledged update lost: point \(id) is still \(describe(got)), should be \(describe(want))"
                        )
                    } else {
                        report.corrupt += 1
                        report.problems.append(
                            "cycle \(cycle): point \(id) is \(describe(got)), should be \(describe(want))")
                    }
                }
                if report.isClean {
                    report.corrupt += 1
                    report.problems.append(
                        "cycle \(cycle): writer \(writer)'s partition matches neither its acknowledged state nor that plus its in-flight operation"
                    )
                }
            }
        }
        report.appliedInFlight = appliedInFlight

        // No holes: the op numbers recovery left are exactly the acknowledged
        // operations and the applied in-flight ones (some of those may be invisible).
        if lastNow < lastOperation {
            report.lost += 1
            report.problems.append("cycle \(cycle): the last op number went back from \(lastOperation) to \(lastNow)")
        } else {
            let logged = Int(lastNow - lastOperation)
            let low = report.acked + appliedInFlight
            if logged < low || logged > low + invisibleInFlight {
                report.corrupt += 1
                report.problems.append(
                    "cycle \(cycle): the recovered log holds \(logged) operations of this cycle, but \(report.acked) were acknowledged, \(appliedInFlight) in-flight ones applied and \(invisibleInFlight) may have been: a hole or a phantom operation"
                )
            }
        }

        for problem in collection.verify() {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): verify: \(problem)")
        }
        if collection.count() != records.count {
            report.corrupt += 1
            report.problems.append(
                "cycle \(cycle): count() says \(collection.count()) but scroll returned \(records.count) points")
        }
        checkFilters(collection, records: records, writers: writers, cycle: cycle, report: &report)
        checkTags(
            collection, lines: lines, cycle: cycle, report: &report,
            history: (acknowledged: acknowledged, inFlight: inFlight, writers: writers))
        // The search reference needs the whole state, known only if every partition matched.
        if report.isClean { checkSearch(collection, state: recovered, cycle: cycle, seed: seed, report: &report) }
        model = recovered
        lastOperation = lastNow
        return report
    }

    /// Filtered count and scroll (through whatever field indexes survived)
    /// agree with each other and with the payloads read back.
    func checkFilters(_ collection: Collection, records: [Record], writers: Int, cycle: Int, report: inout CycleReport)
    {
        var filters: [(String, Filter, (Payload) -> Bool)] = []
        for tag in ["t\(cycle % 97)", "t\((cycle * 7 + 3) % 97)"] {
            filters.append(
                (
                    "tag=\(tag)",
                    Filter(must: [.field(FieldCondition(key: try! PayloadPath("tag"), .match(.value(.keyword(tag)))))]),
                    { $0["tag"] == .string(tag) }
                ))
        }
        let w = Int64(cycle % writers)
        filters.append(
            (
                "w=\(w)",
                Filter(must: [.field(FieldCondition(key: try! PayloadPath("w"), .match(.value(.integer(w)))))]),
                { $0["w"] == .int(w) }
            ))
        filters.append(
            (
                "partition \(w) tag t5", CrashWorkload.partitionFilter(writer: Int(w), tag: "t5"),
                { $0["w"] == .int(w) && $0["tag"] == .string("t5") }
            ))
        var vectorFilters: [(String, Filter, (Record) -> Bool)] = filters.map { name, filter, predicate in
            (name, filter, { predicate($0.payload ?? [:]) })
        }
        if named {
            for name in [CrashWorkload.auxVectorName, CrashWorkload.multiVectorName] {
                vectorFilters.append(
                    ("has_vector \(name)", Filter(must: [.hasVector(name)]), { $0.vectors?[name] != nil }))
            }
            vectorFilters.append(
                (
                    "has_vector \(CrashWorkload.sparseVectorName)",
                    Filter(must: [.hasVector(CrashWorkload.sparseVectorName)]),
                    { $0.sparseVectors?[CrashWorkload.sparseVectorName] != nil }
                ))
        }
        for (name, filter, predicate) in vectorFilters {
            let want = records.filter(predicate).map(\.id).sorted()
            do {
                let counted = try collection.count(filter: filter)
                let scrolled = try collection.scroll(limit: Int.max, filter: filter, withPayload: false).points.map(
                    \.id)
                if counted != want.count || scrolled != want {
                    report.corrupt += 1
                    report.problems.append(
                        "cycle \(cycle): filter \(name): count \(counted), scroll \(scrolled.count) points, payloads say \(want.count)"
                    )
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): filtered read failed: \(error)")
            }
        }
    }

    /// Exact search over the store equals exact search over the model; graph
    /// search returns only live points at their true distance, once each.
    func checkSearch(
        _ collection: Collection, state: [UInt64: PointState], cycle: Int, seed: UInt64, report: inout CycleReport
    ) {
        var rng = SplitMix64(seed: seed ^ UInt64(cycle) &* 31)
        func distance(_ a: [Float], _ b: [Float]) -> Float {
            zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        }
        for _ in 0..<3 {
            let query = CrashWorkload.vector(for: rng.next())
            let limit = 10
            do {
                let hits = try collection.search(query, limit: limit, params: SearchParams(exact: true))
                let approximate = try collection.search(query, limit: limit)
                var seen = Set<PointID>()
                for hit in approximate {
                    guard case .number(let id) = hit.id, let entry = state[id], seen.insert(hit.id).inserted else {
                        report.corrupt += 1
                        report.problems.append(
                            "cycle \(cycle): graph search returned \(hit.id), which is deleted, never written or a duplicate"
                        )
                        continue
                    }
                    let d = distance(CrashWorkload.vector(for: entry.vectorToken), query)
                    if abs(hit.score - d) > 1e-4 * max(1, d) {
                        report.corrupt += 1
                        report.problems.append(
                            "cycle \(cycle): graph search scored \(hit.id) \(hit.score), its vector is at \(d)")
                    }
                }
                let reference = state.values.map { distance(CrashWorkload.vector(for: $0.vectorToken), query) }.sorted()
                    .prefix(limit)
                let got = hits.map(\.score)
                if got.count != reference.count
                    || !zip(got, reference).allSatisfy({ abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
                {
                    report.corrupt += 1
                    report.problems.append(
                        "cycle \(cycle): exact search differs from the model: got \(got), want \(Array(reference))")
                }
            } catch {
                report.corrupt += 1
                report.problems.append("cycle \(cycle): search failed: \(error)")
            }
        }
        if named { checkNamedSearch(collection, state: state, cycle: cycle, rng: &rng, report: &report) }
    }

    /// Exact multivector (max_sim) and sparse (IDF-weighted dot) searches
    /// equal the model's, scores computed here independently.
    func checkNamedSearch(
        _ collection: Collection, state: [UInt64: PointState], cycle: Int, rng: inout SplitMix64,
        report: inout CycleReport
    ) {
        let limit = 10
        func compare(_ what: String, _ got: [Float], _ reference: [Float]) {
            if got.count != reference.count
                || !zip(got, reference).allSatisfy({ abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            {
                report.corrupt += 1
                report.problems.append(
                    "cycle \(cycle): exact \(what) search differs from the model: got \(got), want \(reference)")
            }
        }
        let d = CrashWorkload.multiDimension
        func maxSim(_ query: [Float], _ rows: [Float]) -> Float {
            stride(from: 0, to: query.count, by: d).reduce(Float(0)) { total, q in
                total + stride(from: 0, to: rows.count, by: d).map { r in
                    (0..<d).reduce(Float(0)) { $0 + query[q + $1] * rows[r + $1] }
                }.max()!
            }
        }
        do {
            guard let query = CrashWorkload.multiVector(for: rng.next() | 1) else { return }
            let hits = try collection.search(
                query, using: CrashWorkload.multiVectorName, limit: limit, params: SearchParams(exact: true))
            let reference = state.values.compactMap { $0.multiToken.flatMap(CrashWorkload.multiVector(for:)) }.map {
                maxSim(query, $0)
            }
            compare("multivector", hits.map(\.score), Array(reference.sorted(by: >).prefix(limit)))
        } catch {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): multivector search failed: \(error)")
        }
        do {
            guard let query = CrashWorkload.sparseVector(for: rng.next() | 1) else { return }
            let holders = state.values.compactMap { $0.sparseToken.flatMap(CrashWorkload.sparseVector(for:)) }
            var weighted = query
            for (k, term) in query.indices.enumerated() {
                let df = holders.filter { $0.indices.contains(term) }.count
                weighted.values[k] *= Collection.inverseDocumentFrequency(points: holders.count, documentFrequency: df)
            }
            let reference = holders.map { SparseVector.dot(weighted, $0).score }.filter { $0 != 0 }.sorted(by: >)
                .prefix(limit)
            let hits = try collection.searchSparse(query, using: CrashWorkload.sparseVectorName, limit: limit)
            compare("sparse", hits.map(\.score), Array(reference))
        } catch {
            report.corrupt += 1
            report.problems.append("cycle \(cycle): sparse search failed: \(error)")
        }
    }

    func describe(_ state: PointState) -> String {
        "vector \(state.vectorToken), payload \(state.payload), op \(state.version)"
    }

    func describe(_ point: ReadPoint) -> String {
        "payload \(point.payload), op \(point.version)"
    }
}
