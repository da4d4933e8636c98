import Foundation

/// The server process's resident memory against the memory it may use, for
/// strict mode's `max_resident_memory_percent` (Qdrant's quota measurement:
/// resident bytes as a whole percentage of total memory).
enum ResidentMemory {
    /// ⌊100 × resident / total⌋, where total is the machine's memory or the
    /// memory cgroup's limit when that is smaller (v1 `memory.limit_in_bytes`
    /// or v2 `memory.max`); nil when either cannot be read.
    static func percentUsed() -> Int? {
        guard let resident = residentBytes(), let total = totalBytes(), total > 0 else { return nil }
        return Int(min(100 * resident / total, 255))
    }

    /// VmRSS of /proc/self/status.
    static func residentBytes() -> UInt64? {
        kilobytes(field: "VmRSS:", in: "/proc/self/status").map { $0 * 1024 }
    }

    static func totalBytes() -> UInt64? {
        guard let machine = kilobytes(field: "MemTotal:", in: "/proc/meminfo").map({ $0 * 1024 }) else { return nil }
        let limits = ["/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"].compactMap {
            (try? String(contentsOfFile: $0, encoding: .utf8)).flatMap {
                UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return ([machine] + limits).min()
    }

    private static func kilobytes(field: String, in path: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return line.dropFirst(field.count).split(whereSeparator: \.isWhitespace).first.flatMap { UInt64($0) }
        }
        return nil
    }
}
