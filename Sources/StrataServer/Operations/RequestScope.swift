import Foundation
import Strata

/// What every transport knows about a request once it has been decoded: who
/// asks and the limits it set. REST builds it from the HTTP request (headers
/// through `AuthenticationMiddleware`, the `timeout` query parameter), gRPC
/// from the call's metadata and message. The operations in this folder take a
/// scope and the decoded input, never a transport's request, so no engine
/// logic is written once per transport.
struct RequestScope: Sendable {
    /// What the credentials grant.
    var access: Access
    /// The request's `timeout` in seconds: strict mode bounds it, and a query
    /// still running when it has passed stops.
    var timeout: Int?
    let startedAt: ContinuousClock.Instant
    /// Cancelled by the transport when the client goes away (gRPC: a
    /// cancelled call or a passed deadline).
    let abandoned: Cancellation

    init(access: Access, timeout: Int? = nil, startedAt: ContinuousClock.Instant = .now) {
        self.access = access
        self.timeout = timeout
        self.startedAt = startedAt
        abandoned = Cancellation()
    }

    /// What the engine's queries check: `abandoned`, and the `timeout` if set.
    var cancellation: Cancellation {
        guard let timeout, timeout > 0 else { return abandoned }
        return Cancellation(deadline: startedAt + .seconds(timeout), parent: abandoned)
    }
}

/// A checked read, ready to run on the engine pool. The transport runs it
/// there and turns the result into its own wire shape on the pool as well
/// (big results are expensive to encode).
typealias EngineRead<Output> = @Sendable () throws -> Output

/// Whether an operation reads or writes the collection it names.
enum CollectionAccessMode {
    case read, write
}

extension StrataHTTPServer {
    /// The collection called `name` (or the one the alias `name` points to),
    /// after checking `access` may read or write it. An unknown collection is
    /// 404 only for callers allowed to see it.
    func collection(named name: String, _ mode: CollectionAccessMode, _ access: Access) throws -> Strata.Collection {
        let resolved = resolvedName(name)
        try access.check(mode == .read ? .read(collection: resolved) : .write(collection: resolved))
        do {
            return try database.collection(resolved)
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    /// `name`, or the collection it is an alias of.
    func resolvedName(_ name: String) -> String {
        database.collectionNames().contains(name) ? name : (database.resolveAlias(name) ?? name)
    }

    /// Resolves `lookup_from` and `with_lookup` collection names (aliases too)
    /// for one request, checking that the caller may read them.
    func lookupResolver(_ access: Access) -> @Sendable (String) throws -> Strata.Collection {
        { name in try self.collection(named: name, .read, access) }
    }

    /// Runs an engine write and maps its error.
    func write(_ body: () async throws -> UpdateResult) async throws -> UpdateResultOutput {
        do {
            return UpdateResultOutput(operation_id: try await body().operationID)
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    /// Checks one update as every write endpoint does — against the
    /// collection's vectors when `checkVectors`, then strict mode, then the
    /// node's quota — and applies it once durable.
    func perform(
        _ update: PreparedUpdate, on collection: Strata.Collection, _ scope: RequestScope, checkVectors: Bool = false
    ) async throws -> UpdateResultOutput {
        if checkVectors { try update.check(against: collection.config) }
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try update.checkStrictMode(check)
        }
        try enforceQuota(update)
        let result = try await write { try await update.apply(to: collection) }
        metrics.recordPointsWritten(update.pointsWritten)
        return result
    }
}
