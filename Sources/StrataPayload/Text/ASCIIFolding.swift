/// `ascii_folding`: accented and other non-ASCII Latin letters to their ASCII
/// letters ("ação" → "acao", "Über" → "Uber", "straße" → "strasse"), in the
/// spirit of the Lucene-style folding Qdrant uses. Built from the Unicode
/// character names: a Latin letter named "LATIN SMALL LETTER O WITH STROKE"
/// folds to "o"; ligatures and the few letters without a base letter come from
/// a short table. Everything else (other scripts, combining marks, symbols) is
/// kept as it is.
public enum ASCIIFolding {
    /// `text` with every foldable letter folded.
    public static func fold(_ text: String) -> String {
        guard !text.utf8.allSatisfy({ $0 < 0x80 }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.append(scalar)
            } else if let folded = table[scalar.value] {
                out.append(contentsOf: folded.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Letters whose name names no ASCII base letter.
    static let special: [String: String] = [
        "LATIN SMALL LETTER SHARP S": "ss", "LATIN CAPITAL LETTER SHARP S": "SS",
        "LATIN SMALL LETTER ETH": "d", "LATIN CAPITAL LETTER ETH": "D",
        "LATIN SMALL LETTER THORN": "th", "LATIN CAPITAL LETTER THORN": "TH",
        "LATIN SMALL LETTER DOTLESS I": "i", "LATIN SMALL LETTER DOTLESS J": "j",
        "LATIN SMALL LETTER ENG": "n", "LATIN CAPITAL LETTER ENG": "N",
        "LATIN SMALL LETTER KRA": "q", "LATIN SMALL LETTER LONG S": "s",
        "LATIN SMALL LETTER N PRECEDED BY APOSTROPHE": "'n",
    ]

    /// The multi-letter names that are letter sequences.
    static let ligatures: Set<String> = ["AE", "OE", "IJ", "DZ", "LJ", "NJ", "FF", "FI", "FL", "FFI", "FFL", "ST"]

    /// Scalar → ASCII replacement for Latin-1 Supplement, Latin Extended-A
    /// and -B, Latin Extended Additional, the Latin ligatures and fullwidth
    /// Latin letters.
    static let table: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        let ranges: [ClosedRange<UInt32>] = [0xC0...0x24F, 0x1E00...0x1EFF, 0xFB00...0xFB06, 0xFF21...0xFF5A]
        for range in ranges {
            for value in range {
                guard let scalar = Unicode.Scalar(value), let name = scalar.properties.name,
                    let folded = fold(name: name)
                else { continue }
                table[value] = folded
            }
        }
        return table
    }()

    /// The ASCII letters a Latin letter's Unicode name names, if any.
    static func fold(name: String) -> String? {
        if let folded = special[name] { return folded }
        var words = name.split(separator: " ").map(String.init)
        if words.first == "FULLWIDTH" { words.removeFirst() }
        guard words.count >= 4, words[0] == "LATIN", words[2] == "LETTER" || words[2] == "LIGATURE" else {
            return nil
        }
        let small: Bool
        switch words[1] {
        case "SMALL": small = true
        case "CAPITAL": small = false
        default: return nil
        }
        // The letters come next (one, or a ligature's); anything after them
        // must be "WITH …" (a digraph's "WITH SMALL LETTER Z" adds that letter).
        var letters = words[3]
        guard letters.count == 1 || ligatures.contains(letters),
            letters.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) })
        else { return nil }
        if words.count > 4 {
            guard words[4] == "WITH" else { return nil }
            if words.count >= 8, words[5] == "SMALL", words[6] == "LETTER", words[7].count == 1 {
                return letters + words[7].lowercased()
            }
        }
        if small { letters = letters.lowercased() }
        return letters
    }
}
