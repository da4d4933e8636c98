import Hummingbird
import NIOCore

/// Per-request state: Hummingbird's core context, the access the credentials
/// grant (set by `AuthenticationMiddleware`), and when the request started
/// (for Qdrant's `time` field and the latency metrics).
public struct StrataRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var access: Access = .manage
    public let startedAt: ContinuousClock.Instant
    /// The connection, for `continueBody()`.
    let channel: any Channel

    public init(source: Source) {
        coreContext = CoreRequestContextStorage(source: source)
        startedAt = .now
        channel = source.channel
    }

    /// Sends the interim `100 Continue` if the client asked for one
    /// (`Expect: 100-continue`, see ExpectContinueHandler): call it right before
    /// reading the body, after every check that can refuse the request.
    func continueBody() async {
        try? await channel.triggerUserOutboundEvent(ExpectContinueHandler.ContinueEvent())
    }

    /// Seconds since the request started.
    var elapsedSeconds: Double {
        let elapsed = ContinuousClock.now - startedAt
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
