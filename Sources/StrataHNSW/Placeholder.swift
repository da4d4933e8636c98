// HNSW: in progress.
