#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRPCNIOTransportHTTP2

/// Where a gRPC client connects for `host` (as a URL carries it: an IPv6
/// address in brackets or bare) and `port`: an IP address is no DNS name, so
/// it is an address target. TLS then sends no SNI for it (TLS forbids an
/// address there, and NIOSSL refuses one) and checks the certificate against
/// the address. Anything that does not parse as an address (`inet_pton`) is
/// a name. Shared by StrataClient and a cluster node's gRPC forwarding.
public func grpcTarget(host: String, port: Int) -> any ResolvableTarget {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if parses(bare, family: AF_INET, size: MemoryLayout<in_addr>.size) { return .ipv4(address: bare, port: port) }
    if parses(bare, family: AF_INET6, size: MemoryLayout<in6_addr>.size) { return .ipv6(address: bare, port: port) }
    return .dns(host: bare, port: port)
}

private func parses(_ text: String, family: Int32, size: Int) -> Bool {
    withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
        inet_pton(family, text, buffer.baseAddress) == 1
    }
}
