extension Collection {
    /// What the optimizer is doing (with the progress of each step), what it
    /// would do next, the last 64 optimizations it finished (newest first,
    /// since the collection was opened) and the segments needing nothing.
    public var optimizations: OptimizationsReport { store.optimizationsReport() }
}
