import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
@testable import StrataServer
import StrataTestSupport
import Testing

/// The node-wide quota: its refusals with injected measurements (a server's
/// real memory and disk shares cannot be steered), the release margin, the
/// persisted config, and the HTTP endpoints.
@Suite struct QuotaTests {
    static let insufficientStorage = 507

    @Test func limitsRefuseAtAndAboveTheirLimitWhileEnabled() throws {
        try withTemporaryDirectory { dir in
            let quota = try NodeQuota(directory: dir)
            try quota.replace(
                with: .init(enabled: true, max_resident_memory_percent: 80, max_disk_usage_percent: 90))
            try quota.check { $0 == .residentMemory ? 79 : 89 }
            try quota.check { _ in nil }  // unreadable statistics let the write through
            #expect {
                try quota.check { $0 == .residentMemory ? 80 : 10 }
            } throws: { error in
                (error as? APIError)?.status.code == Self.insufficientStorage
                    && (error as? APIError)?.message
                        == "Insufficient storage: Resident memory usage is at 80% of total memory, exceeding the configured limit of 80%. Help: Reduce memory usage (e.g. delete points or drop collections), or raise `max_resident_memory_percent` in the global quota config."
            }
            // A fresh config forgets what tripped.
            try quota.replace(
                with: .init(enabled: true, max_resident_memory_percent: 80, max_disk_usage_percent: 90))
            #expect {
                try quota.check { $0 == .residentMemory ? 10 : 95 }
            } throws: { error in
                (error as? APIError)?.message
                    == "Insufficient storage: Disk usage is at 95% of total capacity, exceeding the configured limit of 90%. Help: Reduce disk usage (e.g. delete points or drop collections), or raise `max_disk_usage_percent` in the global quota config."
            }
            // Disabled, the same readings pass; so does a limit of 100 below 100%.
            try quota.replace(with: .init(enabled: false, max_resident_memory_percent: 1, max_disk_usage_percent: 1))
            try quota.check { _ in 100 }
            try quota.replace(with: .init(enabled: true, max_resident_memory_percent: 100, max_disk_usage_percent: 100))
            try quota.check { _ in 99 }
        }
    }

    @Test func aTrippedLimitHoldsUntilItClearsTheReleaseMargin() throws {
        try withTemporaryDirectory { dir in
            let quota = try NodeQuota(directory: dir)
            try quota.replace(with: .init(enabled: true, max_disk_usage_percent: 90))
            try quota.check { $0 == .diskUsage ? 80 : nil }
            #expect(throws: APIError.self) { try quota.check { $0 == .diskUsage ? 90 : nil } }
            // Back under the limit but within the default margin of 5: still refused, and said so.
            #expect {
                try quota.check { $0 == .diskUsage ? 87 : nil }
            } throws: { error in
                (error as? APIError)?.message
                    == "Insufficient storage: Disk usage is at 87% of total capacity. It reached the configured limit of 90% and has to fall below 85% before this node takes writes again. Help: Reduce disk usage (e.g. delete points or drop collections), or raise `max_disk_usage_percent` in the global quota config."
            }
            try quota.check { $0 == .diskUsage ? 84 : nil }
            // Cleared, it takes the whole limit to trip again.
            try quota.check { $0 == .diskUsage ? 88 : nil }
            // A margin of 0 releases as soon as the reading is under the limit.
            try quota.replace(with: .init(enabled: true, max_disk_usage_percent: 90, release_margin_percent: 0))
            #expect(throws: APIError.self) { try quota.check { $0 == .diskUsage ? 90 : nil } }
            try quota.check { $0 == .diskUsage ? 89 : nil }
        }
    }

    @Test func theConfigIsPersistedAndValidated() throws {
        try withTemporaryDirectory { dir in
            let config = NodeQuota.Config(
                enabled: true, max_resident_memory_percent: 95, max_disk_usage_percent: 80, release_margin_percent: 2)
            try NodeQuota(directory: dir).replace(with: config)
            #expect(try NodeQuota(directory: dir).config == config)
            #expect(!FileManager.default.fileExists(atPath: dir + "/.quota.json.tmp"))
            // Refused configs change nothing.
            let quota = try NodeQuota(directory: dir)
            #expect(throws: APIError.self) { try quota.replace(with: .init(enabled: true, max_disk_usage_percent: 0)) }
            #expect(try NodeQuota(directory: dir).config == config)
            // A file holding an impossible quota stops the server rather than enforcing none.
            try Data(#"{"enabled":true,"max_disk_usage_percent":0}"#.utf8).write(
                to: URL(fileURLWithPath: dir + "/.quota.json"))
            #expect(throws: (any Error).self) { try NodeQuota(directory: dir) }
        }
    }

    /// The example of docs/format/data-directory.md (`.quota.json`), byte for byte.
    @Test func theFileIsTheSpecsExample() throws {
        try withTemporaryDirectory { dir in
            try NodeQuota(directory: dir).replace(
                with: .init(
                    enabled: true, max_resident_memory_percent: 95, max_disk_usage_percent: 80,
                    release_margin_percent: 2))
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/.quota.json")), as: UTF8.self)
            #expect(
                text
                    == #"{"enabled":true,"max_disk_usage_percent":80,"max_resident_memory_percent":95,"release_margin_percent":2}"#
                    + "\n")
            try NodeQuota(directory: dir).replace(with: .init(enabled: false))
            let unset = String(
                decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/.quota.json")), as: UTF8.self)
            #expect(unset == #"{"enabled":false}"# + "\n")
        }
    }

    @Test func measurementsAreSanePercentages() throws {
        try withTemporaryDirectory { dir in
            let disk = try #require(DiskUsage.percentUsed(path: dir))
            let memory = try #require(ResidentMemory.percentUsed())
            #expect((0...100).contains(disk) && (0...100).contains(memory))
            #expect(DiskUsage.percentUsed(path: dir + "/missing") == nil)
            #expect(NodeResource.percent(999, of: 1000) == 99)
            #expect(NodeResource.percent(200, of: 100) == 100)
            #expect(NodeResource.percent(.max, of: .max) == 100)
            #expect(NodeResource.percent(0, of: 0) == nil)
        }
    }

    @Test func endpointsAndEnforcement() async throws {
        try await withServer { client, database in
            let initial = try await client.send(.get, "/quotas")
            #expect(initial.status == 200)
            #expect(initial.body?["result"]?["config"] == .object(["enabled": .bool(false)]))
            #expect(initial.body?["result"]?["usage"]?["disk_usage_percent"] != nil)
            #expect(initial.body?["result"]?["peers"] == nil)
            #expect(try await client.send(.put, "/collections/c", json: createSmallCollection).status == 200)
            #expect(try await client.send(.put, "/collections/c/points", json: twoPoints).status == 200)

            let bad = try await client.send(.put, "/quotas", json: #"{"max_resident_memory_percent":101}"#)
            #expect(bad.status == 422)
            #expect(
                bad.body?.errorMessage
                    == "Validation error in JSON body: [max_resident_memory_percent: value 101 invalid, must be from 1 to 100]"
            )

            // A disk limit this file system has reached (when it has: any use at all).
            guard let used = DiskUsage.percentUsed(path: database.path), used >= 1 else { return }
            let put = try await client.send(
                .put, "/quotas?wait=true", json: #"{"enabled":true,"max_disk_usage_percent":\#(used)}"#)
            #expect(put.status == 200 && put.body?["result"] == .bool(true))
            let refused = try await client.send(.put, "/collections/c/points", json: twoPoints)
            #expect(refused.status == Self.insufficientStorage)
            #expect(refused.body?.errorMessage?.hasPrefix("Insufficient storage: Disk usage is at ") == true)
            let writes: [(HTTPRequest.Method, String, String)] = [
                (.post, "/collections/c/points/payload", #"{"payload":{"b":1},"points":[1]}"#),
                (.put, "/collections/c/points/payload", #"{"payload":{"b":1},"points":[1]}"#),
                (.post, "/collections/c/points/payload/clear", #"{"points":[1]}"#),
                (.put, "/collections/c/points/vectors", #"{"points":[{"id":1,"vector":[0,1]}]}"#),
                (.put, "/collections/c/index", #"{"field_name":"a","field_schema":"integer"}"#),
                (
                    .post, "/collections/c/points/batch",
                    #"{"operations":[{"upsert":{"points":[{"id":3,"vector":[1,1]}]}}]}"#
                ),
            ]
            for (method, path, body) in writes {
                let answer = try await client.send(method, path, json: body)
                #expect(answer.status == Self.insufficientStorage, "\(method) \(path): \(answer.text)")
            }
            // Deleting points frees space and is never refused; reads go on.
            #expect(
                try await client.send(.post, "/collections/c/points/delete", json: #"{"points":[2]}"#).status == 200)
            #expect(
                try await client.send(.post, "/collections/c/points/count", json: "{}").body?["result"]?["count"]
                    == .int(1))
            // Raising the limit to 100 lets writes through at once.
            #expect(
                try await client.send(.put, "/quotas", json: #"{"enabled":true,"max_disk_usage_percent":100}"#).status
                    == 200)
            #expect(try await client.send(.put, "/collections/c/points", json: twoPoints).status == 200)
        }
    }
}
