/// Stopword lists for full-text indexes and BM25 (Qdrant's `stopwords`).
public enum StopwordLists {
    /// The languages Strata has a list for (Qdrant has more; others are refused).
    public static let supportedLanguages = ["english"]

    /// Qdrant's language names and their short aliases (its `Language`).
    public static let qdrantLanguages: [String: String] = [
        "arabic": "arabic", "ar": "arabic", "azerbaijani": "azerbaijani", "az": "azerbaijani",
        "basque": "basque", "eu": "basque", "bengali": "bengali", "bn": "bengali", "catalan": "catalan",
        "ca": "catalan", "chinese": "chinese", "zh": "chinese", "danish": "danish", "da": "danish",
        "dutch": "dutch", "nl": "dutch", "english": "english", "en": "english", "finnish": "finnish",
        "fi": "finnish", "french": "french", "fr": "french", "german": "german", "de": "german",
        "greek": "greek", "el": "greek", "hebrew": "hebrew", "he": "hebrew", "hinglish": "hinglish",
        "hi-en": "hinglish", "hungarian": "hungarian", "hu": "hungarian", "indonesian": "indonesian",
        "id": "indonesian", "italian": "italian", "it": "italian", "japanese": "japanese", "jp": "japanese",
        "kazakh": "kazakh", "kk": "kazakh", "nepali": "nepali", "ne": "nepali", "norwegian": "norwegian",
        "no": "norwegian", "portuguese": "portuguese", "pt": "portuguese", "romanian": "romanian",
        "ro": "romanian", "russian": "russian", "ru": "russian", "slovene": "slovene", "sl": "slovene",
        "spanish": "spanish", "es": "spanish", "swedish": "swedish", "sv": "swedish", "tajik": "tajik",
        "tg": "tajik", "turkish": "turkish", "tr": "turkish",
    ]

    /// The list of a supported language (canonical name), or nil.
    public static func words(_ language: String) -> Set<String>? {
        language == "english" ? english : nil
    }

    /// Qdrant's English list (the NLTK English stopwords, 179 words).
    public static let english: Set<String> = [
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've",
        "you'll", "you'd", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself",
        "she", "she's", "her", "hers", "herself", "it", "it's", "its", "itself", "they", "them",
        "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "that'll",
        "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has",
        "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or",
        "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against",
        "between", "into", "through", "during", "before", "after", "above", "below", "to", "from",
        "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once",
        "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more",
        "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than",
        "too", "very", "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now",
        "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn",
        "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't", "isn",
        "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan", "shan't",
        "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't", "wouldn",
        "wouldn't",
    ]
}
