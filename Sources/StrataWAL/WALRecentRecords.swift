// Invariants of `WALRecentRecords`:
// - `payloads[head...]` are the records `firstOpNum, firstOpNum + 1, …`, with
//   no gap; entries before `head` are evicted (emptied, awaiting compaction).
// - `bytes` is the sum of the held payloads' counts, and after every mutation
//   `bytes <= budget` (a record larger than the budget is not kept at all).
// - Records enter only after the log wrote them (and, in `.durable` mode,
//   synced them): every held record is in a log file, or in one that a
//   checkpoint removed, which `removeRecords(below:)` mirrors.

/// The newest records a log appended, kept in memory up to a byte budget, so
/// that reading recent records back (`WriteAheadLog.records(after:maxBytes:)`,
/// what a primary ships to its replicas) needs no file I/O. The oldest are
/// dropped first.
///
/// The payloads are the arrays the appenders handed to the log, shared rather
/// than copied (copy-on-write), so keeping and returning them costs no copy.
///
/// Thread safety: none of its own; `WriteAheadLog` keeps it inside a `Locked`.
struct WALRecentRecords: Sendable {
    /// At most this many payload bytes are held; 0 holds nothing.
    let budget: Int
    /// The op number of `payloads[head]` (meaningless while empty).
    private var firstOpNum: UInt64 = 0
    private var payloads: [[UInt8]] = []
    private var head = 0
    private(set) var bytes = 0

    init(budget: Int) {
        self.budget = max(budget, 0)
    }

    /// How many records are held.
    var count: Int { payloads.count - head }

    /// Keeps `payload` as record `opNum`, then drops the oldest records until
    /// the budget holds. A record that does not follow the newest one held
    /// (the log never does that) first empties the cache, keeping it gap-free.
    /// Amortized O(1) per record.
    mutating func append(opNum: UInt64, payload: [UInt8]) {
        guard budget > 0 else { return }
        if count > 0, opNum != firstOpNum + UInt64(count) { removeAll() }
        if count == 0 {
            payloads.removeAll(keepingCapacity: true)
            head = 0
            firstOpNum = opNum
        }
        payloads.append(payload)
        bytes += payload.count
        while bytes > budget && count > 0 { removeOldest() }
    }

    /// Drops the records with op numbers below `opNum` (a checkpoint removed
    /// the files that held them: the log no longer holds them either).
    mutating func removeRecords(below opNum: UInt64) {
        while count > 0 && firstOpNum < opNum { removeOldest() }
    }

    /// The held records `opNum`, `opNum + 1`, … through `last` at most, as
    /// many as fit in `maxBytes` of payload (at least one: the last one taken
    /// is the one that reaches `maxBytes`). nil when `opNum` is not held or
    /// `opNum > last`: the caller reads the files instead. O(records returned).
    func records(from opNum: UInt64, through last: UInt64, maxBytes: Int) -> [(opNum: UInt64, payload: [UInt8])]? {
        guard count > 0, opNum >= firstOpNum, opNum <= last else { return nil }
        let newest = firstOpNum + UInt64(count) - 1
        guard opNum <= newest else { return nil }
        var result: [(opNum: UInt64, payload: [UInt8])] = []
        var taken = 0
        var index = head + Int(opNum - firstOpNum)
        var next = opNum
        while next <= min(last, newest) {
            let payload = payloads[index]
            result.append((next, payload))
            taken += payload.count
            if taken >= maxBytes { break }
            next += 1
            index += 1
        }
        return result
    }

    private mutating func removeOldest() {
        bytes -= payloads[head].count
        payloads[head] = []
        head += 1
        firstOpNum += 1
        if head == payloads.count {
            payloads.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= payloads.count {
            // Compact once the evicted prefix is half the array: amortized O(1).
            payloads.removeFirst(head)
            head = 0
        }
    }

    private mutating func removeAll() {
        payloads.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }
}
