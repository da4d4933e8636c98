import Foundation
import StrataIO
import StrataWAL

/// Adding and removing a named vector of an existing collection (Qdrant's
/// `PUT` / `DELETE /collections/{name}/vectors/{vector_name}`).
///
/// How a change works (docs/format/data-directory.md, "Vector name changes"):
/// 1. the collection is closed: queued writes finish and the WAL is synced;
///    writes arriving later wait and are forwarded to the reopened collection;
/// 2. the WAL is scanned for its last operation number and the MANIFEST is read
///    for the next segment id: everything on disk that may hold the changed
///    name's old data lies at or below these two boundaries;
/// 3. config.json is replaced atomically with the new vectors and the
///    boundaries (`VectorNameHistory`); this rename is the commit point — a crash
///    before it leaves the old schema, after it the new one;
/// 4. the collection is reopened: WAL replay drops the name's vectors from
///    operations at or below the boundary, and segments below the boundary are
///    read as if they lacked the name.
/// Nothing else on disk changes, so the cost is one WAL scan and one replay;
/// stale sections disappear when merges rewrite their segments.
extension Database {
    /// Adds dense vector `name` to collection `collection`. Existing points do
    /// not have it (`has_vector` is false, searches find nothing) until
    /// `updateVectors` or `upsert` write it. Returns the reopened collection
    /// (`collection(_:)` returns it too). Handles to the old one keep their old
    /// `config`; writes through them are forwarded to the new one.
    ///
    /// Throws `.notFound` for an unknown collection, `.alreadyExists` when the
    /// collection has a dense or sparse vector called `name`, and
    /// `.invalidArgument` for a bad name or params; nothing changed then.
    @discardableResult
    public func createVectorName(_ collection: String, name: String, _ params: VectorParams) throws -> Collection {
        try changeVectorName(collection, name: name, verb: "adding") { config in
            try Self.requireNew(name, in: config, collection: collection)
            config.vectors[name] = params
        }
    }

    /// Adds sparse vector `name` to collection `collection`; as the dense form.
    @discardableResult
    public func createVectorName(_ collection: String, name: String, _ params: SparseVectorParams) throws -> Collection
    {
        try changeVectorName(collection, name: name, verb: "adding") { config in
            try Self.requireNew(name, in: config, collection: collection)
            config.sparseVectors[name] = params
        }
    }

    /// Removes vector `name` (dense or sparse) and its data from collection
    /// `collection`. Afterwards the name is unknown (using it is
    /// `.invalidArgument`); its old data is never served again, even if the
    /// name is added back later. Returns the reopened collection.
    ///
    /// Throws `.notFound` for an unknown collection or vector name, and
    /// `.invalidArgument` when it is the collection's last vector.
    @discardableResult
    public func deleteVectorName(_ collection: String, name: String) throws -> Collection {
        try changeVectorName(collection, name: name, verb: "removing") { config in
            guard config.vectors[name] != nil || config.sparseVectors[name] != nil else {
                throw StrataError(
                    .notFound,
                    "collection `\(collection)` has no vector named \"\(name)\"; it has \(Self.vectorNames(of: config))"
                )
            }
            config.vectors[name] = nil
            config.sparseVectors[name] = nil
            guard !config.vectors.isEmpty || !config.sparseVectors.isEmpty else {
                throw StrataError.invalid(
                    "\"\(name)\" is the last vector of collection `\(collection)`; a collection needs at least one vector (delete the collection instead)"
                )
            }
        }
    }

    private static func requireNew(_ name: String, in config: CollectionConfig, collection: String) throws {
        guard !name.isEmpty else { throw StrataError.invalid("vector names must not be empty") }
        if config.vectors[name] != nil || config.sparseVectors[name] != nil {
            throw StrataError(.alreadyExists, "collection `\(collection)` already has a vector named \"\(name)\"")
        }
    }

    private static func vectorNames(of config: CollectionConfig) -> [String] {
        (Array(config.vectors.keys) + Array(config.sparseVectors.keys)).sorted()
    }

    /// Steps 1–4 above, under the database lock.
    private func changeVectorName(
        _ collectionName: String, name: String, verb: String,
        _ change: (inout CollectionConfig) throws -> Void
    ) throws -> Collection {
        try state.withLock { state in
            try checkOpen(state)
            guard let current = state.collections[collectionName] else {
                throw StrataError(.notFound, "Collection `\(collectionName)` doesn't exist!")
            }
            var config = current.config
            try change(&config)
            do {
                try config.validate()
            } catch {
                throw StrataError.wrapping(
                    error, context: "\(verb) vector \"\(name)\" of collection `\(collectionName)`")
            }
            let directory = current.directory
            current.replacement.begin()
            current.close()
            state.collections[collectionName] = nil
            var reopened: Collection? = nil
            defer { current.replacement.finish(reopened) }
            do {
                let boundary = try Self.lastOperationAndNextSegment(
                    directory: directory, fileSystem: fileSystem, options: options)
                var history = current.vectorHistory
                history[name] = VectorNameHistory(
                    staleThroughOperation: boundary.lastOperation,
                    staleBelowSegment: boundary.nextSegment)
                try Collection.replaceConfig(
                    config, vectorHistory: history, directory: directory, fileSystem: fileSystem)
            } catch {
                // Nothing was committed, or (a failed directory fsync) maybe the
                // rename was: serve whichever config.json is there now.
                reopened = try? Collection.open(
                    name: collectionName, directory: directory, fileSystem: fileSystem, options: options,
                    walTotals: walTotals)
                state.collections[collectionName] = reopened
                throw StrataError.wrapping(
                    error, context: "\(verb) vector \"\(name)\" of collection `\(collectionName)`")
            }
            reopened = try Collection.open(
                name: collectionName, directory: directory, fileSystem: fileSystem, options: options,
                walTotals: walTotals)
            state.collections[collectionName] = reopened
            return reopened!
        }
    }

    /// Of a closed collection: the number of the last operation its WAL holds
    /// (or its checkpoint, if larger) and the MANIFEST's next segment id. The
    /// WAL is opened as the next open will (torn tail cut, synced), so no
    /// operation above the boundary can reappear with old-schema vectors; the
    /// config.json replacement that follows fsyncs the collection directory,
    /// making the MANIFEST read here durable.
    private static func lastOperationAndNextSegment(
        directory: String, fileSystem: any FileSystem, options: DatabaseOptions
    ) throws
        -> (lastOperation: UInt64, nextSegment: UInt64)
    {
        let manifestPath = joinPath(directory, Manifest.fileName)
        let manifest =
            fileSystem.fileKind(manifestPath) == nil
            ? Manifest()
            : try Manifest.decode(try fileSystem.open(manifestPath, mode: .readOnly).readAll(), path: manifestPath)
        let walOptions = WALOptions(durability: options.durability.walDurability, maxFileSize: options.walFileSize)
        let wal = try WriteAheadLog.open(
            fileSystem: fileSystem, directory: joinPath(directory, Collection.walDirectoryName),
            options: walOptions
        ) { _, _ in }
        defer { wal.close() }
        try wal.sync()
        return (max(wal.lastOpNum, manifest.checkpoint), manifest.nextSegmentID)
    }
}
