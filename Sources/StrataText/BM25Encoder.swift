import Foundation
import StrataModel
import StrataPayload

/// Text → sparse vector with BM25 term weighting (docs/bm25.md), compatible
/// in token ids and formulas with Qdrant's built-in `qdrant/bm25` model
/// (Qdrant's `lib/bm25` over its text-index token pipeline).
///
/// - Tokens: the text is split into maximal runs of Unicode letters and
///   digits (everything else separates; with `splitOnWhitespaceOnly`, runs of
///   non-whitespace; with `prefixes`, documents get each word's prefixes and
///   queries one prefix per word), then each token is ASCII-folded (`asciiFolding`),
///   lowercased (unless `lowercase` is false), dropped when a stopword,
///   stemmed (`stemEnglish`), and dropped when shorter than `minTokenLength`
///   or longer than `maxTokenLength` characters — Qdrant's order. The
///   encoder's own defaults do none of the optional steps; the server's
///   `Document` options start from Qdrant's (English stopwords and stemmer).
/// - Token id: murmur3 (32-bit, seed 0) of the token's UTF-8 bytes, read as a
///   signed 32-bit integer, absolute value (so < 2^31 + 1).
/// - Document: each distinct token gets `tf·(k1+1) / (tf + k1·(1 − b + b·len/avg_len))`
///   (`len` = number of tokens), computed in double precision, stored as Float.
/// - Query: each distinct token gets 1; the collection's `idf` modifier supplies IDF.
///
/// Store documents under a sparse vector whose modifier is `.idf`, and query
/// with the same encoder's `query(_:)`:
///
/// ```swift
/// let encoder = try BM25Encoder(stopwords: ["the", "a"], stemEnglish: true)
/// let config = CollectionConfig(vectors: [:], sparseVectors: ["text": SparseVectorParams(modifier: .idf)])
/// let docs = try db.createCollection("docs", config: config)
/// _ = try await docs.upsert([
///     PointStruct(id: 1, vectors: [:], sparseVectors: ["text": encoder.document("The cat sat on the mat")])
/// ])
/// let hits = try docs.query(QueryRequest(query: .nearest(.sparse(encoder.query("cats"))), using: "text"))
/// ```
public struct BM25Encoder: Sendable, Equatable {
    /// Term-frequency saturation (Qdrant's `k`, default 1.2): how quickly
    /// repeating a term stops adding weight.
    public var k1: Double
    /// Length normalisation (0…1, default 0.75): how much a long document's
    /// weights are lowered.
    public var b: Double
    /// The average document length in tokens (Qdrant's `avg_len`, default 256)
    /// that `b` normalises against.
    public var averageLength: Double
    /// Whether tokens are lowercased (default true).
    public var lowercase: Bool
    /// Tokens with fewer characters are dropped; nil keeps every length.
    public var minTokenLength: Int?
    /// Tokens with more characters are dropped; nil keeps every length.
    public var maxTokenLength: Int?
    /// Whether accented letters are folded to ASCII (`é` → `e`) before lowercasing.
    public var asciiFolding: Bool
    /// Tokens dropped (after folding and lowercasing).
    public var stopwords: Set<String>
    /// Whether tokens are reduced to their English stem (Snowball), so
    /// "running" and "runs" count as "run".
    public var stemEnglish: Bool
    /// Qdrant's `whitespace` tokenizer instead of `word`.
    public var splitOnWhitespaceOnly: Bool
    /// Qdrant's `prefix` tokenizer: documents hold each word's prefixes.
    public var prefixes: Bool

    /// The model name accepted in `Document` objects.
    public static let modelName = "qdrant/bm25"

    /// An encoder with these parameters (Qdrant's defaults for `k1`, `b` and
    /// `averageLength`; none of the optional token steps).
    ///
    /// Throws `TextError` `.invalidArgument` unless `k1` ≥ 0, `b` is in 0…1 and
    /// `averageLength` > 0, all finite.
    public init(
        k1: Double = 1.2, b: Double = 0.75, averageLength: Double = 256, lowercase: Bool = true,
        minTokenLength: Int? = nil, maxTokenLength: Int? = nil, asciiFolding: Bool = false,
        stopwords: Set<String> = [], stemEnglish: Bool = false, splitOnWhitespaceOnly: Bool = false,
        prefixes: Bool = false
    ) throws {
        guard k1.isFinite, k1 >= 0 else { throw TextError.invalid("BM25 k must be finite and >= 0, got \(k1)") }
        guard b.isFinite, (0...1).contains(b) else {
            throw TextError.invalid("BM25 b must be finite and in [0, 1], got \(b)")
        }
        guard averageLength.isFinite, averageLength > 0 else {
            throw TextError.invalid("BM25 avg_len must be finite and > 0, got \(averageLength)")
        }
        self.k1 = k1
        self.b = b
        self.averageLength = averageLength
        self.lowercase = lowercase
        self.minTokenLength = minTokenLength
        self.maxTokenLength = maxTokenLength
        self.asciiFolding = asciiFolding
        self.stopwords = stopwords
        self.stemEnglish = stemEnglish
        self.splitOnWhitespaceOnly = splitOnWhitespaceOnly
        self.prefixes = prefixes
    }

