import ArgumentParser
import Foundation
import StrataIO

#if canImport(Glibc)
import Glibc
#endif

/// `strata bench rest-upsert`: REST upsert throughput of a running server, the
/// HTTP path end to end, with a load generator that costs the server's cores
/// as little as possible: every request (head and body) is built in memory
/// before the clock starts, each writer thread owns one keep-alive connection
/// and sends its requests back to back, reading each answer before the next.
/// So the time measured is the server's (receiving, decoding, writing,
/// answering) plus the kernel's loopback copies, not a client's JSON encoding
/// or file reading. `Benchmarks/run_rest.sh` compares it with `strata bench
/// upsert` (the embedded API) in the same run.
struct BenchRESTUpsertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rest-upsert",
        abstract:
            "Send prepared upsert bodies to a running server (PUT …/points?wait=true), one keep-alive connection per writer; one JSON line."
    )

    @Option(name: .long, help: "The server's REST address (http://host:port).")
    var url: String = "http://127.0.0.1:6333"

    @Option(name: .long, help: "The collection to upsert into (it must exist).")
    var collection: String

    @Argument(help: "Files holding one upsert body each (Benchmarks/rest_bodies.py writes them).")
    var bodies: [String]

    @Option(name: .long, help: "Points in all the bodies together (for points/s).")
    var points: Int

    @Option(name: .long, help: "Concurrent writers: writer w sends bodies w, w + W, w + 2W, …")
    var writers: Int = 1

    @Option(name: .long, help: "API key, sent in the api-key header.")
    var apiKey: String?

    func validate() throws {
        guard writers >= 1 else { throw ValidationError("--writers must be at least 1") }
        guard !bodies.isEmpty else { throw ValidationError("no body files given") }
    }

    func run() throws {
        guard let address = URLComponents(string: url), address.scheme == "http", let host = address.host,
            let port = address.port
        else { throw ValidationError("--url must be http://host:port (TLS is not supported here)") }
        let path = "/collections/\(collection)/points?wait=true"
        var requests: [[UInt8]] = []
        for file in bodies {
            let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            var head = "PUT \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\ncontent-type: application/json\r\n"
            if let apiKey { head += "api-key: \(apiKey)\r\n" }
            head += "content-length: \(body.count)\r\n\r\n"
            requests.append(Array(head.utf8) + body)
        }
        let requestsToSend = requests
        let connections = try (0..<writers).map { _ in try HTTPConnection(host: host, port: port) }
        let outcomes = Locked([Int](repeating: 0, count: writers))  // failed requests per writer
        let firstError = Locked<String?>(nil)
        let start = ContinuousClock.now
        let done = DispatchGroup()
        for writer in 0..<writers {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                var failed = 0
                var index = writer
                while index < requestsToSend.count {
                    do {
                        let status = try connections[writer].exchange(requestsToSend[index])
                        if status != 200 {
                            failed += 1
                            firstError.withLock { $0 = $0 ?? "HTTP \(status) for \(bodies[index])" }
                        }
                    } catch {
                        failed += (requestsToSend.count - index + writers - 1) / writers
                        firstError.withLock { $0 = $0 ?? "\(error)" }
                        break
                    }
                    index += writers
                }
                outcomes.withLock { $0[writer] = failed }
            }
        }
        done.wait()
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let failed = outcomes.withLock { $0.reduce(0, +) }
        var line: [String: Any] = [
            "bench": "rest-upsert", "points": points, "requests": requests.count, "writers": writers,
            "seconds": (seconds * 1000).rounded() / 1000, "points_per_s": (Double(points) / seconds).rounded(),
            "failed_requests": failed,
        ]
        if let error = firstError.withLock({ $0 }) { line["first_error"] = error }
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        if failed > 0 { throw ExitCode(1) }
    }
}

/// One blocking HTTP/1.1 keep-alive connection: writes a whole request, reads
/// one answer (a `content-length` body; Strata's answers to upserts carry one).
private final class HTTPConnection: @unchecked Sendable {
    private let socket: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        socket = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        guard connect(socket, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            close(socket)
            throw Failure(description: "cannot connect to \(host):\(port): errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(socket) }

    /// Sends `request` and returns the answer's status code.
    func exchange(_ request: [UInt8]) throws -> Int {
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(socket, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "send: errno \(errno)")
                }
                sent += n
            }
        }
        // The head, then content-length bytes of body.
        var received: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            try receive(into: &received)
            headEnd = Self.find([13, 10, 13, 10], in: received)
        }
        let head = String(decoding: received[..<headEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw Failure(description: "not an HTTP answer: \(head.prefix(80))") }
        guard
            let lengthLine = lines.first(where: { $0.lowercased().hasPrefix("content-length:") }),
            let length = Int(lengthLine.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { throw Failure(description: "an answer without content-length: \(head.prefix(200))") }
        while received.count < headEnd! + 4 + length {
            try receive(into: &received)
        }
        return status
    }

    private func receive(into received: inout [UInt8]) throws {
        let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
        if n < 0, errno == EINTR { return }
        guard n > 0 else {
            throw Failure(description: n == 0 ? "the server closed the connection" : "recv: errno \(errno)")
        }
        received.append(contentsOf: buffer[..<n])
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
