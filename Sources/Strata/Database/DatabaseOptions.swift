/// How a database is opened.
public struct DatabaseOptions: Sendable, Equatable {
    /// When writes are acknowledged; see `Durability` and docs/durability.md.
    public var durability: Durability
    /// Size at which a collection's WAL starts a new file.
    public var walFileSize: Int

    public init(durability: Durability = .durable, walFileSize: Int = 32 << 20) {
        self.durability = durability
        self.walFileSize = walFileSize
    }
}