    /// The token steps after splitting (folding, lowercase, stopwords,
    /// stemming, length bounds, prefixes): the text index's own tokenizer.
    var analysis: TextTokenizer {
        TextTokenizer(
            kind: prefixes ? .prefix : .word, lowercase: lowercase, minLength: minTokenLength,
            maxLength: maxTokenLength, asciiFolding: asciiFolding, stopwords: stopwords, stemEnglish: stemEnglish)
    }

    /// The document-side tokens of `text`, in order.
    /// With `prefixes`
    /// (Qdrant's `prefix` tokenizer) each word gives its prefixes from
    /// `minTokenLength` (or 1) characters up to `maxTokenLength`.
    public func tokenize(_ text: String) -> [String] { analysis.tokens(ofWords: words(text)) }

    /// The query-side tokens: `tokenize` except with `prefixes`, where each
    /// word (folded, lowercased, stemmed, not stopword-filtered) is one
    /// prefix cut to `maxTokenLength`, dropped when shorter than `minTokenLength`.
    public func queryTokens(_ text: String) -> [String] { analysis.queryTokens(ofWords: words(text)) }

    /// Maximal runs of letters and digits (or of non-whitespace).
    func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let separator =
                splitOnWhitespaceOnly
                ? scalar.properties.isWhitespace
                : !(scalar.properties.isAlphabetic || scalar.properties.numericType != nil)
            if !separator {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// Qdrant's token id: |murmur3_32(seed 0)| as a signed 32-bit value.
    public static func tokenID(_ token: String) -> UInt32 {
        Int32(bitPattern: murmur3(Array(token.utf8), seed: 0)).magnitude
    }

    /// The document-side vector of `text` (BM25 term-frequency saturation).
    public func document(_ text: String) -> SparseVector {
        let tokens = tokenize(text)
        guard !tokens.isEmpty else { return SparseVector(indices: [], values: []) }
        var counts: [String: Int] = [:]
        for token in tokens { counts[token, default: 0] += 1 }
        let length = Double(tokens.count)
        var weights: [UInt32: Float] = [:]
        // Sorted tokens: a hash collision keeps the weight of the larger token, deterministically.
        for token in counts.keys.sorted() {
            let n = Double(counts[token]!)
            let norm = 1 - b + b * length / averageLength
            weights[Self.tokenID(token)] = Float(n * (k1 + 1) / n.addingProduct(k1, norm))
        }
        let indices = weights.keys.sorted()
        return SparseVector(indices: indices, values: indices.map { weights[$0]! })
    }

    /// The query-side vector of `text`: weight 1 per distinct token.
    public func query(_ text: String) -> SparseVector {
        let indices = Set(queryTokens(text).map(Self.tokenID)).sorted()
        return SparseVector(indices: indices, values: Array(repeating: 1, count: indices.count))
    }

    /// MurmurHash3 x86 32-bit.
    static func murmur3(_ data: [UInt8], seed: UInt32) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51, c2: UInt32 = 0x1b87_3593
        var h = seed
        let blocks = data.count / 4
        for i in 0..<blocks {
            var k =
                UInt32(data[4 * i]) | UInt32(data[4 * i + 1]) << 8 | UInt32(data[4 * i + 2]) << 16 | UInt32(
                    data[4 * i + 3]) << 24
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe654_6b64
        }
        var k: UInt32 = 0
        let tail = 4 * blocks
        switch data.count & 3 {
        case 3:
            k ^= UInt32(data[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(data[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(data[tail])
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
        default:
            break
        }
        h ^= UInt32(truncatingIfNeeded: data.count)
        h ^= h >> 16
        h &*= 0x85eb_ca6b
        h ^= h >> 13
        h &*= 0xc2b2_ae35
        h ^= h >> 16
        return h
    }
}
