import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Downloads a snapshot archive from an http(s) location for
/// `PUT /collections/{c}/snapshots/recover` (Qdrant recovers from URLs too):
/// streamed into a file as it arrives, never held in memory. The archive is
/// then checked like an upload (its SHA-256 against `checksum` when given,
/// every file's checksum) before anything is restored.
enum SnapshotDownload {
    /// The longest a download may take before it is abandoned.
    static let timeout: TimeAmount = .hours(2)

    /// One client for the process (never shut down: it lives as long as the
    /// server). Connecting gives up after 10 s (a refused connection is
    /// otherwise retried until the whole download's deadline); a read that
    /// stalls for a minute fails the download.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))))

    /// Fetches `location` into a new file at `path` (removed again on failure).
    /// `apiKey` is sent as Qdrant's `api-key` header (a snapshot served by
    /// another server that needs a key). Throws a 400 naming the location for
    /// a bad URL, an unreachable server or a status other than 200.
    static func fetch(_ location: String, apiKey: String?, into path: String) async throws {
        var request = HTTPClientRequest(url: location)
        request.method = .GET
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw APIError.badRequest("cannot download the snapshot from \(location): \(error)")
        }
        guard response.status == .ok else {
            throw APIError.badRequest(
                "cannot download the snapshot from \(location): the server answered HTTP \(response.status.code) \(response.status.reasonPhrase)"
            )
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path)
        else {
            throw APIError(.internalServerError, "Service internal error: cannot create \(path)")
        }
        do {
            defer { try? file.close() }
            for try await buffer in response.body {
                try file.write(contentsOf: buffer.readableBytesView)
            }
            try file.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            if let error = error as? APIError { throw error }
            throw APIError.badRequest("downloading the snapshot from \(location) failed: \(error)")
        }
    }
}
