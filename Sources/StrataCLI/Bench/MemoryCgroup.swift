import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A memory cgroup that caps what a benchmark's query process may hold in
/// RAM, its page cache included, so "data larger than RAM" is measured
/// honestly on a machine with plenty of it (docs/benchmarks.md, "Beyond
/// RAM"). cgroup v1 (`memory.limit_in_bytes`) and v2 (`memory.max`) are both
/// detected; the group is made below the cgroup this process is in.
///
/// Lifetime: `create` makes the group, the query process `join`s it, and
/// `remove` deletes it once that process has exited.
struct MemoryCgroup {
    enum Version: String { case v1, v2 }

    /// The group's directory.
    let path: String
    let version: Version

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Makes a group capped at `limit` bytes; a clear error when cgroups are
    /// not there or not writable (run as root, or give this user the subtree).
    static func create(limit: Int, name: String) throws -> MemoryCgroup {
        guard let (parent, version) = ownGroup() else {
            throw Failure(
                description:
                    "--memory-limit needs a memory cgroup: neither /sys/fs/cgroup/memory (v1) nor a cgroup2 mount with the memory controller was found"
            )
        }
        let path = parent + "/" + name
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Failure(
                description:
                    "--memory-limit: cannot create the cgroup \(path): \(String(cString: strerror(errno))) (cgroups are writable by root; run the bench as root or delegate that cgroup to this user)"
            )
        }
        let group = MemoryCgroup(path: path, version: version)
        do {
            switch version {
            case .v1:
                try group.write("memory.limit_in_bytes", String(limit))
                // Swap would let the cap leak into swap: none.
                try? group.write("memory.memsw.limit_in_bytes", String(limit))
                try? group.write("memory.swappiness", "0")
            case .v2:
                // The parent must hand the memory controller down (allowed when it holds no process itself).
                try? MemoryCgroup(path: parent, version: .v2).write("cgroup.subtree_control", "+memory")
                try group.write("memory.max", String(limit))
                try? group.write("memory.swap.max", "0")
            }
        } catch {
            group.remove()
            throw error
        }
        return group
    }

    /// Moves this process into the group: from now on what it maps and
    /// allocates counts against the cap.
    func join() throws {
        try write("cgroup.procs", String(getpid()))
    }

    /// Deletes the group (it must have no process left).
    func remove() {
        rmdir(path)
    }

    /// Bytes charged to the group now, and its largest charge so far (when
    /// the kernel reports it).
    func usage() -> (current: Int?, peak: Int?) {
        switch version {
        case .v1: (number("memory.usage_in_bytes"), number("memory.max_usage_in_bytes"))
        case .v2: (number("memory.current"), number("memory.peak"))
        }
    }

    /// Page cache and anonymous memory charged to the group, bytes.
    func breakdown() -> (pageCache: Int?, anonymous: Int?) {
        guard let text = try? String(contentsOfFile: path + "/memory.stat", encoding: .utf8) else { return (nil, nil) }
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        switch version {
        case .v1: return (values["cache"], values["rss"])
        case .v2: return (values["file"], values["anon"])
        }
    }

    private func number(_ file: String) -> Int? {
        (try? String(contentsOfFile: path + "/" + file, encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func write(_ file: String, _ value: String) throws {
        let fd = open(path + "/" + file, O_WRONLY)
        guard fd >= 0 else {
            throw Failure(description: "cannot open \(path)/\(file): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw Failure(description: "cannot write \(value) to \(path)/\(file): \(String(cString: strerror(errno)))")
        }
    }

    /// The directory of the memory cgroup this process is in, and the version.
    private static func ownGroup() -> (String, Version)? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains("memory"),
                FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes")
                    || FileManager.default.fileExists(
                        atPath: "/sys/fs/cgroup/memory" + parts[2] + "/memory.limit_in_bytes")
            {
                return ("/sys/fs/cgroup/memory" + (parts[2] == "/" ? "" : String(parts[2])), .v1)
            }
        }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            let relative = String(line.dropFirst(3))
            let path = "/sys/fs/cgroup" + (relative == "/" ? "" : relative)
            if let controllers = try? String(contentsOfFile: path + "/cgroup.controllers", encoding: .utf8),
                controllers.split(whereSeparator: \.isWhitespace).contains("memory")
            {
                return (path, .v2)
            }
        }
        return nil
    }

    /// Bytes from `512M`, `1G`, `1.5GiB`, `1073741824`.
    static func parseBytes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value > 0 else { return nil }
        let unit = trimmed.dropFirst(digits.count).lowercased()
        let scale: Double
        switch unit {
        case "", "b": scale = 1
        case "k", "kb", "kib": scale = 1024
        case "m", "mb", "mib": scale = 1_048_576
        case "g", "gb", "gib": scale = 1_073_741_824
        default: return nil
        }
        return Int(value * scale)
    }
}
