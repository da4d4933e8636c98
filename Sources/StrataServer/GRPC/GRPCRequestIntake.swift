import Dispatch
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The first handler of every gRPC request stream (HTTP/2 stream channel), before grpc-swift's:
/// - stamps the request's arrival into its metadata (`strata-received-ns`, monotonic
///   nanoseconds), so a call's server time counts receiving and decoding its message as
///   REST's counts reading and decoding the body (`GRPCCall`);
/// - refuses a message larger than `--max-request-size` with RESOURCE_EXHAUSTED and a
///   message that says so, before its bytes are buffered. (grpc-swift's own limit resets
///   the stream instead, which clients report as a cancelled call.) It reads the 5-byte
///   prefix of each length-prefixed message in the stream's DATA frames; once it refuses,
///   it answers with trailers only and drops the rest of the request (the stream closes
///   when the client has sent it).
final class GRPCRequestIntake: ChannelInboundHandler, RemovableChannelHandler {
    /// The metadata key of the arrival stamp (a client's own value is replaced).
    static let receivedKey = "strata-received-ns"

    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let limit: Int
    /// The prefix of the message being read (flag and big-endian length), while incomplete.
    private var prefix: [UInt8] = []
    /// Bytes of the current message still to come after its prefix.
    private var remaining = 0
    private var refused = false

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let payload = unwrapInboundIn(data)
        if case .headers(var headers) = payload {
            headers.headers.replaceOrAdd(
                name: Self.receivedKey, value: String(DispatchTime.now().uptimeNanoseconds))
            context.fireChannelRead(wrapInboundOut(.headers(headers)))
            return
        }
        guard case .data(let frame) = payload, case .byteBuffer(var bytes) = frame.data else {
            context.fireChannelRead(data)
            return
        }
        while bytes.readableBytes > 0 {
            if remaining > 0 {
                let skipped = min(remaining, bytes.readableBytes)
                bytes.moveReaderIndex(forwardBy: skipped)
                remaining -= skipped
                continue
            }
            let taken = min(5 - prefix.count, bytes.readableBytes)
            prefix += bytes.readBytes(length: taken) ?? []
            guard prefix.count == 5 else { break }
            let length = prefix[1...4].reduce(0) { $0 << 8 | Int($1) }
            prefix = []
            if length > limit {
                refuse(context, length: length)
                return
            }
            remaining = length
        }
        context.fireChannelRead(data)
    }

    private func refuse(_ context: ChannelHandlerContext, length: Int) {
        refused = true
        let message =
            "Payload too large: the request message is \(length) bytes, over the limit of \(limit) bytes "
            + "(see --max-request-size)"
        let trailers: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-status": "8", "grpc-message": message,
        ]
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
    }
}
