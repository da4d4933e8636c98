import ArgumentParser
import Foundation
import Logging
import Strata
import StrataCluster
import StrataIO
import StrataServer

/// `strata serve`: the Qdrant-compatible REST server on a data directory.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a data directory over Qdrant's REST and gRPC APIs.",
        discussion: """
            Settings come from (lowest to highest precedence) defaults, --config FILE (a JSON object with the \
            keys data_dir, host, port, grpc_port (null turns gRPC off), api_key, read_only_api_key, tls_cert, tls_key, tls_ca, max_request_size_bytes, \
            max_json_depth, engine_threads, log_level, log_format), the environment (\
            \(ServerConfiguration.environmentVariables.joined(separator: ", "))) and these options. Prefer the \
            environment or the config file for API keys: command-line arguments are visible to other users \
            in the process list. SIGTERM or SIGINT stop the server gracefully: no new connections, in-flight \
            requests finish, then the data directory is closed. Every acknowledged write is already durable.
            """)

    @Option(name: .long, help: "Data directory (created if missing). Default ./data.")
    var dataDir: String?

    @Option(name: .long, help: "Address to listen on. Default 127.0.0.1.")
    var host: String?

    @Option(name: .long, help: "Port to listen on (0 picks a free one). Default 6333.")
    var port: Int?

    @Option(name: .long, help: "Port of Qdrant's gRPC API (0 picks a free one). Default 6334.")
    var grpcPort: Int?

    @Flag(name: .long, help: "Do not serve gRPC.")
    var noGrpc = false

    @Option(name: .long, help: "JSON config file.")
    var config: String?

    @Option(name: .long, help: "API key with full access; also signs JWT access tokens (HS256).")
    var apiKey: String?

    @Option(name: .long, help: "API key that may only read.")
    var readOnlyApiKey: String?

    @Option(name: .long, help: "PEM certificate chain for HTTPS (with --tls-key).")
    var tlsCert: String?

    @Option(name: .long, help: "PEM private key for HTTPS (with --tls-cert).")
    var tlsKey: String?

    @Option(
        name: .long,
        help: "PEM certificates a cluster node trusts when it calls other nodes over TLS (default: the system's).")
    var tlsCa: String?

    @Option(name: .long, help: "Largest accepted request body in bytes. Default 33554432 (32 MiB).")
    var maxRequestSize: Int?

    @Option(name: .long, help: "Threads for blocking engine work; 0 = one per core.")
    var engineThreads: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: String?

    @Option(
        name: .long,
        help: "Join a cluster: the client URLs of its etcd members, comma-separated (docs/cluster.md).")
    var etcd: String?

    @Option(name: .long, help: "This node's name in the cluster (with --etcd).")
    var nodeName: String?

    @Option(name: .long, help: "The REST URL other nodes reach this node at. Default http://<host>:<port>.")
    var advertiseUrl: String?

    @Option(
        name: .long,
        help:
            "The secret shared by the cluster's nodes. Prefer STRATA_CLUSTER_SECRET: arguments are visible to other users."
    )
    var clusterSecret: String?

    @Option(name: .long, help: "Seconds this node's etcd lease lives without renewal. Default 5.")
    var leaseTtl: Int?

    @Option(name: .long, help: "Internal port for replication between cluster nodes (same host). Default 6335.")
    var p2pPort: Int?

    @Option(
        name: .long,
        help:
            "replication_factor of a collection created without one (cluster mode; Qdrant's storage default). Default 1."
    )
    var defaultReplicationFactor: Int?

    @Option(
        name: .long,
        help:
            "shard_number of a collection created without one (cluster mode). Default: the number of running nodes, as Qdrant."
    )
    var defaultShardNumber: Int?

    @Option(
        name: .long, help: "write_consistency_factor of a collection created without one (cluster mode). Default 1.")
    var defaultWriteConsistencyFactor: Int?

    func run() async throws {
        var settings = ServerConfiguration()
        do {
            if let config { try settings.apply(configFile: config) }
            try settings.apply(environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        if let dataDir { settings.dataDirectory = dataDir }
        if let host { settings.host = host }
        if let port { settings.port = port }
        if let grpcPort { settings.grpcPort = grpcPort }
        if noGrpc {
            guard grpcPort == nil else { throw ValidationError("--no-grpc and --grpc-port contradict each other") }
            settings.grpcPort = nil
        }
        if let apiKey { settings.apiKey = apiKey }
        if let readOnlyApiKey { settings.readOnlyAPIKey = readOnlyApiKey }
        if let tlsCert { settings.tlsCertificatePath = tlsCert }
        if let tlsKey { settings.tlsKeyPath = tlsKey }
        if let tlsCa { settings.tlsCAPath = tlsCa }
        if let maxRequestSize { settings.maxRequestBodyBytes = maxRequestSize }
        if let engineThreads { settings.engineThreads = engineThreads }
        if let logLevel { settings.logLevel = logLevel }
        if let logFormat { settings.logFormat = logFormat }
        if let etcd { settings.etcdEndpoints = ServerConfiguration.endpointList(etcd) }
        if let nodeName { settings.nodeName = nodeName }
        if let advertiseUrl { settings.advertiseURL = advertiseUrl }
        if let clusterSecret { settings.clusterSecret = clusterSecret }
        if let leaseTtl { settings.leaseTTL = leaseTtl }
        if let p2pPort { settings.p2pPort = p2pPort }
        if let defaultReplicationFactor { settings.defaultReplicationFactor = defaultReplicationFactor }
        if let defaultWriteConsistencyFactor { settings.defaultWriteConsistencyFactor = defaultWriteConsistencyFactor }
        if let defaultShardNumber { settings.defaultShardNumber = defaultShardNumber }
        do { try settings.validate() } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw ValidationError("unknown log level \(settings.logLevel)")
        }

        let json = settings.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "strata.serve")
        logger.info("starting", metadata: ["settings": "\(settings)"])

        let directoryExisted = FileManager.default.fileExists(atPath: settings.dataDirectory)
        let database = try Database.open(
            at: settings.dataDirectory,
            fileSystem: try Self.testFaults(dataDirectory: settings.dataDirectory, logger: logger))
        logger.info(
            "opened data directory",
            metadata: [
                "path": "\(settings.dataDirectory)", "collections": "\(database.collectionNames().count)",
            ])
        let cluster: ClusterNode?
        do {
            cluster = try await joinCluster(settings, dataDirectory: database.path, logger: logger)
        } catch {
            database.close()
            // A node that could not join leaves no trace: a directory made just now goes again.
            if !directoryExisted { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
            throw error
        }
        let server: StrataHTTPServer
        do {
            server = try StrataHTTPServer(database: database, configuration: settings, logger: logger, cluster: cluster)
        } catch {
            await cluster?.leave()
            database.close()
            throw error
        }
        let scheme = settings.tlsCertificatePath == nil ? "http" : "https"
        let (host, configuredPort) = (settings.host, settings.port)
        do {
            try await server.run { channel in
                let port = channel.localAddress?.port ?? configuredPort
                logger.info("listening", metadata: ["url": "\(scheme)://\(host):\(port)"])
                // One line on stdout for scripts and tests that wait for the server.
                FileHandle.standardOutput.write(Data("strata serve: listening on \(scheme)://\(host):\(port)\n".utf8))
            } onGRPCListening: { port in
                logger.info("gRPC listening", metadata: ["address": "\(host):\(port)"])
                FileHandle.standardOutput.write(Data("strata serve: gRPC listening on \(host):\(port)\n".utf8))
            }
        } catch {
            await cluster?.leave()
            database.close()
            throw error
        }
        if let cluster {
            logger.info("leaving the cluster")
            await cluster.leave()
        }
        logger.info("stopped accepting requests; closing the data directory")
        database.close()
        logger.info("closed; bye")
    }

    /// Joins the cluster when `--etcd` is given (a `ClusterError` stops the
    /// server with what to do; nothing was changed then).
    private func joinCluster(
        _ settings: ServerConfiguration, dataDirectory: String, logger: Logger
    ) async throws
        -> ClusterNode?
    {
        guard !settings.etcdEndpoints.isEmpty, let nodeName = settings.nodeName, let secret = settings.clusterSecret
        else { return nil }
        let (rest, grpc, p2p) = try settings.advertisedURLs()
        var configuration = ClusterNode.Configuration(
            etcdEndpoints: settings.etcdEndpoints, nodeName: nodeName, secret: secret, restURL: rest, grpcURL: grpc,
            dataDirectory: dataDirectory)
        configuration.p2pURL = p2p
        configuration.caCertificatePath = settings.tlsCAPath
        configuration.leaseTTL = Int64(settings.leaseTTL)
        configuration.version = StrataHTTPServer.version
        do {
            return try await ClusterNode.join(configuration, logger: logger)
        } catch let error as ClusterError {
            logger.critical("cannot join the cluster", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("strata serve: cannot join the cluster: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `STRATA_TEST_FAULTS=wal-fdatasync-fails-after=N` (for tests of the
    /// cluster only): the engine runs on the in-memory fault-injecting file
    /// system, whose WAL syncs fail after the first N. Never set it for real
    /// data: nothing is written to disk but the node's identity.
    static func testFaults(dataDirectory: String, logger: Logger) throws -> any FileSystem {
        guard let spec = ProcessInfo.processInfo.environment["STRATA_TEST_FAULTS"], !spec.isEmpty else {
            return POSIXFileSystem()
        }
        let prefix = "wal-fdatasync-fails-after="
        guard spec.hasPrefix(prefix), let count = Int(spec.dropFirst(prefix.count)), count >= 0 else {
            throw ValidationError("STRATA_TEST_FAULTS must be \(prefix)N")
        }
        logger.warning(
            "TEST FAULTS: the data directory lives in memory and WAL syncs fail after \(count)",
            metadata: ["STRATA_TEST_FAULTS": "\(spec)"])
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.injectError(.sync, pathContains: "/wal/", afterHits: count, mode: .always, errno: EIO)
        return fileSystem
    }
}
