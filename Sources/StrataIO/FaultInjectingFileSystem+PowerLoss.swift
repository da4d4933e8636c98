extension FaultInjectingFileSystem {
    /// Simulates losing power and rebooting.
    ///
    /// - Every directory's entries revert to those of its last `syncDirectory`;
    ///   a directory whose own entry was not durable disappears with its contents.
    /// - Every surviving file's bytes revert to those of its last successful
    ///   sync, except for the unsynced prefix that `mode` keeps.
    /// - Every handle opened and lock taken before becomes invalid (handles
    ///   throw `.io`), the crash state and `crashAfterOperations` are cleared,
    ///   and the file system is usable again. Injected errors, bit flips and
    ///   the capacity limit stay in force.
    public func simulatePowerLoss(_ mode: PowerLossMode = .dropUnsynced) {
        locked { model in
            var generator: SplitMix64?
            if case .randomTear(let seed) = mode { generator = SplitMix64(seed: seed) }
            var seenDirectories = Set<ObjectIdentifier>()
            var seenInodes = Set<ObjectIdentifier>()

            func revert(_ inode: ModelInode) {
                guard seenInodes.insert(ObjectIdentifier(inode)).inserted else { return }
                var kept = 0
                var torn = 0
                switch mode {
                case .dropUnsynced:
                    break
                case .keepUnsyncedPrefix(let writes, let tornBytes):
                    kept = max(0, writes)
                    torn = max(0, tornBytes)
                case .randomTear:
                    // Draw even for files without unsynced changes, so the draws
                    // for one file do not depend on another's history.
                    kept = Int(generator!.next() % UInt64(inode.pending.count + 1))
                    if kept < inode.pending.count, case .write(_, let bytes) = inode.pending[kept] {
                        torn = Int(generator!.next() % UInt64(bytes.count + 1))
                    } else {
                        _ = generator!.next()
                    }
                }
                var survivor = inode.durable
                for change in inode.pending.prefix(kept) { apply(change, to: &survivor) }
                if kept < inode.pending.count, torn > 0, case .write(let offset, let bytes) = inode.pending[kept] {
                    apply(.write(offset: offset, bytes: Array(bytes.prefix(torn))), to: &survivor)
                }
                inode.durable = survivor
                inode.current = survivor
                inode.pending.removeAll()
            }

            func revert(_ directory: ModelDirectory) {
                guard seenDirectories.insert(ObjectIdentifier(directory)).inserted else { return }
                directory.entries = directory.durableEntries
                for name in directory.entries.keys.sorted() {
                    switch directory.entries[name]! {
                    case .file(let inode): revert(inode)
                    case .directory(let child): revert(child)
                    }
                }
            }

            revert(model.root)
            model.recountSpace()
            model.epoch += 1
            model.heldLocks.removeAll()
            model.crashed = false
            model.crashAfterOperations = nil
            model.statistics.powerLosses += 1
            model.history.append("power loss (\(mode)) after operation \(model.operationCount)")
        }
    }
}
