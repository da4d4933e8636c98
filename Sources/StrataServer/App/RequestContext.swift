import Hummingbird

/// Per-request state: Hummingbird's core context, the access the credentials
/// grant (set by `AuthenticationMiddleware`), and when the request started
/// (for Qdrant's `time` field and the latency metrics).
public struct StrataRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var access: Access = .manage
    public let startedAt: ContinuousClock.Instant

    public init(source: Source) {
        coreContext = CoreRequestContextStorage(source: source)
        startedAt = .now
    }

    /// Seconds since the request started.
    var elapsedSeconds: Double {
        let elapsed = ContinuousClock.now - startedAt
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
