/// What went wrong talking to etcd, with what to do about it.
///
/// `isIndeterminate` matters to every caller that writes: after a timeout the
/// request may or may not have been applied, so a caller re-reads before it
/// decides (a compare-and-swap that timed out may have won).
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint accepted a connection; nothing was sent.
    case unreachable(endpoints: [String], cause: String)
    /// The request was sent but no answer came within the deadline. The
    /// operation may have been applied (etcd without quorum never answers).
    case timedOut(endpoint: String, after: Duration)
    /// etcd answered with an error (gRPC status `code`, etcd's `message`),
    /// e.g. 5 "etcdserver: requested lease not found".
    case server(endpoint: String, code: Int, message: String)
    /// etcd answered something this client cannot read.
    case malformedReply(endpoint: String, detail: String)
    /// A watch fell behind etcd's compaction: the caller must read again.
    case watchCompacted(revision: Int64)
    /// etcd cancelled a watch (e.g. the member lost its leader for too long).
    case watchCancelled(reason: String)

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let cause):
            "etcd is unreachable at \(endpoints.joined(separator: ", ")): \(cause). Check that etcd runs there "
                + "(--etcd takes its client URLs, e.g. http://127.0.0.1:2379)"
        case .timedOut(let endpoint, let after):
            "etcd at \(endpoint) did not answer within \(after) (a cluster without quorum never answers writes); "
                + "the operation may or may not have been applied"
        case .server(let endpoint, let code, let message):
            "etcd at \(endpoint) refused the request: \(message) (code \(code))"
        case .malformedReply(let endpoint, let detail):
            "etcd at \(endpoint) sent a reply Strata cannot read: \(detail)"
        case .watchCompacted(let revision):
            "an etcd watch fell behind compaction (compacted up to revision \(revision))"
        case .watchCancelled(let reason):
            "etcd cancelled a watch: \(reason)"
        }
    }

    /// True when the request may have been applied although no success came back.
    public var isIndeterminate: Bool {
        if case .timedOut = self { return true }
        return false
    }

    /// etcd's code for "requested lease not found" (gRPC NotFound).
    public var isLeaseNotFound: Bool {
        if case .server(_, let code, let message) = self { return code == 5 && message.contains("lease not found") }
        return false
    }
}
