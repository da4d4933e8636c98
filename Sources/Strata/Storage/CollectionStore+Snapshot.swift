import StrataIO
import StrataWAL

/// A consistent view of one collection's files at one operation number,
/// taken for a snapshot while writes continue (docs/format/snapshot.md,
/// "Taking a snapshot").
///
/// Lifetime: the immutable files are pinned by open descriptors, so the
/// optimizer may merge them away and delete them meanwhile (an unlinked file
/// stays readable through a descriptor); drop the view when done.
struct CollectionFileView {
    /// A file of the view, by path relative to the collection directory.
    struct File {
        enum Content {
            /// Small files read at the cut (metadata) and the WAL tail.
            case bytes([UInt8])
            /// An immutable segment or tombstone file, pinned open.
            case pinned(any StorageFile)
        }

        var path: String
        var size: UInt64
        var content: Content
    }

    /// The last operation the view holds.
    var opNum: UInt64
    /// The checkpoint of the view's MANIFEST; the WAL tail holds checkpoint+1 … opNum.
    var checkpoint: UInt64
    var files: [File]
}

extension CollectionStore {
    /// Flushes, then takes a `CollectionFileView`:
    /// - under `maintenancePass` (no other flush or merge may replace the MANIFEST
    ///   or delete a file meanwhile) and the state lock held exclusively (no
    ///   operation is applied meanwhile): the op number of the last applied
    ///   operation, and the bytes of every top-level regular file of the
    ///   collection directory (config.json, MANIFEST, and whatever metadata
    ///   files a later version adds), skipping `*.tmp`;
    /// - still under `maintenancePass`: descriptors on the segment and
    ///   tombstone files the MANIFEST names and on the WAL files that may hold
    ///   operations after its checkpoint;
    /// - after releasing both: the WAL records checkpoint+1 … opNum, copied
    ///   byte for byte (CRCs included) into one new WAL file image that ends
    ///   exactly at opNum (later records are left out).
    ///
    /// Blocking (a flush and file reads). Throws `StrataError`.
    func captureSnapshotView() throws -> CollectionFileView {
        let walDirectory = joinPath(directory, Collection.walDirectoryName)
        let (opNum, manifest, metadata, pinned, walFiles) = try maintenancePass.withLock { _ in
            // Flush what is sealed now (and the mutable segment if nothing is),
            // but not what writers seal meanwhile: under a steady write load a
            // plain flush() would chase new segments and never return. Later
            // operations reach the snapshot through the WAL tail.
            sealIfNeeded(force: true)
            for _ in 0..<withStateLock({ $0.frozen.count }) {
                guard let segment = oldestFrozen() else { break }
                try flush(segment)
            }
            let (opNum, metadata) = try withStateLock { state -> (UInt64, [CollectionFileView.File]) in
                var files: [CollectionFileView.File] = []
                for name in try fileSystem.listDirectory(directory) where !name.hasSuffix(".tmp") {
                    let path = joinPath(directory, name)
                    guard fileSystem.fileKind(path) == .file else { continue }
                    let bytes = try fileSystem.open(path, mode: .readOnly).readAll()
                    files.append(.init(path: name, size: UInt64(bytes.count), content: .bytes(bytes)))
                }
                return (state.appliedOpNum, files)
            }
            // The MANIFEST read at the cut, decoded by the engine's own reader,
            // says which immutable files belong to the view.
            let manifest =
                try metadata.first { $0.path == Manifest.fileName }.map { file -> Manifest in
                    guard case .bytes(let bytes) = file.content else { preconditionFailure() }
                    return try Manifest.decode(bytes, path: joinPath(directory, Manifest.fileName))
                } ?? Manifest()
            var pinned: [CollectionFileView.File] = []
            for entry in manifest.segments {
                var names = [Manifest.segmentFileName(entry.segmentID)]
                if entry.tombstoneGeneration > 0 {
                    names.append(Manifest.tombstoneFileName(entry.segmentID, generation: entry.tombstoneGeneration))
                }
                for name in names {
                    let file = try fileSystem.open(joinPath(segmentsDirectory, name), mode: .readOnly)
                    pinned.append(.init(path: "segments/" + name, size: try file.size(), content: .pinned(file)))
                }
            }
            let starts = try fileSystem.listDirectory(walDirectory).compactMap { name in
                WALFormat.firstOpNum(fromFileName: name).map { (op: $0, name: name) }
            }.sorted { $0.op < $1.op }
            var walFiles: [(name: String, file: any StorageFile)] = []
            for (index, start) in starts.enumerated() where start.op <= opNum {
                // Skip files whose every record is at or below the checkpoint.
                if index + 1 < starts.count, starts[index + 1].op <= manifest.checkpoint + 1 { continue }
                walFiles.append((start.name, try fileSystem.open(joinPath(walDirectory, start.name), mode: .readOnly)))
            }
            return (opNum, manifest, metadata, pinned, walFiles)
        }
        let tail = try walTail(from: walFiles, after: manifest.checkpoint, through: opNum, directory: walDirectory)
        let walFile = CollectionFileView.File(
            path: Collection.walDirectoryName + "/" + WALFormat.fileName(firstOpNum: manifest.checkpoint + 1),
            size: UInt64(tail.count), content: .bytes(tail))
        return CollectionFileView(opNum: opNum, checkpoint: manifest.checkpoint, files: metadata + pinned + [walFile])
    }

    /// One WAL file image starting at `checkpoint + 1` holding the records
    /// `checkpoint + 1 … opNum` found in `files` (oldest first), unchanged.
    private func walTail(
        from files: [(name: String, file: any StorageFile)], after checkpoint: UInt64, through opNum: UInt64,
        directory walDirectory: String
    ) throws -> [UInt8] {
        var image = WALFormat.encodeFileHeader(firstOpNum: checkpoint + 1)
        var next = checkpoint + 1
        for (name, file) in files where next <= opNum {
            // The newest file may grow (or hold a torn group) while it is read:
            // only records up to opNum are used, and those were complete before
            // their operations were applied.
            let bytes = try file.readAll()
            let scan: WALFileScan
            do {
                scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
            } catch {
                throw StrataError(
                    .corruption,
                    "snapshot of collection `\(self.name)`: WAL file \(joinPath(walDirectory, name)) has a bad header: \(error)"
                )
            }
            for record in scan.records where record.opNum >= next && record.opNum <= opNum {
                guard record.opNum == next else { break }
                image.append(contentsOf: bytes[record.offset..<record.payloadRange.upperBound])
                next += 1
            }
        }
        guard next == opNum + 1 else {
            throw StrataError(
                .corruption,
                "snapshot of collection `\(name)`: the WAL in \(walDirectory) does not hold operations \(next)…\(opNum) although they were applied; the snapshot was not written"
            )
        }
        return image
    }
}
