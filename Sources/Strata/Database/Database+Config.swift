import Foundation
import StrataIO

/// Changing a collection's settings after it was created (Qdrant's
/// `PATCH /collections/{name}`).
extension Database {
    /// Applies `change` to the configuration of collection `name`: the
    /// optimizer settings, HNSW and quantization settings (per collection or
    /// per named vector) and the payload compression may change; the vectors
    /// themselves (names, sizes, distances) may not.
    ///
    /// The new configuration replaces `config.json` atomically (a crash leaves
    /// the old or the new one), then the collection is closed and reopened
    /// with it: handles to the old `Collection` fail with `.closed`, so ask
    /// `collection(_:)` again. Settings apply to what the optimizer does from
    /// then on (seals, merges, graphs and codes of new segments); existing
    /// segments keep their graphs and codes until a merge rewrites them.
    ///
    /// Throws `.notFound` for an unknown collection and `.invalidArgument`
    /// (nothing changed) for a change to the vectors or an invalid config.
    @discardableResult
    public func updateCollectionConfig(
        _ name: String, _ change: (inout CollectionConfig) throws -> Void
    ) throws -> Collection {
        try state.withLock { state in
            try checkOpen(state)
            guard let current = state.collections[name] else {
                throw StrataError(.notFound, "Collection `\(name)` doesn't exist!")
            }
            var config = current.config
            try change(&config)
            guard config != current.config else { return current }
            guard Set(config.vectors.keys) == Set(current.config.vectors.keys),
                config.vectors.allSatisfy({ name, params in
                    current.config.vectors[name].map {
                        $0.size == params.size && $0.distance == params.distance
                            && $0.storedDatatype == params.storedDatatype && $0.isMultiVector == params.isMultiVector
                    } ?? false
                }),
                Set(config.sparseVectors.keys) == Set(current.config.sparseVectors.keys)
            else {
                throw StrataError.invalid(
                    "the vectors of collection `\(name)` (names, sizes, distances, datatypes, multivector or sparse) cannot change; create a new collection"
                )
            }
            do {
                try config.validate()
            } catch {
                throw StrataError.wrapping(error, context: "updating the config of collection `\(name)`")
            }
            let directory = current.directory
            try Collection.replaceConfig(
                config, vectorHistory: current.vectorHistory, directory: directory, fileSystem: fileSystem)
            // Writes the old handle refuses from here on go to the new one.
            current.replacement.begin()
            current.close()
            state.collections[name] = nil
            var reopened: Collection? = nil
            defer { current.replacement.finish(reopened) }
            reopened = try Collection.open(
                name: name, directory: directory, fileSystem: fileSystem, options: options, walTotals: walTotals)
            state.collections[name] = reopened
            return reopened!
        }
    }
}

extension Collection {
    /// Replaces `config.json` atomically (temporary file, fsync, rename, directory fsync).
    static func replaceConfig(
        _ config: CollectionConfig, vectorHistory: [String: VectorNameHistory], directory: String,
        fileSystem: any FileSystem
    ) throws {
        let data = try StoredConfig(config: config, vectorHistory: vectorHistory).encoded()
        try fileSystem.writeAtomically(joinPath(directory, configFileName), data)
    }
}
