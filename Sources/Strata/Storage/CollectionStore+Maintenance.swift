import Foundation
import StrataHNSW
import StrataIO
import StrataPayload
import StrataSegment

/// Sealing, flushing, merging, vacuuming, publishing and WAL truncation.
/// Everything here runs under `maintenancePass`: on the collection's
/// maintenance thread, or on a caller's thread through `flush()`/`optimize()`.
extension CollectionStore {
    /// Wakes the maintenance thread (e.g. the mutable segment passed its threshold).
    func requestMaintenance() {
        schedule.withLock { $0.wakeRequested = true }
        schedule.signal()
    }

    func runMaintenance() {
        let interval = UInt64(config.optimizers.flushIntervalSec) * 1_000_000_000
        while true {
            let (stop, requested, paused) = schedule.withLock(
                whenReady: { $0.stopping || $0.wakeRequested }, timeoutNanoseconds: interval
            ) { schedule in
                defer { schedule.wakeRequested = false }
                return (schedule.stopping, schedule.wakeRequested, schedule.paused)
            }
            if stop { break }
            if paused { continue }
            do {
                // Woken by the size threshold: flush what passed it. Woken by the
                // interval: flush whatever is newer than the checkpoint.
                try maintenancePass(forceFlush: !requested)
            } catch {
                // Stopping interrupts a segment build (`.closed`): not a failure.
                if isStopping { break }
                recordMaintenanceError(error)
                // Back off: the WAL still holds everything; retry on the next wake-up.
            }
        }
        schedule.withLock { $0.stopped = true }
        schedule.broadcast()
    }

    /// Seals and writes the mutable segment (if it holds anything newer than the
    /// checkpoint), publishes a new manifest, truncates the WAL. Blocking.
    func flush() throws {
        try maintenancePass(forceFlush: true, merge: false)
    }

    /// Flushes, then merges and vacuums until the segment set meets the
    /// optimizer config. Blocking.
    func optimize() throws {
        try maintenancePass(forceFlush: true, merge: true)
    }

    private func maintenancePass(forceFlush: Bool, merge: Bool = true) throws {
        try maintenancePass.withLock { _ in
            try sealAndFlush(force: forceFlush)
            if merge {
                while !isStopping, try mergeOnce() {}
            }
            clearMaintenanceError()
        }
    }

    /// Whether `stop()` was called: a pass then ends after the segment it is
    /// writing, so closing does not wait for the whole backlog (after a long
    /// WAL replay that can be hundreds of segments), and a segment's graph
    /// build stops between two of its batches (`buildVectorIndexes`), so
    /// closing does not wait for a build of minutes either. The WAL still
    /// holds everything not flushed; the next open continues.
    var isStopping: Bool { schedule.withLock { $0.stopping } }

    // MARK: - Flush

    func sealAndFlush(force: Bool) throws {
        sealIfNeeded(force: force)
        while !isStopping, let segment = oldestFrozen() {
            try flush(segment)
        }
    }

    /// Turns the mutable segment into a frozen one when it is big enough, or
    /// when `force` and it holds operations newer than the checkpoint.
    func sealIfNeeded(force: Bool) {
        withStateLock { state in
            let threshold = config.optimizers.indexingThresholdKB * 1024
            // Operations the mutable segment holds (or tombstones it must
            // carry to disk) are those after the newest seal, not merely
            // after the checkpoint: a writer may have sealed a segment the
            // optimizer has not written yet.
            let sealedThrough = state.frozen.last?.sealOpNum ?? state.manifest.checkpoint
            let hasNewOps = state.appliedOpNum > sealedThrough
            if state.mutable.vectorBytes >= threshold || (force && hasNewOps) {
                state.frozen.append(FrozenSegment(segment: state.mutable, sealOpNum: state.appliedOpNum))
                state.mutable = MutableSegment(config: config)
            }
        }
    }

    func oldestFrozen() -> FrozenSegment? { withStateLock { $0.frozen.first } }

    /// Seals the mutable segment now without writing it: it waits, frozen,
    /// for the next flush (a step of `flush`, on its own so that operations
    /// can arrive between a seal and its publish).
    func seal() { maintenancePass.withLock { _ in sealIfNeeded(force: true) } }

