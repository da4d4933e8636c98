/// The storage layout of a collection at one moment (for `strata inspect`,
/// monitoring and tests).
public struct StorageInfo: Sendable, Equatable {
    /// One immutable segment file of the collection, as the manifest lists it.
    public struct Segment: Sendable, Equatable {
        /// The segment's id: the number in its file name `seg-<id>.seg`
        /// (docs/format/manifest.md).
        public var id: UInt64
        /// Points stored in the segment file, including deleted ones.
        public var points: Int
        /// Points deleted or superseded since the file was written.
        public var deleted: Int
        /// The segment file's path.
        public var path: String
        /// Bytes on disk per section of the file.
        public var sections: [Section]
        /// The file's size: the sections plus its header, section table and footer.
        public var fileBytes: Int
        /// Payload bytes before and after block compression.
        public var payloadRawBytes: Int
        /// Payload bytes after block compression: what the payload blocks
        /// take in the file.
        public var payloadCompressedBytes: Int
        /// Whether some point in the file has a payload (the raw bytes count
        /// a per-point offset even for points without one).
        public var holdsPayloads: Bool

        /// One section of the segment file and its size.
        public struct Section: Sendable, Equatable {
            /// The section's name, as docs/format/segment.md names it.
            public var name: String
            /// The section's length in the file, in bytes.
            public var bytes: Int
        }
    }

    /// Points in the mutable (in-memory) segment.
    public var mutablePoints: Int
    /// Sealed segments waiting to be written.
    public var frozenSegments: Int
    /// Immutable segments the manifest lists.
    public var segments: [Segment]
    /// Operations up to this one are in the segments; the WAL holds the rest.
    public var checkpoint: UInt64
    /// The newest operation applied.
    public var lastOperation: UInt64
    /// WAL files on disk.
    public var walFiles: Int
    /// The last background flush or merge error, if the last attempt failed.
    public var backgroundError: String?
}

/// What `Collection.verifyReport()` found.
public struct SegmentsVerification: Sendable, Equatable {
    /// Immutable segments read, every byte.
    public var segments: Int
    /// The problems found, each naming the file and section.
    public var problems: [String]
}
