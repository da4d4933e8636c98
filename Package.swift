// swift-tools-version: 6.1
// Strata: a disk-first vector database. Modules are layered bottom-up:
//   CLZ4, CZstd, CStrataKernels   system libraries and C kernels (no Swift)
//   StrataIO                      the one file-system seam (POSIX + fault injection)
//   StrataBinary                  little-endian encoding and CRC32C checksums
//   StrataCompression             lz4/zstd behind one compress/decompress API
//   StrataTar                     ustar archives (the snapshot container): headers, streaming reader and writer, SHA-256
//   StrataVectorMath              distance kernels and top-k selection
//   StrataModel                   point ids and JSON payload values, and their binary encoding
//   StrataPayload                 the filter language, payload paths and payload field indexes
//   StrataAPI                     the public API's value types: collection configs, points, queries, results and
//                                 StrataError, shared by the engine (Strata) and the client (StrataClient)
//   StrataClient                  a client for Qdrant's REST and gRPC APIs (strata serve, a cluster, Qdrant) with StrataAPI's
//                                 types, meeting the same protocols as the embedded Database and Collection
//   StrataText                    text to sparse vectors: the BM25 encoder (Qdrant's `qdrant/bm25`), with the
//                                 text index's folding, stopwords and stemmer
//   StrataWAL                     write-ahead log with group commit
//   StrataSegment                 immutable segment files (mmap'd vectors, compressed payload blocks)
//   StrataQuantization            int8 / binary / product quantization: training, codes, scoring
//   StrataHNSW                    HNSW graph: parallel deterministic build, on-disk format, search
//   Strata                        the engine: database, collections, segments, recovery
//   StrataCrashTest               the kill -9 crash harness (library + CLI command)
//   StrataEtcd                    a typed etcd v3 client over its JSON gateway (AsyncHTTPClient), and a launcher
//                                 for local etcd members (the cluster's control plane: docs/cluster.md)
//   StrataCluster                 the cluster node: identity, membership and the controller, kept in etcd
//   CStrataJSON, StrataJSON       request bodies: a tape scan in C, exact number conversion, Decodable over the tape
//   StrataGRPCProtocol            Qdrant's public gRPC interface: our .proto files (Proto/) and the Swift
//                                 generated from them (Generated/, scripts/generate-grpc.sh)
//   StrataDashboard               the web dashboard's files (Assets/: HTML, CSS, JavaScript), compiled into
//                                 the binary by the DashboardAssetsPlugin build tool (DashboardAssetEmbedder)
//   StrataServer                  the Qdrant-compatible server: REST (Hummingbird) and gRPC (grpc-swift-2) over
//                                 one request layer (Operations/); routes, services, models, security
//   StrataCLI                     the `strata` command-line tool
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Strata", targets: ["Strata"]),
        // Qdrant's REST and gRPC APIs from Swift, with the embedded library's model types (docs/client.md).
        .library(name: "StrataClient", targets: ["StrataClient"]),
        // The BM25 encoder (text to sparse vectors), for applications that embed text themselves.
        .library(name: "StrataText", targets: ["StrataText"]),
        .executable(name: "strata", targets: ["StrataCLI"]),
        // For the nested fuzz package (fuzz/Package.swift), which cannot reach plain targets.
        .library(name: "StrataWAL", targets: ["StrataWAL"]),
        .library(name: "StrataIO", targets: ["StrataIO"]),
        .library(name: "StrataSegment", targets: ["StrataSegment"]),
        .library(name: "StrataFuzzChecks", targets: ["StrataFuzzChecks"]),
        .library(name: "StrataHNSW", targets: ["StrataHNSW"]),
        .library(name: "StrataQuantization", targets: ["StrataQuantization"]),
        .library(name: "StrataVectorMath", targets: ["StrataVectorMath"]),
        .library(name: "StrataServer", targets: ["StrataServer"]),
        .library(name: "StrataPayload", targets: ["StrataPayload"]),
        .library(name: "StrataJSON", targets: ["StrataJSON"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // NIOHTTPTypes: the server's own channel handler (100-continue) sees Hummingbird's HTTP parts.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Snapshot recovery from http(s) locations (and the etcd client of the cluster, issue 16).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Qdrant's gRPC API (StrataGRPCProtocol; docs/format/grpc.md).
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The gRPC endpoint runs in the REST application's service group.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The gRPC size limit answers RESOURCE_EXHAUSTED from the HTTP/2 stream (GRPC/GRPCMessageSizeLimit.swift).
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // `swift package generate-documentation`: the DocC catalogs of Strata, StrataAPI and StrataClient
        // (scripts/docs.sh).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "CStrataKernels"),
        .target(name: "CStrataJSON"),
        .target(name: "StrataJSON", dependencies: ["CStrataJSON", "StrataModel"], swiftSettings: swiftSettings),
        .target(name: "StrataIO", swiftSettings: swiftSettings),
        .target(name: "StrataBinary", dependencies: ["CStrataKernels"], swiftSettings: swiftSettings),
        .target(
            name: "StrataCompression", dependencies: ["CLZ4", "CZstd", "StrataIO", "StrataModel"],
            swiftSettings: swiftSettings),
        .target(
            name: "StrataTar",
            dependencies: [
                "StrataIO",
                // SHA-256 of snapshot files and archives (docs/format/snapshot.md).
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "StrataVectorMath", dependencies: ["CStrataKernels"], swiftSettings: swiftSettings),
        .target(name: "StrataModel", dependencies: ["StrataBinary"], swiftSettings: swiftSettings),
        .target(name: "StrataPayload", dependencies: ["StrataModel", "StrataBinary"], swiftSettings: swiftSettings),
        .target(
            name: "StrataAPI", dependencies: ["StrataModel", "StrataPayload", "StrataVectorMath", "StrataIO"],
            swiftSettings: swiftSettings),
        .target(
            name: "StrataClient",
            dependencies: [
                "StrataAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The gRPC transport (Configuration.transport = .grpc): Qdrant's gRPC API on 6334.
                "StrataGRPCProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "StrataText", dependencies: ["StrataModel", "StrataIO", "StrataPayload"], swiftSettings: swiftSettings
        ),
        .target(name: "StrataWAL", dependencies: ["StrataIO", "StrataBinary"], swiftSettings: swiftSettings),
        .target(
            name: "StrataSegment",
            dependencies: [
                "CStrataKernels", "StrataIO", "StrataBinary", "StrataCompression", "StrataModel", "StrataVectorMath",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StrataQuantization",
            dependencies: ["CStrataKernels", "StrataBinary", "StrataVectorMath", "StrataIO"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StrataHNSW",
            dependencies: ["CStrataKernels", "StrataBinary", "StrataVectorMath", "StrataIO"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Strata",
            dependencies: [
                "StrataIO", "StrataBinary", "StrataCompression", "StrataVectorMath", "StrataWAL", "StrataModel",
                "StrataSegment", "StrataQuantization", "StrataHNSW", "StrataPayload", "StrataTar", "StrataAPI",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StrataCrashTest", dependencies: ["Strata", "StrataIO", "StrataBinary"], swiftSettings: swiftSettings),
        .target(
            name: "StrataEtcd",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StrataCluster",
            dependencies: [
                "StrataEtcd", "StrataIO", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings),
        // Generated by scripts/generate-grpc.sh from Proto/ (committed; not regenerated by the build).
        .target(
            name: "StrataGRPCProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/StrataGRPCProtocol",
            exclude: ["Proto"],
            swiftSettings: swiftSettings
        ),
        // The dashboard (docs/dashboard.md): its files are plain HTML, CSS and JavaScript in
        // Sources/StrataDashboard/Assets, turned into Swift string literals at build time.
        .executableTarget(name: "DashboardAssetEmbedder", swiftSettings: swiftSettings),
        .plugin(
            name: "DashboardAssetsPlugin", capability: .buildTool(), dependencies: ["DashboardAssetEmbedder"],
            path: "Sources/DashboardAssetsPlugin"),
        .target(
            name: "StrataDashboard", exclude: ["Assets"], swiftSettings: swiftSettings,
            plugins: ["DashboardAssetsPlugin"]),
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataDashboard",
                "Strata", "StrataText", "StrataIO", "StrataJSON", "StrataCluster", "StrataEtcd", "StrataBinary",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "StrataGRPCProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StrataCLI",
            dependencies: [
                "Strata", "StrataCrashTest", "StrataServer", "StrataVectorMath", "StrataWAL", "StrataIO", "StrataText",
                "StrataCluster", "StrataEtcd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The helpers every test target shares: the seeded generator, temporary
        // directories, raw files, the fuzz corpora. StrataIO only, so that the
        // lowest test targets do not build the engine.
        .target(
            name: "StrataTestSupport", dependencies: ["StrataIO"], path: "Tests/StrataTestSupport",
            swiftSettings: swiftSettings),
        // The fuzz targets' checks (fuzz/), shared with the tests that replay their corpora.
        .target(
            name: "StrataFuzzChecks",
            dependencies: [
                "StrataIO", "StrataBinary", "StrataPayload",
                // The MANIFEST and snapshot-archive fuzz checks drive the engine.
                "Strata", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/StrataFuzzChecks", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataIOTests", dependencies: ["StrataIO", "StrataTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataPayloadTests",
            dependencies: ["StrataPayload", "StrataModel", "StrataTestSupport", "StrataFuzzChecks"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataJSONTests", dependencies: ["StrataJSON", "StrataModel", "StrataTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "StrataBinaryTests", dependencies: ["StrataBinary"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataCompressionTests", dependencies: ["StrataCompression", "StrataTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataVectorMathTests", dependencies: ["StrataVectorMath", "StrataTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataWALTests", dependencies: ["StrataWAL", "StrataIO", "StrataTestSupport"],
            exclude: ["Fixtures"],  // read through #filePath, not bundled
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataQuantizationTests",
            dependencies: ["StrataQuantization", "StrataVectorMath", "StrataTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataHNSWTests", dependencies: ["StrataHNSW", "StrataVectorMath", "StrataTestSupport"],
            exclude: ["Fixtures"],  // read through #filePath, not bundled
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataTests",
            dependencies: [
                "Strata", "StrataIO", "StrataBinary", "StrataSegment", "StrataWAL", "StrataTestSupport",
                "StrataFuzzChecks", "StrataCrashTest", "StrataTar", "StrataText",
            ], swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataSegmentTests",
            dependencies: [
                "StrataSegment", "StrataIO", "StrataModel", "StrataCompression", "StrataTestSupport",
                "StrataFuzzChecks",
            ],
            exclude: ["Fixtures"],  // read through #filePath, not bundled
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataServer", "Strata", "StrataIO", "StrataTestSupport", "StrataGRPCProtocol",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StrataClientTests",
            dependencies: [
                "StrataClient", "Strata", "StrataTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataEtcdTests", dependencies: ["StrataEtcd", "StrataTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataClusterTests",
            dependencies: ["StrataCluster", "StrataEtcd", "StrataTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataCrashTestTests",
            dependencies: ["StrataCrashTest", "Strata", "StrataTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