    /// Writes and publishes the oldest frozen segment, if any (the other step
    /// of `flush`).
    func flushOldestFrozen() throws {
        try maintenancePass.withLock { _ in
            if let segment = oldestFrozen() { try flush(segment) }
        }
    }

    /// Writes a frozen segment as an immutable one and publishes it.
    func flush(_ segment: FrozenSegment) throws {
        let input = OptimizationInfo.SegmentRef(
            source: .sealed(opNum: segment.sealOpNum), points: segment.segment.pointCount)
        try trackOptimization(.indexing, segments: [input]) { progress in
            progress.stage("collect points")
            let points = segment.segment.buildPoints()
            let id = withStateLock { state -> UInt64 in
                defer { state.manifest.nextSegmentID += 1 }
                return state.manifest.nextSegmentID
            }
            let schema = withStateLock { $0.payloadSchema }
            progress.stage("build indexes and write segment", total: points.count)
            let reader = try points.isEmpty ? nil : writeSegment(id: id, points: points, payloadSchema: schema)
            let opened = try reader.map {
                try ImmutableSegment(
                    id: id, reader: $0, config: config, payloadSchema: schema,
                    hiddenVectors: vectorHistory.hiddenNames(inSegment: id))
            }
            withStateLock { state in
                precondition(state.frozen.first === segment, "frozen segments are flushed oldest first")
                state.frozen.removeFirst()
                if let reader, let written = opened {
                    state.reconcileFieldIndexes(of: written)
                    // Deletions that reached the frozen segment while it was written.
                    for (pointID, opNum) in segment.tombstones {
                        if let offset = reader.offset(of: pointID) { written.tombstone(UInt32(offset), opNum: opNum) }
                    }
                    state.immutables.append(written)
                }
            }
            progress.stage("publish")
            try publish(checkpoint: segment.sealOpNum, retiring: [])
        }
        wakeStalledWriters()
    }

    /// Writes and syncs `segments/seg-<id>.seg` and opens it.
    private func writeSegment(
        id: UInt64, points: [SegmentBuildPoint], reusing seeds: [String: HNSWSeedGraph] = [:],
        payloadSchema: [PayloadPath: PayloadFieldSchema]
    ) throws
        -> SegmentReader
    {
        let path = joinPath(segmentsDirectory, Manifest.segmentFileName(id))
        let specs = config.vectors.keys.sorted().map {
            SegmentVectorSpec(
                name: $0, dimension: config.vectors[$0]!.size, datatype: config.vectors[$0]!.storedDatatype)
        }
        if fileSystem.fileKind(path) != nil { try fileSystem.removeFile(path) }  // an unpublished leftover
        let indexes = try buildVectorIndexes(for: points, reusing: seeds)
        let fieldIndexes = payloadSchema.keys.sorted().map { key in
            SegmentFieldIndex(
                key: key.description,
                bytes: FieldIndex.build(
                    key: key, schema: payloadSchema[key]!, pointCount: points.count
                ) { points[$0].payload }.encoded())
        }
        _ = try SegmentWriter.write(
            points, vectors: specs, compression: config.payloadCompression, indexes: indexes,
            fieldIndexes: fieldIndexes, sparseVectors: config.sparseVectors.keys.sorted(),
            multiVectors: config.multiVectorNames, to: path, fileSystem: fileSystem)
        try fileSystem.syncDirectory(segmentsDirectory)
        return try SegmentReader.open(path: path, fileSystem: fileSystem)
    }

    // MARK: - Merge and vacuum

