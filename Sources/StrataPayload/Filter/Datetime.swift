/// RFC 3339 datetimes as filters and datetime indexes read them.
public enum Datetime {
    /// Microseconds since 1970-01-01T00:00:00Z for `YYYY-MM-DD`, optionally
    /// followed by `T` or a space and `HH:MM[:SS[.fraction]]`, optionally
    /// followed (after an optional space) by `Z`, `UTC`, `±HH:MM`, `±HHMM` or
    /// `±HH` (no zone means UTC): the forms Qdrant accepts. Leading
    /// whitespace is skipped. Nil for anything else.
    public static func microseconds(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        var i = 0
        while i < c.count, c[i] == UInt8(ascii: " ") || c[i] == UInt8(ascii: "\t") { i += 1 }
        func digits(_ n: Int) -> Int? {
            guard i + n <= c.count else { return nil }
            var value = 0
            for k in 0..<n {
                let d = Int(c[i + k]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            i += n
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < c.count, c[i] == byte else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var seconds = 0
        var micros = 0
        var offsetSeconds = 0
        if i < c.count {
            guard c[i] == UInt8(ascii: "T") || c[i] == UInt8(ascii: "t") || c[i] == UInt8(ascii: " ") else {
                return nil
            }
            i += 1
            guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), hour < 24, minute < 60 else {
                return nil
            }
            seconds = hour * 3600 + minute * 60
            if expect(UInt8(ascii: ":")) {
                guard let second = digits(2), second < 61 else { return nil }
                seconds += min(second, 59)
                if expect(UInt8(ascii: ".")) {
                    var scale = 100_000
                    var any = false
                    while i < c.count, (48...57).contains(c[i]) {
                        micros += Int(c[i] - 48) * scale
                        scale /= 10
                        i += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            if i < c.count {
                // Qdrant's parser also takes a space before the zone, " UTC",
                // and offsets as ±HH:MM, ±HHMM or ±HH.
                if c[i] == UInt8(ascii: " "), i + 1 < c.count { i += 1 }
                if c[i] == UInt8(ascii: "Z") || c[i] == UInt8(ascii: "z") {
                    i += 1
                } else if c[i] == UInt8(ascii: "U"), Array(c[i...]) == Array("UTC".utf8) {
                    i += 3
                } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
                    let sign = c[i] == UInt8(ascii: "-") ? -1 : 1
                    i += 1
                    guard let oh = digits(2), oh < 24 else { return nil }
                    var om = 0
                    if i < c.count {
                        _ = expect(UInt8(ascii: ":"))
                        guard let minutes = digits(2), minutes < 60 else { return nil }
                        om = minutes
                    }
                    offsetSeconds = sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
            guard i == c.count else { return nil }
        }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let total = Int64(days) * 86_400 + Int64(seconds - offsetSeconds)
        return total * 1_000_000 + Int64(micros)
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 (proleptic Gregorian calendar).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
