/// Splits text into the tokens full-text matching compares (Qdrant's text
/// index tokenizer): split by `kind`, then per token ASCII folding, lowercase,
/// stopword removal, stemming, and the length bounds, in that order.
///
/// `TextTokenizer()` is the default word tokenizer that full-text conditions
/// use on keys without a full-text index: split at everything that is not a
/// letter or digit, lowercase, nothing else.
public struct TextTokenizer: Sendable, Hashable {
    /// How text is split into words.
    public var kind: PayloadFieldSchema.TokenizerKind = .word
    /// Lowercase each token.
    public var lowercase = true
    /// Drop tokens with fewer characters (after processing); nil for no
    /// bound. The prefix tokenizer's shortest prefix.
    public var minLength: Int?
    /// Drop tokens with more characters (after processing); nil for no
    /// bound. The prefix tokenizer keeps longer words and cuts their
    /// prefixes at this length instead.
    public var maxLength: Int?
    /// Fold accented and other non-ASCII Latin letters to ASCII
    /// (`ASCIIFolding`) before anything else.
    public var asciiFolding = false
    /// Tokens dropped (compared after folding and lowercasing).
    public var stopwords: Set<String> = []
    /// Snowball English stemming.
    public var stemEnglish = false

    /// Creates a tokenizer; the defaults give the default word tokenizer.
    /// `stopwords` are compared after folding and lowercasing, so give them
    /// lowercase when `lowercase` is on.
    public init(
        kind: PayloadFieldSchema.TokenizerKind = .word, lowercase: Bool = true, minLength: Int? = nil,
        maxLength: Int? = nil, asciiFolding: Bool = false, stopwords: Set<String> = [], stemEnglish: Bool = false
    ) {
        self.kind = kind
        self.lowercase = lowercase
        self.minLength = minLength
        self.maxLength = maxLength
        self.asciiFolding = asciiFolding
        self.stopwords = stopwords
        self.stemEnglish = stemEnglish
    }

    /// The tokens of a stored text in order (repeats kept, for phrase
    /// matching); `phrase` conditions tokenize their phrase this way too. The
    /// prefix tokenizer gives each word's prefixes from `min_token_len` (or 1)
    /// characters up to `max_token_len`, the whole word when it is not longer.
    public func tokens(_ text: String) -> [String] { tokens(ofWords: words(text)) }

    /// `tokens` of words already split (BM25 splits by its own rule).
    public func tokens(ofWords words: [String]) -> [String] {
        var tokens: [String] = []
        for word in words {
            guard let token = process(word, checkMax: kind != .prefix) else { continue }
            guard kind == .prefix else {
                tokens.append(token)
                continue
            }
            let characters = Array(token)
            var n = max(1, minLength ?? 1)
            while n <= (maxLength ?? Int.max) {
                if characters.count > n {
                    tokens.append(String(characters[..<n]))
                    n += 1
                } else {
                    tokens.append(token)
                    break
                }
            }
        }
        return tokens
    }

    /// The tokens `text` and `text_any` conditions look for: `tokens` except
    /// for the prefix tokenizer, where each word (folded, lowercased, stemmed;
    /// no stopwords, so a typed prefix of a stopword still finds words) counts
    /// as one prefix, cut to `max_token_len` characters.
    public func queryTokens(_ text: String) -> [String] { queryTokens(ofWords: words(text)) }

    /// `queryTokens` of words already split.
    public func queryTokens(ofWords words: [String]) -> [String] {
        guard kind == .prefix else { return tokens(ofWords: words) }
        var tokens: [String] = []
        for word in words {
            var token = normalize(word)
            if stemEnglish { token = EnglishStemmer.stem(token) }
            let count = token.count
            if let minLength, count < minLength { continue }
            if let maxLength, count > maxLength { token = String(token.prefix(maxLength)) }
            tokens.append(token)
        }
        return tokens
    }

    /// The raw words of `text`: runs of letters and digits (word, prefix) or
    /// of non-whitespace (whitespace).
    func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text {
            let separator: Bool
            switch kind {
            case .word, .prefix: separator = !(character.isLetter || character.isNumber)
            case .whitespace: separator = character.isWhitespace
            }
            if separator {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    func normalize(_ word: String) -> String {
        var token = asciiFolding ? ASCIIFolding.fold(word) : word
        if lowercase { token = token.lowercased() }
        return token
    }

    /// One word through folding, lowercase, stopwords, stemming and the
    /// length bounds (`max_token_len` only when `checkMax`); nil when dropped.
    func process(_ word: String, checkMax: Bool) -> String? {
        var token = normalize(word)
        if stopwords.contains(token) { return nil }
        if stemEnglish { token = EnglishStemmer.stem(token) }
        let count = token.count
        if let minLength, count < minLength { return nil }
        if checkMax, let maxLength, count > maxLength { return nil }
        return token
    }
}
