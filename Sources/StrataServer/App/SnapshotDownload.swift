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
    /// Follows up to 5 redirects; used without an `api_key`.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))))

    /// Follows no redirect: used with an `api_key`, which a redirect to another
    /// host would otherwise receive (the client strips only standard
    /// credential headers on such redirects, not Qdrant's `api-key`).
    static let clientWithoutRedirects = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))))

    /// `location` without user information (`user:password@`), for messages.
    static func shown(_ location: String) -> String {
        guard var parts = URLComponents(string: location), parts.user != nil || parts.password != nil else {
            return location
        }
        parts.user = nil
        parts.password = nil
        return parts.string ?? "the given location"
    }

    /// Removes what a download interrupted by a crash left in `directory`
    /// (and uploads likewise): files named `.download-…` or `.upload-…`,
    /// which nothing else writes there. Run when the server starts.
    static func removeLeftovers(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".download-") || name.hasPrefix(".upload-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

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
            response = try await (apiKey == nil ? client : clientWithoutRedirects).execute(request, timeout: timeout)
        } catch {
            throw APIError.badRequest("cannot download the snapshot from \(shown(location)): \(error)")
        }
        guard response.status == .ok else {
            throw APIError.badRequest(
                "cannot download the snapshot from \(shown(location)): the server answered HTTP \(response.status.code) \(response.status.reasonPhrase)"
                    + (apiKey != nil && (300..<400).contains(response.status.code)
                        ? " (redirects are not followed when an api_key is given)" : ""))
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path)
        else {
            try? FileManager.default.removeItem(atPath: path)
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
            throw APIError.badRequest("downloading the snapshot from \(shown(location)) failed: \(error)")
        }
    }
}
