import Foundation
import StrataModel
import StrataPayload
import Testing

/// Text index options as Qdrant 1.20: ASCII folding, stopwords, the Snowball
/// English stemmer, the prefix tokenizer, and their schema JSON.
@Suite struct TextAnalysisTests {
    /// Word → stem pairs from the Snowball English stemmer's published
    /// description and its sample vocabulary (snowballstem.org).
    static let stems: [(String, String)] = [
        ("consign", "consign"), ("consigned", "consign"), ("consigning", "consign"), ("consignment", "consign"),
        ("consist", "consist"), ("consisted", "consist"), ("consistency", "consist"), ("consistent", "consist"),
        ("consistently", "consist"), ("consisting", "consist"), ("consists", "consist"),
        ("consolation", "consol"), ("consolations", "consol"), ("consolatory", "consolatori"),
        ("console", "consol"), ("consoled", "consol"), ("consoles", "consol"), ("consolidate", "consolid"),
        ("consolidated", "consolid"), ("consolidating", "consolid"), ("consoling", "consol"),
        ("consolingly", "consol"), ("consols", "consol"), ("consonant", "conson"), ("consort", "consort"),
        ("consorted", "consort"), ("consorting", "consort"), ("conspicuous", "conspicu"),
        ("conspicuously", "conspicu"), ("conspiracy", "conspiraci"), ("conspirator", "conspir"),
        ("conspirators", "conspir"), ("conspire", "conspir"), ("conspired", "conspir"), ("conspiring", "conspir"),
        ("constable", "constabl"), ("constables", "constabl"), ("constance", "constanc"),
        ("constancy", "constanc"), ("constant", "constant"),
        ("knack", "knack"), ("knackeries", "knackeri"), ("knacks", "knack"), ("knag", "knag"), ("knave", "knave"),
        ("knaves", "knave"), ("knavish", "knavish"), ("kneaded", "knead"), ("kneading", "knead"), ("knee", "knee"),
        ("kneel", "kneel"), ("kneeled", "kneel"), ("kneeling", "kneel"), ("kneels", "kneel"), ("knees", "knee"),
        ("knell", "knell"), ("knelt", "knelt"), ("knew", "knew"), ("knick", "knick"), ("knif", "knif"),
        ("knife", "knife"), ("knight", "knight"), ("knightly", "knight"), ("knights", "knight"), ("knit", "knit"),
        ("knits", "knit"), ("knitted", "knit"), ("knitting", "knit"), ("knives", "knive"), ("knob", "knob"),
        ("knobs", "knob"), ("knock", "knock"), ("knocked", "knock"), ("knocker", "knocker"),
        ("knockers", "knocker"), ("knocking", "knock"), ("knocks", "knock"), ("knopp", "knopp"), ("knot", "knot"),
        ("knots", "knot"),
        // The description's own examples.
        ("generously", "generous"), ("running", "run"), ("caresses", "caress"), ("ponies", "poni"),
        ("dying", "die"), ("lying", "lie"), ("skies", "sky"), ("skis", "ski"), ("news", "news"), ("ties", "tie"),
        ("cries", "cri"), ("gas", "gas"), ("this", "this"), ("gaps", "gap"), ("kiwis", "kiwi"), ("cry", "cri"),
        ("by", "by"), ("say", "say"), ("hoping", "hope"), ("hopping", "hop"), ("early", "earli"),
        ("only", "onli"), ("gently", "gentl"), ("proceed", "proceed"), ("exceed", "exceed"),
        ("interestingly", "interest"), ("proceeding", "proceed"), ("living", "live"),
    ]

    @Test func snowballEnglish() {
        #expect(Self.stems.count >= 40)
        for (word, stem) in Self.stems {
            #expect(EnglishStemmer.stem(word) == stem, "\(word)")
        }
    }

    @Test func asciiFolding() {
        #expect(ASCIIFolding.fold("ação café jalapeño Über") == "acao cafe jalapeno Uber")
        #expect(ASCIIFolding.fold("straße Łódź Ærø œuvre ﬁne Ｑdrant") == "strasse Lodz AEro oeuvre fine Qdrant")
        #expect(ASCIIFolding.fold("Привет, йод; 東京") == "Привет, йод; 東京")
        let folding = TextTokenizer(asciiFolding: true)
        #expect(folding.tokens("ação café jalapeño Über") == ["acao", "cafe", "jalapeno", "uber"])
        #expect(TextTokenizer().tokens("ação Über") == ["ação", "über"])
    }

