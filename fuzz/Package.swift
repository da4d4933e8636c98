// swift-tools-version: 6.1
// libFuzzer targets for Strata's on-disk parsers (crash-test matrix row 15) and the
// REST server's request decoding (issue 7).
// A separate package so that `--sanitize=fuzzer` never touches the main build.
// Build and run: see README.md.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where
// the repository was cloned; derive it instead of hard-coding "strata".
let rootIdentity = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "StrataFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .executableTarget(
            name: "WALScannerFuzz",
            dependencies: [
                .product(name: "StrataWAL", package: rootIdentity),
                .product(name: "StrataIO", package: rootIdentity),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "SegmentReaderFuzz",
            dependencies: [
                .product(name: "StrataSegment", package: rootIdentity),
                .product(name: "StrataIO", package: rootIdentity),
                .product(name: "StrataFuzzChecks", package: rootIdentity),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "VectorIndexFuzz",
            dependencies: [
                .product(name: "StrataHNSW", package: rootIdentity),
                .product(name: "StrataQuantization", package: rootIdentity),
                .product(name: "StrataVectorMath", package: rootIdentity),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "PayloadFilterFuzz",
            dependencies: [
                .product(name: "StrataPayload", package: rootIdentity),
                .product(name: "StrataFuzzChecks", package: rootIdentity),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RequestDecodingFuzz",
            dependencies: [
                .product(name: "StrataServer", package: rootIdentity)
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RequestDecodingDifferentialFuzz",
            dependencies: [
                .product(name: "StrataServer", package: rootIdentity)
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "GRPCRequestFuzz",
            dependencies: [
                .product(name: "StrataServer", package: rootIdentity)
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "ManifestFuzz",
            dependencies: [
                .product(name: "StrataFuzzChecks", package: rootIdentity)
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "SnapshotArchiveFuzz",
            dependencies: [
                .product(name: "StrataFuzzChecks", package: rootIdentity)
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
