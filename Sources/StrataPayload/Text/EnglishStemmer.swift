/// The Snowball English stemmer ("Porter2"), written from the algorithm's
/// published description (snowballstem.org, `english/stemmer.html`), in the
/// form Qdrant's `rust-stemmers` runs: R1 exceptions `gener`, `commun`,
/// `arsen`. Words are read as Unicode scalars; letters outside a–z are
/// consonants to the algorithm and are kept.
public enum EnglishStemmer {
    /// The stem of `word` (given lowercase for the published results).
    public static func stem(_ word: String) -> String {
        if let special = exceptions1[word] { return special }
        let scalars = Array(word.unicodeScalars)
        if scalars.count < 3 { return word }
        var stemmer = Run(w: scalars)
        stemmer.run()
        var out = String.UnicodeScalarView()
        out.append(contentsOf: stemmer.w.map { $0 == "Y" ? "y" : $0 })
        return String(out)
    }

    /// Whole words with a fixed stem (the description's exceptional forms).
    static let exceptions1: [String: String] = [
        "skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie",
        "idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli",
        "singly": "singl", "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas",
        "cosmos": "cosmos", "bias": "bias", "andes": "andes",
    ]
    /// Words left alone after step 1a.
    static let exceptions2: Set<String> = [
        "inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed",
    ]

    private struct Run {
        var w: [Unicode.Scalar]
        var p1 = 0
        var p2 = 0

        static func isVowel(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "a", "e", "i", "o", "u", "y": return true
            default: return false
            }
        }

        func vowel(_ i: Int) -> Bool { Self.isVowel(w[i]) }

        func endsWith(_ suffix: String) -> Bool {
            let s = Array(suffix.unicodeScalars)
            return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
        }

        /// The longest of `suffixes` the word ends with.
        func longest(_ suffixes: [String]) -> String? {
            var best: String?
            for s in suffixes where endsWith(s) && s.unicodeScalars.count > (best?.unicodeScalars.count ?? -1) {
                best = s
            }
            return best
        }

        mutating func replace(_ suffix: String, with replacement: String) {
            w.removeLast(suffix.unicodeScalars.count)
            w.append(contentsOf: replacement.unicodeScalars)
        }

        /// Whether `w[0..<end]` ends in a short syllable: a non-vowel other
        /// than w, x or Y after a vowel after a non-vowel, or a vowel at the
        /// start of the word followed by a non-vowel.
        func endsInShortSyllable(_ end: Int) -> Bool {
            if end >= 3 {
                let last = w[end - 1]
                return !vowel(end - 1) && last != "w" && last != "x" && last != "Y" && vowel(end - 2)
                    && !vowel(end - 3)
            }
            return end == 2 && vowel(0) && !vowel(1)
        }

        /// Whether `w[0..<end]` holds a vowel.
        func hasVowel(before end: Int) -> Bool { (0..<max(0, end)).contains { vowel($0) } }

        mutating func run() {
            // Prelude: drop a leading apostrophe, mark consonant y as Y.
            if w.first == "'" { w.removeFirst() }
            if w.first == "y" { w[0] = "Y" }
            if w.count > 1 {
                for i in 1..<w.count where w[i] == "y" && vowel(i - 1) { w[i] = "Y" }
            }
            markRegions()
            step0()
            step1a()
            if exceptions2.contains(String(String.UnicodeScalarView(w))) { return }
            step1b()
            step1c()
            step2()
            step3()
            step4()
            step5()
        }

        /// R1 starts after the first non-vowel following a vowel (or after
        /// gener/commun/arsen), R2 the same way inside R1.
        mutating func markRegions() {
            func after(_ start: Int) -> Int {
                var i = start
                while i < w.count && !vowel(i) { i += 1 }
                while i < w.count && vowel(i) { i += 1 }
                return min(i + 1, w.count)
            }
            let n = w.count
            p1 = n
            p2 = n
            let text = String(String.UnicodeScalarView(w))
            if let prefix = ["gener", "commun", "arsen"].first(where: { text.hasPrefix($0) }) {
                p1 = prefix.unicodeScalars.count
            } else {
                p1 = after(0)
            }
            p2 = p1 < n ? after(p1) : n
        }

