// Quantization: see QuantizedVectors.swift (in progress).