    /// Runs one merge or vacuum if the segment set calls for it; returns
    /// whether it did.
    private func mergeOnce() throws -> Bool {
        // Pick inputs and snapshot their tombstones.
        let plan: (inputs: [ImmutableSegment], snapshots: [[UInt32: UInt64]], checkpoint: UInt64)? = withStateLock {
            state in
            let segments = state.immutables.map { segment in
                MergePlanner.Segment(
                    id: segment.id, pointCount: segment.reader.pointCount, deletedCount: segment.tombstones.count,
                    hasDurableDeletion: segment.tombstones.values.contains { $0 <= state.manifest.checkpoint })
            }
            let inputIDs: [UInt64]
            switch MergePlanner.plan(segments, MergePlanner.Config(config)).first {
            case .vacuum(let id): inputIDs = [id]
            case .merge(let ids): inputIDs = ids
            case nil: return nil
            }
            let inputs = inputIDs.map { id in state.immutables.first { $0.id == id }! }
            return (inputs, inputs.map(\.tombstones), state.manifest.checkpoint)
        }
        guard let plan else { return false }
        // Count from the snapshot taken under the lock: a segment's tombstones
        // change under the state lock while deletes apply, so reading them here
        // would race with that writer (it crashed the merge after a reopen).
        let inputs = zip(plan.inputs, plan.snapshots).map { segment, tombstones in
            OptimizationInfo.SegmentRef(source: .file(segment.id), points: segment.reader.pointCount - tombstones.count)
        }
        return try trackOptimization(plan.inputs.count == 1 ? .vacuum : .merge, segments: inputs) { progress in
            progress.stage("check inputs")

            // Vector rows carry no checksum of their own and open does not read
            // them: check the inputs' sections before copying, or a flipped bit
            // would get a fresh checksum in the output and never be found again.
            for segment in plan.inputs {
                if let problem = segment.reader.verifyVectorData().first {
                    throw StrataError(
                        .corruption, "collection `\(name)`: cannot merge segment \(segment.reader.path): \(problem)",
                        cause: problem)
                }
            }
            // Copy the live points out. A tombstone newer than the checkpoint lives
            // only in memory, so its point is kept (and tombstoned again below):
            // replaying that operation after a crash must still find it.
            progress.stage("copy live points", total: plan.inputs.reduce(0) { $0 + $1.reader.pointCount })
            var points: [SegmentBuildPoint] = []
            for (segment, tombstones) in zip(plan.inputs, plan.snapshots) {
                defer { progress.advance(segment.reader.pointCount) }
                let reader = segment.reader
                for offset in 0..<reader.pointCount {
                    // Reading millions of payloads takes a while: a closing collection does not wait for it.
                    if offset & 4095 == 0, isStopping {
                        throw StrataError(
                            .closed, "collection `\(name)` is closing: the merge stopped while copying points")
                    }
                    if let opNum = tombstones[UInt32(offset)], opNum <= plan.checkpoint { continue }
                    let payload: Payload?
                    do {
                        payload = try reader.payload(at: offset)
                    } catch {
                        throw StrataError(
                            .corruption, "collection `\(name)`: cannot merge segment \(reader.path): \(error)",
                            cause: error as? SegmentError)
                    }
                    points.append(
                        config.segmentBuildPoint(
                            id: reader.id(at: offset), version: reader.version(at: offset),
                            vectors: segment.vectors(at: offset), payload: payload,
                            sparseVectors: segment.sparseVectors(at: offset)))
                }
            }
            points.sort { $0.id < $1.id }
            let id = withStateLock { state -> UInt64 in
                defer { state.manifest.nextSegmentID += 1 }
                return state.manifest.nextSegmentID
            }
            let snapshots = Dictionary(uniqueKeysWithValues: zip(plan.inputs.map(\.id), plan.snapshots))
            let seeds = mergeSeeds(
                inputs: plan.inputs,
                keep: { segment, offset in
                    guard let opNum = snapshots[segment.id]?[UInt32(offset)] else { return true }
                    return opNum > plan.checkpoint
                }, into: points)
            let schema = withStateLock { $0.payloadSchema }
            progress.stage("build indexes and write segment", total: points.count)
            let reader =
                try points.isEmpty ? nil : writeSegment(id: id, points: points, reusing: seeds, payloadSchema: schema)
            let opened = try reader.map {
                try ImmutableSegment(
                    id: id, reader: $0, config: config, payloadSchema: schema,
                    hiddenVectors: vectorHistory.hiddenNames(inSegment: id))
            }

            withStateLock { state in
                let inputIDs = Set(plan.inputs.map(\.id))
                state.immutables.removeAll { inputIDs.contains($0.id) }
                guard let reader, let merged = opened else { return }
                // Every tombstone the inputs hold now that the output still has a
                // point for: the in-memory ones from the snapshot, and the ones that
                // arrived while the merge ran.
                for segment in plan.inputs {
                    for (offset, opNum) in segment.tombstones where opNum > plan.checkpoint {
                        if let newOffset = reader.offset(of: segment.reader.id(at: Int(offset))) {
                            merged.tombstone(UInt32(newOffset), opNum: opNum)
                        }
                    }
                }
                merged.persistedCount = 0
                state.reconcileFieldIndexes(of: merged)
                state.immutables.append(merged)
            }
            progress.stage("publish")
            try publish(checkpoint: plan.checkpoint, retiring: plan.inputs)
            return true
        }
    }

