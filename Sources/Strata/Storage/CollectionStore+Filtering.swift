import StrataPayload
import StrataSegment

/// Payload field indexes: creating and dropping them as operations apply,
/// and what the manifest and collection info report of them. (Reads through
/// them are `CollectionReadView`'s.)
extension CollectionStore.State {
    /// Applying operation `.createFieldIndex`.
    mutating func createFieldIndex(_ key: PayloadPath, schema: PayloadFieldSchema) {
        guard payloadSchema[key] != schema else { return }
        payloadSchema[key] = schema
        for segment in immutables { segment.buildFieldIndex(key, schema: schema) }
    }

    /// Makes a segment written while the
    /// schema changed carry exactly the current field indexes.
    func reconcileFieldIndexes(of segment: ImmutableSegment) {
        for key in segment.fieldIndexes.keys where payloadSchema[key] == nil { segment.fieldIndexes[key] = nil }
        for (key, schema) in payloadSchema where segment.fieldIndexes[key]?.schema != schema {
            segment.buildFieldIndex(key, schema: schema)
        }
    }

    /// The schema as the manifest stores it.
    var payloadSchemaEntries: [Manifest.FieldIndexEntry] {
        payloadSchema.keys.sorted().map {
            Manifest.FieldIndexEntry(key: $0.description, schema: payloadSchema[$0]!.json)
        }
    }

}

extension CollectionStore {
    /// The current field indexes and how many live points each covers.
    func payloadSchemaInfo() -> [(key: PayloadPath, schema: PayloadFieldSchema, points: Int)] {
        read { view in
            view.context.payloadSchema.keys.sorted().map { key in
                let points = (try? view.count(filter: Filter(mustNot: [.isEmpty(key: key)]), exact: true)) ?? 0
                return (key, view.context.payloadSchema[key]!, points)
            }
        }
    }
}