        mutating func step0() {
            if let s = longest(["'", "'s", "'s'"]) { replace(s, with: "") }
        }

        mutating func step1a() {
            guard let s = longest(["sses", "ied", "ies", "us", "ss", "s"]) else { return }
            let start = w.count - s.unicodeScalars.count
            switch s {
            case "sses": replace(s, with: "ss")
            case "ied", "ies": replace(s, with: start > 1 ? "i" : "ie")
            case "s": if hasVowel(before: start - 1) { replace(s, with: "") }
            default: break
            }
        }

        mutating func step1b() {
            guard let s = longest(["eed", "eedly", "ed", "edly", "ing", "ingly"]) else { return }
            let start = w.count - s.unicodeScalars.count
            if s == "eed" || s == "eedly" {
                if start >= p1 { replace(s, with: "ee") }
                return
            }
            guard hasVowel(before: start) else { return }
            replace(s, with: "")
            if endsWith("at") || endsWith("bl") || endsWith("iz") {
                w.append("e")
            } else if longest(["bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"]) != nil {
                w.removeLast()
            } else if w.count == p1 && endsInShortSyllable(w.count) {
                w.append("e")
            }
        }

        mutating func step1c() {
            let n = w.count
            guard n >= 3, w[n - 1] == "y" || w[n - 1] == "Y", !vowel(n - 2) else { return }
            w[n - 1] = "i"
        }

        static let step2Rules: [String: String] = [
            "tional": "tion", "enci": "ence", "anci": "ance", "abli": "able", "entli": "ent",
            "izer": "ize", "ization": "ize", "ational": "ate", "ation": "ate", "ator": "ate",
            "alism": "al", "aliti": "al", "alli": "al", "fulness": "ful", "ousli": "ous",
            "ousness": "ous", "iveness": "ive", "iviti": "ive", "biliti": "ble", "bli": "ble",
            "ogi": "og", "fulli": "ful", "lessli": "less", "li": "",
        ]

        mutating func step2() {
            guard let s = longest(Array(Self.step2Rules.keys)) else { return }
            let start = w.count - s.unicodeScalars.count
            guard start >= p1 else { return }
            switch s {
            case "ogi": guard start > 0, w[start - 1] == "l" else { return }
            case "li":
                guard start > 0 else { return }
                switch w[start - 1] {
                case "c", "d", "e", "g", "h", "k", "m", "n", "r", "t": break
                default: return
                }
            default: break
            }
            replace(s, with: Self.step2Rules[s]!)
        }

        static let step3Rules: [String: String] = [
            "tional": "tion", "ational": "ate", "alize": "al", "icate": "ic", "iciti": "ic",
            "ical": "ic", "ful": "", "ness": "", "ative": "",
        ]

        mutating func step3() {
            guard let s = longest(Array(Self.step3Rules.keys)) else { return }
            let start = w.count - s.unicodeScalars.count
            guard start >= p1 else { return }
            if s == "ative" && start < p2 { return }
            replace(s, with: Self.step3Rules[s]!)
        }

        static let step4Suffixes = [
            "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism",
            "ate", "iti", "ous", "ive", "ize", "ion",
        ]

        mutating func step4() {
            guard let s = longest(Self.step4Suffixes) else { return }
            let start = w.count - s.unicodeScalars.count
            guard start >= p2 else { return }
            if s == "ion" {
                guard start > 0, w[start - 1] == "s" || w[start - 1] == "t" else { return }
            }
            replace(s, with: "")
        }

        mutating func step5() {
            let n = w.count
            guard n > 0 else { return }
            let start = n - 1
            if w[start] == "e" {
                if start >= p2 || (start >= p1 && !endsInShortSyllable(start)) { w.removeLast() }
            } else if w[start] == "l" {
                if start >= p2 && start > 0 && w[start - 1] == "l" { w.removeLast() }
            }
        }
    }
}
