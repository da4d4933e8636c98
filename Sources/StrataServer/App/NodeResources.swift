import Foundation
import Glibc

/// The node-wide resources that strict mode's `max_resident_memory_percent`
/// and the node's quota (`max_resident_memory_percent`,
/// `max_disk_usage_percent`) limit: measured here, once, for both, as whole
/// percentages, and judged against a limit with the same refusal text
/// (Qdrant's quota `Resource`).
enum NodeResource: Sendable, CaseIterable {
    case residentMemory
    case diskUsage

    /// The config field that limits it.
    var parameter: String {
        switch self {
        case .residentMemory: "max_resident_memory_percent"
        case .diskUsage: "max_disk_usage_percent"
        }
    }

    /// Measures it now: the process's resident memory, or the used space of
    /// the file system holding `directory`; nil when it cannot be read.
    static func measure(_ resource: NodeResource, directory: String) -> Int? {
        switch resource {
        case .residentMemory: ResidentMemory.percentUsed()
        case .diskUsage: DiskUsage.percentUsed(path: directory)
        }
    }

    /// `used` of `total` as a whole percentage, rounded down and at most 100
    /// (a limit is reached only once fully reached); nil for a zero total.
    static func percent(_ used: UInt64, of total: UInt64) -> Int? {
        guard total > 0 else { return nil }
        let (high, low) = used.multipliedFullWidth(by: 100)
        guard high == 0 else { return 100 }
        return Int(min(low / total, 100))
    }

    /// Qdrant's condition text for a reading `used` that reached `threshold`
    /// (the limit, or less while a tripped quota waits for its release margin).
    func condition(used: Int, limit: Int, threshold: Int) -> String {
        let (name, total) =
            switch self {
            case .residentMemory: ("Resident memory usage", "total memory")
            case .diskUsage: ("Disk usage", "total capacity")
            }
        if used >= limit {
            return "\(name) is at \(used)% of \(total), exceeding the configured limit of \(limit)%"
        }
        return
            "\(name) is at \(used)% of \(total). It reached the configured limit of \(limit)% and has to fall below \(threshold)% before this node takes writes again"
    }

    /// What frees it (the start of Qdrant's help text).
    var remedy: String {
        switch self {
        case .residentMemory: "Reduce memory usage (e.g. delete points or drop collections)"
        case .diskUsage: "Reduce disk usage (e.g. delete points or drop collections)"
        }
    }
}

/// The server process's resident memory against the memory it may use
/// (Qdrant's measurement: resident bytes as a whole percentage of total memory).
enum ResidentMemory {
    /// ⌊100 × resident / total⌋, where total is the machine's memory or the
    /// memory cgroup's limit when that is smaller (v1 `memory.limit_in_bytes`
    /// or v2 `memory.max`); nil when either cannot be read.
    static func percentUsed() -> Int? {
        guard let resident = residentBytes(), let total = totalBytes() else { return nil }
        return NodeResource.percent(resident, of: total)
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

/// The used space of a file system (Qdrant's: capacity less the space
/// available to unprivileged users, as a whole percentage of capacity).
enum DiskUsage {
    /// (capacity, available) in bytes of the file system holding `path`
    /// (statvfs), or nil when it cannot be read.
    static func bytes(path: String) -> (total: UInt64, available: UInt64)? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        let unit = UInt64(stats.f_frsize > 0 ? stats.f_frsize : stats.f_bsize)
        return (UInt64(stats.f_blocks) * unit, UInt64(stats.f_bavail) * unit)
    }

    static func percentUsed(path: String) -> Int? {
        guard let (total, available) = bytes(path: path) else { return nil }
        return NodeResource.percent(total > available ? total - available : 0, of: total)
    }
}
