import StrataServer
import Testing

@Suite struct ClusterConfigurationTests {
    func clusterNode(_ change: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.etcdEndpoints = ["http://127.0.0.1:2379"]
        configuration.nodeName = "n1"
        configuration.clusterSecret = "topsecret"
        change(&configuration)
        return configuration
    }

    @Test func aClusterNodeNeedsANameAndASecretAndAReachableAddress() throws {
        try clusterNode().validate()
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.nodeName = nil }.validate() }
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.clusterSecret = nil }.validate() }
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.clusterSecret = "" }.validate() }
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.leaseTTL = 0 }.validate() }
        // Listening everywhere or on a random port: other nodes cannot be told where it is.
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.host = "0.0.0.0" }.validate() }
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.port = 0 }.validate() }
        try clusterNode {
            $0.host = "0.0.0.0"
            $0.advertiseURL = "http://10.0.0.5:6333"
        }.validate()
        #expect(throws: ConfigurationError.self) { try clusterNode { $0.advertiseURL = "10.0.0.5" }.validate() }
        // Cluster options without --etcd are a mistake, not ignored.
        var single = ServerConfiguration()
        single.nodeName = "n1"
        #expect(throws: ConfigurationError.self) { try single.validate() }
    }

    @Test func advertisedURLsFollowHostPortsAndTLS() throws {
        let plain = try clusterNode().advertisedURLs()
        #expect(plain.rest == "http://127.0.0.1:6333" && plain.grpc == "http://127.0.0.1:6334")
        #expect(plain.p2p == "http://127.0.0.1:6335")
        let advertised = try clusterNode {
            $0.advertiseURL = "https://db1.example:7000/"
            $0.grpcPort = 7001
            $0.tlsCertificatePath = "c.pem"
            $0.tlsKeyPath = "k.pem"
        }.advertisedURLs()
        #expect(advertised.rest == "https://db1.example:7000" && advertised.grpc == "https://db1.example:7001")
        #expect(try clusterNode { $0.grpcPort = nil }.advertisedURLs().grpc == nil)
    }

    @Test func theSecretIsNeverPrintedAndTheEnvironmentSetsEverything() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(environment: [
            "STRATA_ETCD": "http://a:2379, http://b:2379,", "STRATA_NODE_NAME": "n2",
            "STRATA_CLUSTER_SECRET": "do-not-print-me", "STRATA_LEASE_TTL": "7",
            "STRATA_ADVERTISE_URL": "http://10.1.1.1:6333",
        ])
        #expect(configuration.etcdEndpoints == ["http://a:2379", "http://b:2379"])
        #expect(configuration.nodeName == "n2" && configuration.leaseTTL == 7)
        try configuration.validate()
        #expect(!configuration.description.contains("do-not-print-me"))
        #expect(configuration.description.contains("cluster_secret=<set>"))
    }
}