    @Test func stopwords() throws {
        #expect(StopwordLists.english.count == 179)
        let english = TextTokenizer(stopwords: try TextStopwords(json: "english", field: "s").words(lowercase: true))
        #expect(
            english.tokens("The quick brown fox jumps over the lazy dog") == [
                "quick", "brown", "fox", "jumps", "lazy", "dog",
            ])
        let mixed = try TextStopwords(json: ["languages": ["en"], "custom": ["Quick", "fox", "fox"]], field: "s")
        #expect(mixed.json == ["languages": ["english"], "custom": ["Quick", "fox"]])
        let tokenizer = TextTokenizer(stopwords: mixed.words(lowercase: true))
        #expect(tokenizer.tokens("The quick brown fox") == ["brown"])
        // Case-sensitive indexes compare stopwords as written.
        let exact = TextTokenizer(lowercase: false, stopwords: mixed.words(lowercase: false))
        #expect(exact.tokens("The Quick quick fox") == ["The", "quick"])
        #expect(throws: FilterDecodingError.self) { try TextStopwords(json: "french", field: "s") }
        #expect(throws: FilterDecodingError.self) { try TextStopwords(json: "klingon", field: "s") }
        #expect(throws: FilterDecodingError.self) { try TextStopwords(json: ["custom": [1]], field: "s") }
    }

    @Test func stemmingInTheTokenizer() {
        let tokenizer = TextTokenizer(stemEnglish: true)
        #expect(tokenizer.tokens("interestingly proceeding living") == ["interest", "proceed", "live"])
        let prefix = TextTokenizer(kind: .prefix, minLength: 3, maxLength: 4, stemEnglish: true)
        #expect(prefix.tokens("interestingly proceeding living") == ["int", "inte", "pro", "proc", "liv", "live"])
    }

    @Test func prefixTokenizer() {
        let tokenizer = TextTokenizer(kind: .prefix, minLength: 1, maxLength: 4)
        #expect(tokenizer.tokens("hello, мир!") == ["h", "he", "hel", "hell", "м", "ми", "мир"])
        #expect(tokenizer.queryTokens("hello, мир!") == ["hell", "мир"])
        let open = TextTokenizer(kind: .prefix, minLength: 2)
        #expect(open.tokens("Theory of X") == ["th", "the", "theo", "theor", "theory", "of"])
        #expect(open.queryTokens("The x") == ["the"])
        // Stopwords drop whole words from documents, never typed prefixes.
        let stop = TextTokenizer(kind: .prefix, stopwords: ["the"])
        #expect(stop.tokens("the theory") == ["t", "th", "the", "theo", "theor", "theory"])
        #expect(stop.queryTokens("the") == ["the"])
        // Other tokenizers query with their document tokens.
        #expect(TextTokenizer(stopwords: ["the"]).queryTokens("the fox") == ["fox"])
    }

    /// The canonical JSON of a schema with the new options, exactly as
    /// docs/format/payload-index.md gives it, and an older schema unchanged.
    @Test func schemaJSON() throws {
        let json: JSONValue = [
            "type": "text", "tokenizer": "prefix", "min_token_len": 2, "ascii_folding": true,
            "stopwords": ["custom": ["b", "a"], "languages": ["en"]],
            "stemmer": ["type": "snowball", "language": "en"],
        ]
        let schema = try PayloadFieldSchema(json: json)
        #expect(
            schema.json.description
                == #"{"ascii_folding":true,"lowercase":true,"min_token_len":2,"phrase_matching":false,"stemmer":{"language":"english","type":"snowball"},"stopwords":{"custom":["a","b"],"languages":["english"]},"tokenizer":"prefix","type":"text"}"#
        )
        #expect(try PayloadFieldSchema(json: schema.json) == schema)
        let none = try PayloadFieldSchema(json: ["type": "text", "stopwords": "english", "stemmer": ["type": "none"]])
        #expect(
            none.json.description
                == #"{"lowercase":true,"phrase_matching":false,"stemmer":{"type":"none"},"stopwords":"english","tokenizer":"word","type":"text"}"#
        )
        #expect(none.textTokenizer.stemEnglish == false)
        // A schema written before these options: same value, same bytes.
        let old =
            #"{"lowercase":false,"max_token_len":10,"phrase_matching":true,"tokenizer":"whitespace","type":"text"}"#
        let oldSchema = try PayloadFieldSchema(json: try JSONDecoder().decode(JSONValue.self, from: Data(old.utf8)))
        #expect(oldSchema.json.description == old)
        #expect(oldSchema.asciiFolding == false && oldSchema.stopwords == nil && oldSchema.stemmer == nil)
        #expect(
            try PayloadFieldSchema(json: ["type": "text", "ascii_folding": false]).json
                == PayloadFieldSchema(json: ["type": "text"]).json)
        // Keyword `prefix` (Qdrant 1.20): written only when true.
        let keyword = try PayloadFieldSchema(json: ["type": "keyword", "prefix": true, "is_tenant": true])
        #expect(keyword.json.description == #"{"is_tenant":true,"prefix":true,"type":"keyword"}"#)
        #expect(
            try PayloadFieldSchema(json: ["type": "keyword", "prefix": false]).json.description
                == #"{"type":"keyword"}"#)
        for bad: JSONValue in [
            ["type": "keyword", "prefix": "yes"],
            ["type": "text", "tokenizer": "multilingual"],
            ["type": "text", "stemmer": ["type": "snowball", "language": "french"]],
            ["type": "text", "stopwords": ["languages": ["german"]]], ["type": "text", "stemmer": ["type": "porter"]],
        ] {
            #expect(throws: FilterDecodingError.self) { try PayloadFieldSchema(json: bad) }
        }
    }
}
