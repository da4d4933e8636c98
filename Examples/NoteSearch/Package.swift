// swift-tools-version: 6.1
// NoteSearch: a small search tool over local text files, written once against Strata's
// VectorStore protocol and run either on an embedded data directory (the Strata library)
// or against a server (StrataClient): see README.md.
import PackageDescription

let package = Package(
    name: "NoteSearch",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Strata", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "note-search",
            dependencies: [
                .product(name: "Strata", package: "Strata"),
                .product(name: "StrataClient", package: "Strata"),
                .product(name: "StrataText", package: "Strata"),
            ],
            path: "Sources/NoteSearch",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
