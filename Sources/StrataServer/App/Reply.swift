import Foundation
import Hummingbird
import NIOCore
import StrataJSON

/// Builds responses in Qdrant's envelopes.
enum Reply {
    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    /// A body as compact JSON: JSONEncoder's tokens (`.withoutEscapingSlashes`),
    /// members in the order the types encode them (see `JSONBodyEncoder`).
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONBodyEncoder.encode(value)
    }

    /// `{"result": result, "status": "ok", "time": …}` as bytes (encode on the
    /// engine pool for big results).
    static func encodeOK<T: Encodable>(_ result: T, elapsed: Double) throws -> [UInt8] {
        try JSONBodyEncoder.encode(Envelope(result: result, time: elapsed))
    }

    static func ok(_ body: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: jsonHeaders, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func ok<T: Encodable>(_ result: T, context: StrataRequestContext) throws -> Response {
        ok(try encodeOK(result, elapsed: context.elapsedSeconds))
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ error: APIError, context: StrataRequestContext) -> Response {
        let body =
            (try? JSONBodyEncoder.encode(
                ErrorEnvelope(status: .init(error: error.message), time: context.elapsedSeconds)))
            ?? Array(#"{"status":{"error":"unencodable error"},"time":0}"#.utf8)
        var headers = jsonHeaders
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: error.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
