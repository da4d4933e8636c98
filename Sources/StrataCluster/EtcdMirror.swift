import Foundation
import Logging
import StrataEtcd
import Synchronization

/// A local copy of every key under a prefix, kept current by an etcd watch:
/// reads of cluster state (`GET /cluster`, routing) never wait for etcd.
///
/// It reads the prefix, then watches from the read's revision + 1; when the
/// watch breaks (etcd restarted, compaction, a member died) it reads again
/// after a short pause. `revision` is the etcd revision the copy reflects;
/// `isCurrent` is false between a broken watch and the next successful read.
///
/// Thread safety: all members may be used from any thread.
public final class EtcdMirror: Sendable {
    public struct State: Sendable {
        public var values: [String: EtcdKeyValue] = [:]
        public var revision: Int64 = 0
        public var isCurrent = false
    }

    public let prefix: String
    private let client: EtcdClient
    private let logger: Logger
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(client: EtcdClient, prefix: String, logger: Logger) {
        self.client = client
        self.prefix = prefix
        self.logger = logger
    }

    /// Reads the prefix once (throws when etcd cannot be read), then keeps
    /// the copy current in the background until `stop()`.
    public func start() async throws {
        try await load()
        let started = Task { [self] in await follow() }
        task.withLock { $0 = started }
    }

    public func stop() {
        task.withLock { $0?.cancel() }
    }

    /// The copy as it is now.
    public var snapshot: State { state.withLock { $0 } }

    /// Reads the prefix again now.
    public func refresh() async throws { try await load() }

    /// Records a write this node made (a put of `value` at `key`, committed at
    /// `revision`), so that its own change shows at once, before the watch
    /// brings it. An older revision than the copy's entry changes nothing.
    public func record(_ key: String, value: Data, revision: Int64) {
        state.withLock { state in
            if let current = state.values[key], current.modRevision >= revision { return }
            var entry = state.values[key] ?? EtcdKeyValue(key: key, value: value, createRevision: revision)
            entry.value = value
            entry.modRevision = revision
            state.values[key] = entry
        }
    }

    private func load() async throws {
        let range = try await client.range(.prefix(prefix))
        state.withLock { state in
            // A refresh racing the watch must not move the copy back in time.
            guard range.revision >= state.revision || !state.isCurrent else { return }
            state.values = Dictionary(uniqueKeysWithValues: range.keyValues.map { ($0.key, $0) })
            state.revision = range.revision
            state.isCurrent = true
        }
    }

    private func follow() async {
        while !Task.isCancelled {
            let from = state.withLock { $0.revision } + 1
            do {
                for try await batch in client.watch(.prefix(prefix), fromRevision: from) {
                    state.withLock { state in
                        for event in batch where event.keyValue.modRevision > state.revision {
                            switch event.kind {
                            case .put: state.values[event.keyValue.key] = event.keyValue
                            case .delete: state.values[event.keyValue.key] = nil
                            }
                        }
                        state.revision = max(state.revision, batch.map(\.keyValue.modRevision).max() ?? 0)
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.debug("etcd watch of \(prefix) broke; reading again", metadata: ["error": "\(error)"])
            }
            state.withLock { $0.isCurrent = false }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                do {
                    state.withLock { $0.revision = 0 }
                    try await load()
                    break
                } catch {
                    logger.debug("cannot read \(prefix) from etcd", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