    // MARK: - Publish

    /// Makes the current segment set durable: new tombstone files for segments
    /// whose durable tombstones changed, then the manifest (atomically), then
    /// WAL truncation and removal of files nothing refers to any more.
    private func publish(checkpoint: UInt64, retiring: [ImmutableSegment]) throws {
        struct TombstoneWrite {
            let segment: ImmutableSegment
            let generation: UInt64
            let offsets: [UInt32]
        }
        let (next, writes, oldGenerations) = withStateLock { state -> (Manifest, [TombstoneWrite], [String]) in
            var next = Manifest(
                checkpoint: checkpoint, nextSegmentID: state.manifest.nextSegmentID, segments: [],
                payloadSchema: state.payloadSchemaEntries)
            var writes: [TombstoneWrite] = []
            var old: [String] = []
            for segment in state.immutables {
                let durable = segment.tombstones.filter { $0.value <= checkpoint }.keys.sorted()
                var generation = segment.persistedGeneration
                if durable.count != segment.persistedCount || (durable.isEmpty && generation != 0) {
                    // The durable generation, and any a failed publish wrote, are
                    // garbage once this one is published. A new one never takes
                    // the number of one already written (`highestWrittenGeneration`).
                    let written = max(generation, segment.highestWrittenGeneration)
                    if written > 0 {
                        for stale in max(generation, 1)...written {
                            old.append(Manifest.tombstoneFileName(segment.id, generation: stale))
                        }
                    }
                    generation = durable.isEmpty ? 0 : written + 1
                    if generation > 0 {
                        segment.highestWrittenGeneration = generation
                        writes.append(TombstoneWrite(segment: segment, generation: generation, offsets: durable))
                    }
                }
                next.segments.append(Manifest.Entry(segmentID: segment.id, tombstoneGeneration: generation))
            }
            return (next, writes, old)
        }
        // In the periodic mode the WAL records up to the checkpoint may still be
        // only in the page cache; a power loss must not leave a manifest that
        // claims operations the log has forgotten (their numbers would be reused).
        try walForTruncation()?.sync()
        for write in writes {
            let path = joinPath(
                segmentsDirectory, Manifest.tombstoneFileName(write.segment.id, generation: write.generation))
            try TombstoneFile.write(
                write.offsets, segmentPointCount: write.segment.reader.pointCount, to: path, fileSystem: fileSystem)
        }
        try fileSystem.writeAtomically(joinPath(directory, Manifest.fileName), next.encoded())
        withStateLock { state in
            state.manifest = next
            for write in writes {
                write.segment.persistedGeneration = write.generation
                write.segment.persistedCount = write.offsets.count
            }
        }
        // The published manifest is a version (when versions are kept); a
        // version that expires leaves its files to the removal below.
        let versionFiles = try recordVersion(next)
        // From here on the old files are unreferenced, unless a retained
        // version names them: removing them is housekeeping (a crash leaves
        // them for the next open to remove).
        var garbage = Set(oldGenerations).union(versionFiles.released)
        for segment in retiring {
            garbage.insert(Manifest.segmentFileName(segment.id))
            if segment.persistedGeneration > 0 {
                garbage.insert(Manifest.tombstoneFileName(segment.id, generation: segment.persistedGeneration))
            }
        }
        garbage.subtract(versionFiles.retained.union(next.files))
        for file in garbage { try? fileSystem.removeFile(joinPath(segmentsDirectory, file)) }
        try walForTruncation()?.removeFiles(below: checkpoint + 1)
    }
}
