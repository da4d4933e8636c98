import ArgumentParser

/// The `strata` command-line tool: one entry point for serving, benchmarking,
/// crash-testing and inspecting a Strata data directory.
@main
struct StrataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Strata, a disk-first vector database.",
        subcommands: [
            ServeCommand.self, DemoCommand.self, InspectCommand.self, VerifyCommand.self, SnapshotCommand.self,
            CollectionCommand.self,
            CrashTestCommand.self, BenchCommand.self, CrashTestChildCommand.self, ClusterCommand.self,
            ClusterTestCommand.self,
        ]
    )
}

/// `strata bench …`: measurements that the project's performance claims rest on.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark and print one JSON line per result.",
        subcommands: [
            BenchScanCommand.self, BenchUpsertCommand.self, BenchLSMCommand.self, BenchANNCommand.self,
            BenchSearchCommand.self,
            BenchFilteredCommand.self, BenchSnapshotCommand.self, BenchSparseCommand.self, BenchMultiVectorCommand.self,
            BenchBM25EncodeCommand.self, BenchJSONCommand.self, BenchRESTUpsertCommand.self, BenchVersionsCommand.self,
        ]
    )
}
