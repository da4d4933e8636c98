import GRPCNIOTransportHTTP2
import StrataGRPCProtocol
import Testing

/// gRPC clients (StrataClient, a node forwarding to another) connect to an IP
/// address as an address, not as a DNS name that TLS would send as SNI.
@Suite struct GRPCTargetTests {
    @Test func addressesAreAddressesAndNamesAreNames() {
        #expect(grpcTarget(host: "127.0.0.1", port: 6334) is ResolvableTargets.IPv4)
        #expect(grpcTarget(host: "10.0.12.255", port: 6334) is ResolvableTargets.IPv4)
        #expect(grpcTarget(host: "[::1]", port: 6334) is ResolvableTargets.IPv6)
        #expect(grpcTarget(host: "fe80::1", port: 6334) is ResolvableTargets.IPv6)
        for name in ["localhost", "node-1.example", "1.2.3", "1.2.3.4.5", "1..2.3", "256.1.1.1", "a:b:zz", "١.٢.٣.٤"] {
            #expect(grpcTarget(host: name, port: 6334) is ResolvableTargets.DNS, "\(name)")
        }
    }
}
