import Foundation

/// The web dashboard's files (docs/dashboard.md), compiled into the binary:
/// `strata serve` answers `GET /dashboard` with `index.html` and
/// `GET /dashboard/<name>` with the others. No file is read from disk at run
/// time, so the dashboard works offline, behind TLS and from a copied binary.
public enum DashboardFiles {
    /// One file: its bytes, MIME type and a strong ETag (a hash of the bytes).
    public struct File: Sendable {
        public let name: String
        public let bytes: [UInt8]
        public let contentType: String
        public let etag: String

        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
            self.contentType = DashboardFiles.contentType(of: name)
            self.etag = DashboardFiles.etag(of: bytes)
        }
    }

    /// Every file by name (`index.html`, `dashboard.js`, …).
    public static let files: [String: File] = {
        var files: [String: File] = [:]
        for (name, text) in embeddedDashboardFiles {
            files[name] = File(name: name, bytes: Array(text.utf8))
        }
        return files
    }()

    /// The MIME type a browser needs for `name` (module scripts must be JavaScript).
    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// FNV-1a over the bytes, quoted as an HTTP entity tag.
    static func etag(of bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))\""
    }
}
