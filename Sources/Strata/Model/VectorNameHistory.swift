/// Where older incarnations of one vector name may still be on disk, so they
/// are never taken for the current one (config.json version 2,
/// docs/format/data-directory.md).
///
/// A vector name gets a history entry when it is added to or removed from an
/// existing collection (`Database.createVectorName`, `deleteVectorName`). At
/// that moment the collection is closed, so everything older is either in a
/// segment listed by the MANIFEST or in the WAL; the entry records both
/// boundaries:
/// - WAL operations numbered ≤ `staleThroughOperation` that mention the name
///   were validated against an older schema: replay drops those vectors (and
///   nothing else of the operation);
/// - segments with id < `staleBelowSegment` were written before the change:
///   their sections of that name (dense or sparse) are never read.
/// Operations and segments after the boundaries were written under the
/// current config, so they are checked against it as strictly as before.
/// A later change of the same name moves both boundaries forward; the older
/// boundaries are implied (they are smaller).
struct VectorNameHistory: Codable, Equatable, Sendable {
    var staleThroughOperation: UInt64
    var staleBelowSegment: UInt64
}

extension [String: VectorNameHistory] {
    /// The names whose mentions in operation `opNum` are stale.
    func staleNames(inOperation opNum: UInt64) -> Set<String> {
        Set(filter { opNum <= $0.value.staleThroughOperation }.keys)
    }

    /// The names whose sections in segment `segmentID` are stale.
    func hiddenNames(inSegment segmentID: UInt64) -> Set<String> {
        Set(filter { segmentID < $0.value.staleBelowSegment }.keys)
    }
}
