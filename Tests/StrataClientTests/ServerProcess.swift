import Foundation
import StrataClient
import StrataTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `strata serve` in its own process, on a free loopback port with a
/// fresh data directory, an API key and a read-only key; stopped with SIGTERM.
final class ServerProcess: Sendable {
    static let apiKey = "two-backend-suite-key"
    static let readOnlyKey = "two-backend-suite-read-only"

    let url: String
    /// The port of the server's gRPC API.
    let grpcPort: Int
    let directory: String
    private let process: Process

    /// Starts the server and waits until it answers `/readyz` (with `tls`, a
    /// certificate and its key: until it accepts connections), at most 90 s.
    init(tls: (certificate: String, key: String)? = nil) async throws {
        directory = NSTemporaryDirectory() + "strata-client-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try Self.freePort()
        var grpcPort = try Self.freePort()
        while grpcPort == port { grpcPort = try Self.freePort() }
        self.grpcPort = grpcPort
        url = tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: try strataExecutable())
        process.arguments = [
            "serve", "--data-dir", directory + "/data", "--port", String(port), "--grpc-port", String(grpcPort),
        ]
        if let tls { process.arguments! += ["--tls-cert", tls.certificate, "--tls-key", tls.key] }
        var environment = ProcessInfo.processInfo.environment
        environment["STRATA_API_KEY"] = Self.apiKey
        environment["STRATA_READ_ONLY_API_KEY"] = Self.readOnlyKey
        process.environment = environment
        let log =
            FileHandle(forWritingAtPath: directory + "/server.log")
            ?? {
                FileManager.default.createFile(atPath: directory + "/server.log", contents: nil)
                return FileHandle(forWritingAtPath: directory + "/server.log")!
            }()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        // Generous: CI runs this beside every other suite on two cores.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            let probe = "http://127.0.0.1:\(port)/readyz"
            let ready = await Self.offThePool {
                tls == nil ? (try? Self.get(probe)) == 200 : Self.accepts(port: port)
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        process.terminate()
        throw StrataError(.unavailable, "strata serve did not become ready at \(url); its output:\n\(output)")
    }

    /// Stops the server (SIGTERM: a graceful stop), waits for it to exit,
    /// and removes its data.
    func stop() async {
        let process = self.process
        let directory = self.directory
        await Self.offThePool {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Runs blocking work (sockets, waiting for a process) on a thread of
    /// its own, never on the cooperative pool that every other test shares.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    /// A port nothing listens on now: bound to port 0, read back, closed.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StrataError(.io, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw StrataError(.io, "bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw StrataError(.io, "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on the loopback `port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The HTTP status of a GET, over a plain socket (no client library);
    /// 0 when there is no complete status line within 2 seconds.
    static func get(_ url: String) throws -> Int {
        guard let parsed = URL(string: url), let port = parsed.port else { return 0 }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return 0 }
        let request = "GET \(parsed.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        let sent = request.withCString { send(fd, $0, strlen($0), 0) }
        guard sent == request.utf8.count else { return 0 }
        // The status line may arrive in pieces: read until it is whole (or EOF, or the timeout).
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !received.contains(0x0A) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        guard received.count >= 12, received.starts(with: Array("HTTP/1.1 ".utf8)) else { return 0 }
        return Int(String(decoding: received[9..<12], as: UTF8.self)) ?? 0
    }
}
