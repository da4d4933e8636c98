import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` (RFC 9110 §10.1.1) with an interim
/// `100 Continue` when a route starts reading the body, so that clients that
/// ask before sending one (curl does for bodies over 1 MiB; so can .NET and
/// Java clients) send it at once instead of waiting out their timeout (one
/// second for curl, which made every large upsert a second slower). A request
/// refused before its body is read (401, 403, 404) gets its final answer
/// without the 100, and the client need not send the body at all.
///
/// The route asks for the 100 with `StrataRequestContext.continueBody()`, a
/// user outbound event that travels down the pipeline to this handler.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The event a route sends when it is about to read the body.
    struct ContinueEvent: Sendable {}

    /// The current request asked for a 100 that has not been sent.
    private var pending = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), let expect = head.headerFields[.expect],
            expect.lowercased() == "100-continue"
        {
            head.headerFields[.expect] = nil
            pending = true
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is ContinueEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if pending {
            pending = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A final answer before the body was asked for: no 100 any more.
        if case .head = unwrapOutboundIn(data) { pending = false }
        context.write(data, promise: promise)
    }
}
