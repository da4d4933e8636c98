import Foundation
@testable import Strata
import StrataBinary
import StrataIO
import StrataTestSupport
import Testing

@Suite struct WriteOperationEncodingTests {
    /// The worked example in docs/format/operations.md.
    @Test func deleteEncodingMatchesTheSpecExample() {
        #expect(
            WriteOperation.delete([.number(7), .number(300)]).encoded() == [
                0x01, 0x02, 0x02, 0x00, 0x07, 0x00, 0xAC, 0x02,
            ])
    }

    /// The conditional-upsert example in docs/format/operations.md (version 2),
    /// and version 1 for everything that version 1 can say.
    @Test func conditionalUpsertEncodingMatchesTheSpecExample() throws {
        let operation = WriteOperation.conditionalUpsert(
            points: [PointStruct(id: 7, vectors: ["": [1]], payload: nil)], mode: .insertOnly,
            filter: Filter(must: [.hasID([7])]))
        let expected: [UInt8] = [
            0x02, 0x0e, 0x01, 0x01,  // version 2, tag 14, insert_only, has filter
            0x07, 0x01, 0x04, 0x6d, 0x75, 0x73, 0x74,  // {"must":
            0x06, 0x01, 0x07, 0x01, 0x06, 0x68, 0x61, 0x73, 0x5f, 0x69, 0x64,  // [{"has_id":
            0x06, 0x01, 0x03, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // [7]}]}
            0x01, 0x00, 0x07, 0x01, 0x00, 0x01, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00,  // point 7, "" = [1.0], no sparse, no payload
        ]
        #expect(operation.encoded() == expected)
        #expect(try expected.withUnsafeBytes { try WriteOperation.decode($0) } == operation)
        // A version-2 tag under version 1 is refused; other operations are still version 1.
        var mislabelled = expected
        mislabelled[0] = 0x01
        #expect(throws: FormatError.self) { try mislabelled.withUnsafeBytes { try WriteOperation.decode($0) } }
        #expect(WriteOperation.upsert([PointStruct(id: 7, vector: [1])]).encoded().first == 0x01)
        #expect(WriteOperation.delete([7]).encoded().first == 0x01)
    }

    /// The atomic-batch example in docs/format/operations.md (version 3):
    /// nested operations keep their own versions; a filter-selected operation
    /// is logged without ids and only inside a batch; batches do not nest.
    @Test func atomicBatchEncodingMatchesTheSpecExample() throws {
        let operation = WriteOperation.atomicBatch([
            .upsert([PointStruct(id: 7, vectors: ["": [1]], payload: nil)]),
            .matching(Filter(must: [.hasID([7])]), .clearPayload(ids: [])),
        ])
        let expected: [UInt8] = [
            0x03, 0x10, 0x02,  // version 3, tag 16, 2 operations
            0x0d, 0x01, 0x01, 0x01, 0x00, 0x07, 0x01, 0x00, 0x01, 0x00, 0x00, 0x80, 0x3f, 0x00,  // 13 bytes: upsert point 7
            0x22, 0x03, 0x11,  // 34 bytes: version 3, tag 17
            0x07, 0x01, 0x04, 0x6d, 0x75, 0x73, 0x74,  // {"must":
            0x06, 0x01, 0x07, 0x01, 0x06, 0x68, 0x61, 0x73, 0x5f, 0x69, 0x64,  // [{"has_id":
            0x06, 0x01, 0x03, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // [7]}]}
            0x01, 0x06, 0x00,  // clear_payload, no ids
        ]
        #expect(operation.encoded() == expected)
        #expect(try expected.withUnsafeBytes { try WriteOperation.decode($0) } == operation)
        // Tag 16 under version 2 is refused.
        var mislabelled = expected
        mislabelled[0] = 0x02
        #expect(throws: FormatError.self) { try mislabelled.withUnsafeBytes { try WriteOperation.decode($0) } }
        // A filter-selected operation alone, one with ids, and a batch in a batch are refused.
        let alone = Array(expected[18...])
        #expect(throws: FormatError.self) { try alone.withUnsafeBytes { try WriteOperation.decode($0) } }
        var withIDs = Array(expected.dropLast()) + [0x01, 0x00, 0x07]  // clear_payload of id 7
        withIDs[17] = 0x24
        #expect(throws: FormatError.self) { try withIDs.withUnsafeBytes { try WriteOperation.decode($0) } }
        let nested = WriteOperation.atomicBatch([.atomicBatch([.delete([1])])])
        #expect(throws: FormatError.self) { try nested.encoded().withUnsafeBytes { try WriteOperation.decode($0) } }
        // A timed operation only at the top (version 3, tag 18: f64 seconds, then the operation).
        let timed = WriteOperation.timed(Date(timeIntervalSince1970: 2), .delete([1]))
        #expect(timed.encoded() == [0x03, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x01, 0x02, 0x01, 0x00, 0x01])
        for nested in [WriteOperation.atomicBatch([timed]), .timed(Date(), timed)] {
            #expect(throws: FormatError.self) { try nested.encoded().withUnsafeBytes { try WriteOperation.decode($0) } }
        }
        // An upsert-typed operation under `matching` is refused too.
        let notSelecting = WriteOperation.atomicBatch([.matching(Filter(must: [.hasID([7])]), .upsert([]))])
        #expect(throws: FormatError.self) {
            try notSelecting.encoded().withUnsafeBytes { try WriteOperation.decode($0) }
        }
    }

    @Test func everyOperationKindRoundTrips() throws {
        let uuid = PointID.uuid(UUID(uuidString: "936DA01F-9ABD-4D9D-80C7-02AF85C822A8")!)
        let payload: Payload = ["s": "x", "i": -5, "d": 2.5, "b": true, "n": nil, "a": [1, [2, ["k": "v"]]]]
        let operations: [WriteOperation] = [
            .upsert([
                PointStruct(id: 1, vectors: ["": [1, 2], "text": [0.5]], payload: payload),
                PointStruct(id: uuid, vectors: [:], payload: nil),
            ]),
            .delete([1, uuid, .number(.max)]),
            .setPayload(ids: [1], payload: payload),
            .overwritePayload(ids: [uuid], payload: [:]),
            .deletePayloadKeys(ids: [1, 2], keys: ["a", "ключ"]),
            .clearPayload(ids: []),
            .setPayloadAtKey(ids: [uuid], payload: payload, key: "a.b[].c"),
            .createFieldIndex(key: "city", schema: PayloadFieldSchema(.text).json),
            .deleteFieldIndex(key: "city"),
            .updateVectors([
                PointVectors(id: 1, vectors: ["": [3, 4], "text": [1]]), PointVectors(id: uuid, vectors: [:]),
            ]),
            .deleteVectors(ids: [1, uuid], names: ["text", ""]),
            .conditionalUpsert(
                points: [PointStruct(id: 1, vectors: ["": [1, 2]], payload: payload)], mode: .updateOnly,
                filter: Filter(must: [.field(FieldCondition(key: try PayloadPath("a"), .match(.prefix("x"))))])),
            .conditionalUpsert(points: [PointStruct(id: uuid, vectors: [:], payload: nil)], mode: .upsert, filter: nil),
            .conditionalUpdateVectors(
                points: [
                    PointVectors(
                        id: 1, vectors: ["": [3, 4]], sparseVectors: ["s": SparseVector(indices: [1], values: [2])])
                ],
                filter: Filter(mustNot: [.slice(PointSlice(index: 1, total: 3)), .isNull(key: try PayloadPath("n"))])),
        ]
        let filter = Filter(must: [.field(FieldCondition(key: try PayloadPath("s"), .match(.value(.keyword("x")))))])
        let selecting: [WriteOperation] = [
            .delete([]), .setPayload(ids: [], payload: payload), .overwritePayload(ids: [], payload: [:]),
            .deletePayloadKeys(ids: [], keys: ["a"]), .clearPayload(ids: []),
            .setPayloadAtKey(ids: [], payload: payload, key: "a.b"), .deleteVectors(ids: [], names: ["text"]),
        ]
        let batch = WriteOperation.atomicBatch(operations + selecting.map { .matching(filter, $0) })
        let at = Date(timeIntervalSince1970: 1_800_000_000.25)
        for operation in operations + [batch, .timed(at, batch), .timed(at, .delete([1]))] {
            let bytes = operation.encoded()
            let decoded = try bytes.withUnsafeBytes { try WriteOperation.decode($0) }
            #expect(decoded == operation)
        }
    }

    @Test func hostileBytesThrowAndNeverTrap() {
        var rng = SeededGenerator(seed: 99)
        print("seed: 99")
        let valid = WriteOperation.upsert([PointStruct(id: 1, vector: [1, 2, 3], payload: ["a": [1, 2]])]).encoded()
        var rejected = 0
        for _ in 0..<5000 {
            var bytes = valid
            switch rng.next() % 3 {
            case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 1: bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            default: bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            do {
                _ = try bytes.withUnsafeBytes { try WriteOperation.decode($0) }
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 1000)
        // Deep nesting is refused, not a stack overflow.
        var deep: [UInt8] = [0x01, 0x03, 0x01, 0x00]  // set_payload, 1 id: 0
        deep += [0x07, 0x01, 0x01, 0x61]  // object {"a": …
        deep += Array(repeating: 0x06, count: 1) + [0x01]
        for _ in 0..<10_000 { deep += [0x06, 0x01] }
        #expect(throws: FormatError.self) { _ = try deep.withUnsafeBytes { try WriteOperation.decode($0) } }
    }
}
