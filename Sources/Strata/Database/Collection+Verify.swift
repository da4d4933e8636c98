import StrataIO
import StrataWAL

extension Collection {
    /// Checks that the collection files in `directory` open, without opening
    /// a collection: everything `open` reads, read by the code `open` uses —
    /// `config.json` (`readConfig`), the MANIFEST, every segment it names
    /// (header, footer, section table, small sections, HNSW graphs, quantized
    /// codes, payload and sparse indexes) and every tombstone file
    /// (`CollectionStore.init`), every WAL record after the checkpoint decoded,
    /// checked against the config and applied in memory (`replay`) — and then
    /// every byte of every segment against its checksums (`verify()`: vector
    /// data, payload blocks, all sections).
    ///
    /// Restore runs it on each staged collection before its commit point
    /// (docs/format/snapshot.md, "Restore protocol"), so an archive whose
    /// checksums match but whose files do not open is refused instead of
    /// replacing a working collection.
    ///
    /// Lifetime: starts no thread and keeps nothing; every file it opened is
    /// closed and every segment mapping released when it returns or throws.
    /// The WAL files are only read (no torn tail is cut; one is an error here).
    /// Like `open`, it creates a missing `segments/` directory and removes
    /// files there that the MANIFEST does not name.
    ///
    /// - Complexity: reads every file of the collection once or twice, and
    ///   holds the WAL's operations in memory as `open` does. Blocking.
    /// - Throws: the first problem, as `open` would throw it (`.corruption`
    ///   naming the file, the section and what is wrong; `.io` when a file
    ///   cannot be read).
    static func verifyFiles(name: String, directory: String, fileSystem: any FileSystem) throws {
        let (config, history) = try readConfig(directory: directory, fileSystem: fileSystem)
        let store = try CollectionStore(
            name: name, directory: directory, config: config, vectorHistory: history, fileSystem: fileSystem)
        let checkpoint = store.checkpoint
        let walDirectory = joinPath(directory, walDirectoryName)
        var files: [(firstOpNum: UInt64, path: String)] = []
        if fileSystem.fileKind(walDirectory) == .directory {
            for file in try fileSystem.listDirectory(walDirectory) {
                if let first = WALFormat.firstOpNum(fromFileName: file) {
                    files.append((first, joinPath(walDirectory, file)))
                }
            }
        }
        files.sort { $0.firstOpNum < $1.firstOpNum }
        var next: UInt64?
        for file in files {
            func bad(_ why: String) -> StrataError { StrataError(.corruption, "WAL file \(file.path) \(why)") }
            let bytes = try fileSystem.open(file.path, mode: .readOnly).readAll()
            let scan: WALFileScan
            do {
                scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
            } catch {
                throw bad("has a bad header: \(error)")
            }
            guard scan.firstOpNum == file.firstOpNum else {
                throw bad("starts at op \(scan.firstOpNum), not the op its name says")
            }
            if let stop = scan.stop { throw bad("is damaged: \(stop)") }
            if let next, scan.firstOpNum != next {
                throw bad("starts at op \(scan.firstOpNum), expected \(next): the log has a gap")
            }
            do {
                try bytes.withUnsafeBytes { raw in
                    for record in scan.records {
                        try replay(
                            record.opNum, UnsafeRawBufferPointer(rebasing: raw[record.payloadRange]),
                            checkpoint: checkpoint,
                            name: name, directory: directory, config: config, history: history, into: store)
                    }
                }
            } catch let error as StrataError {
                // `open` names the WAL directory; here the file is known.
                throw StrataError(error.code, "WAL file \(file.path): \(error.message)", cause: error)
            }
            let (end, past) = scan.firstOpNum.addingReportingOverflow(UInt64(scan.records.count))
            guard !past else { throw bad("runs past the largest operation number") }
            next = end
        }
        // The checks of `open` after replay: every operation after the checkpoint is in the log.
        let first = files.first?.firstOpNum ?? 1
        let last = max(next ?? 1, 1) - 1
        guard checkpoint == .max || first <= checkpoint + 1 else {
            throw StrataError(
                .corruption,
                "the WAL of collection `\(name)` starts at operation \(first) but its manifest's checkpoint is \(checkpoint): operations are missing from \(walDirectory)"
            )
        }
        guard last >= checkpoint else {
            throw StrataError(
                .corruption,
                "the WAL of collection `\(name)` ends at operation \(last) but its manifest's checkpoint is \(checkpoint): WAL files are missing"
            )
        }
        let problems = store.verifySegments().problems
        guard problems.isEmpty else {
            throw StrataError(.corruption, problems.joined(separator: "; "))
        }
    }
}
