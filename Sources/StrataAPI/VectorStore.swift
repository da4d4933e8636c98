import StrataModel
import StrataPayload

/// A store of collections: the embedded `Strata.Database` or a server reached
/// through `StrataClient`.
///
/// Write application code against this protocol and the backend becomes one
/// line of setup:
///
/// ```swift
/// func index(_ documents: [Document], into store: some VectorStore) async throws {
///     let notes = try await store.createCollection("notes", config: CollectionConfig(size: 384, distance: .cosine))
///     _ = try await notes.upsert(documents.map(\.point))
/// }
///
/// try await index(documents, into: Database.open(at: "data"))                  // embedded
/// try await index(documents, into: StrataClient(url: "http://127.0.0.1:6333"))  // a server
/// ```
///
/// Both backends throw `StrataError` with the same codes for the same
/// mistakes: `.notFound` for an unknown collection, `.alreadyExists` for a
/// name in use, `.invalidArgument` for a wrong dimension or a bad request. A
/// server adds `.permissionDenied` (a missing or wrong API key),
/// `.unavailable` (it cannot be reached or is shutting down) and `.cancelled`
/// (its timeout passed).
public protocol VectorStore: Sendable {
    /// The collection type this store hands out.
    associatedtype CollectionHandle: VectorCollection

    /// Creates a collection; throws `.alreadyExists` if the name is taken and
    /// `.invalidArgument` for an invalid configuration.
    func createCollection(_ name: String, config: CollectionConfig) async throws -> CollectionHandle

    /// The collection named `name` (or an alias of it); throws `.notFound`.
    func collection(_ name: String) async throws -> CollectionHandle

    /// Deletes a collection and its data; throws `.notFound`.
    func deleteCollection(_ name: String) async throws

    /// The names of every collection, sorted.
    func collectionNames() async throws -> [String]

    /// Takes a snapshot of one collection while writes continue; throws `.notFound`.
    func createSnapshot(of collection: String) async throws -> SnapshotDescription

    /// The snapshots of one collection, sorted by name.
    func snapshots(of collection: String) async throws -> [SnapshotDescription]

    /// Deletes the snapshot `name` of `collection` (nil: a full-storage
    /// snapshot); throws `.notFound` when there is none.
    func deleteSnapshot(named name: String, collection: String?) async throws
}

/// The operations on one collection's points that the embedded
/// `Strata.Collection` and a server's collection (`StrataClient`'s
/// `RemoteCollection`) both offer, with the same meaning and the same errors.
///
/// Every write returns once acknowledged: durable under the store's
/// durability setting, and visible to every later read.
///
/// ```swift
/// func remember(_ text: String, as vector: [Float], in notes: some VectorCollection) async throws -> [ScoredPoint] {
///     _ = try await notes.upsert([PointStruct(id: 1, vector: vector, payload: ["text": .string(text)])])
///     return try await notes.query(QueryRequest(query: .nearest(.dense(vector)), limit: 5, withPayload: true))
/// }
/// ```
///
/// The requirements have no default arguments (an `async` overload with
/// defaults would shadow the engine's synchronous methods in async code):
/// pass every argument, or use the concrete type's conveniences.
public protocol VectorCollection: Sendable {
    /// The collection's name.
    var name: String { get }

    /// Inserts points or replaces those with the same ids. Throws
    /// `.invalidArgument` (nothing written) for an unknown vector name, a
    /// wrong dimension or a non-finite value.
    func upsert(_ points: [PointStruct]) async throws -> UpdateResult

    /// Deletes the points with these ids (ids that do not exist are ignored).
    func delete(_ ids: [PointID]) async throws -> UpdateResult

    /// Deletes every point matching `filter`.
    func delete(filter: Filter) async throws -> UpdateResult

    /// The points with these ids that exist, in the order asked.
    func retrieve(_ ids: [PointID], withPayload: Bool, withVector: Bool) async throws -> [Record]

    /// Up to `limit` points in id order from `offset` (inclusive), and the id
    /// to pass as `offset` for the next page (nil at the end).
    func scroll(
        offset: PointID?, limit: Int, filter: Filter?, withPayload: Bool, withVector: Bool
    ) async throws
        -> (points: [Record], nextOffset: PointID?)

    /// The number of points matching `filter` (all points with nil); `exact:
    /// false` allows an estimate.
    func count(filter: Filter?, exact: Bool) async throws -> Int

    /// The `limit` nearest points to `vector` under vector `using`'s
    /// distance, best first.
    func search(
        _ vector: [Float], using: String, limit: Int, params: SearchParams, filter: Filter?, scoreThreshold: Float?,
        withPayload: Bool, withVector: Bool
    ) async throws -> [ScoredPoint]

    /// Runs a universal query (Qdrant's `points/query`): prefetches, fusion,
    /// recommendations, formulas and the rest of `QueryKind`.
    func query(_ request: QueryRequest) async throws -> [ScoredPoint]

    /// Sets these payload keys on the points (other keys are kept).
    func setPayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult

    /// Replaces the whole payload of the points.
    func overwritePayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult

    /// Removes these payload keys from the points.
    func deletePayloadKeys(_ keys: [String], for ids: [PointID]) async throws -> UpdateResult

    /// Removes every payload key of the points.
    func clearPayload(for ids: [PointID]) async throws -> UpdateResult

    /// Indexes the payload field `key` (filters on it then read the index).
    func createFieldIndex(_ key: String, schema: PayloadFieldSchema) async throws -> UpdateResult

    /// Drops the index of the payload field `key`.
    func deleteFieldIndex(_ key: String) async throws -> UpdateResult
}
