/// RFC 3339 timestamps in the one spelling Cairn records use: UTC, `Z` suffix.
///
/// Accepted: `YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DDThh:mm:ss.fZ` with 1 to 9 fractional digits, years
/// 0000 to 9999, dates of the proleptic Gregorian calendar, hours 00–23, minutes and seconds 00–59.
///
/// Rejected, on purpose: numeric offsets (`+01:00`, even `+00:00` or `-00:00`), lowercase `t` or `z`,
/// a space instead of `T`, missing seconds, and leap seconds (`:60`): a ledger keeps one spelling per
/// instant, and `:60` cannot be told apart from the next second once converted to milliseconds.
/// Fractions beyond milliseconds are accepted and truncated by `parse(_:)`.
///
/// ```swift
/// Timestamp.parse("2026-11-20T09:14:03Z")      // 1795166043000
/// Timestamp.parse("2026-11-20T09:14:03.123Z")  // 1795166043123
/// Timestamp.parse("2026-11-20T09:14:03+01:00") // nil
/// Timestamp.format(1795166043123)              // "2026-11-20T09:14:03.123Z"
/// ```
public enum Timestamp {
    /// The instants `format(_:)` can write: 0000-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z, in
    /// milliseconds since 1970-01-01T00:00:00Z.
    public static let range: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// Milliseconds since 1970-01-01T00:00:00Z (negative before it), or nil when `text` is not an
    /// accepted timestamp (see the type's documentation). Digits after the third fractional digit are
    /// truncated.
    public static func parse(_ text: String) -> Int64? {
        if case .success(let milliseconds) = check(text) { return milliseconds }
        return nil
    }

    /// `YYYY-MM-DDThh:mm:ssZ`, or `YYYY-MM-DDThh:mm:ss.mmmZ` when `milliseconds` is not a whole second.
    /// Values outside `range` are clamped to it. `parse(format(t)) == t` for every `t` in `range`.
    public static func format(_ milliseconds: Int64) -> String {
        let clamped = min(max(milliseconds, range.lowerBound), range.upperBound)
        let (days, msOfDay) = floorDivide(clamped, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let second = msOfDay / 1000
        // One buffer, no intermediate strings: this runs once per row of a long query.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func put(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            for _ in 0..<width {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        put(Int64(year), 4)
        bytes.append(UInt8(ascii: "-"))
        put(Int64(month), 2)
        bytes.append(UInt8(ascii: "-"))
        put(Int64(day), 2)
        bytes.append(UInt8(ascii: "T"))
        put(second / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        put(second / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        put(second % 60, 2)
        if msOfDay % 1000 != 0 {
            bytes.append(UInt8(ascii: "."))
            put(msOfDay % 1000, 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Why a string is not an accepted timestamp: the reason reported after the value.
    enum Problem: Error, Equatable {
        case syntax
        case lowercase
        case offset(String)
        case noSuchDate(String)
        case timeOutOfRange(String)
        case leapSecond
        case tooManyFractionDigits

        var reason: String {
            switch self {
            case .syntax: return "not of the form YYYY-MM-DDThh:mm:ss[.fraction]Z"
            case .lowercase: return "write \"T\" and \"Z\" in uppercase"
            case .offset(let offset): return "the offset must be Z (UTC), not \(offset)"
            case .noSuchDate(let date): return "\(date) is not a date"
            case .timeOutOfRange(let time): return "\(time) is not a time of day"
            case .leapSecond: return "leap seconds (:60) are not accepted"
            case .tooManyFractionDigits: return "at most 9 fractional digits"
            }
        }
    }

    /// Parses `text`, explaining a failure.
    static func check(_ text: String) -> Result<Int64, Problem> {
        withUTF8Bytes(text) { bytes in check(bytes) }
    }

    private static func check(_ s: UnsafeBufferPointer<UInt8>) -> Result<Int64, Problem> {
        // YYYY-MM-DD is checked by `calendarDate`; then T, hh:mm:ss, an optional fraction and Z.
        guard s.count >= 20 else { return .failure(.syntax) }
        let days: Int64
        switch calendarDate(UnsafeBufferPointer(rebasing: s[0..<10])) {
        case .success(let value): days = value
        case .failure(let problem): return .failure(problem)
        }
        guard s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
            s[13] == UInt8(ascii: ":"), s[16] == UInt8(ascii: ":"),
            let hour = twoDigits(s, 11), let minute = twoDigits(s, 14), let second = twoDigits(s, 17)
        else { return .failure(.syntax) }

        var position = 19
        var milliseconds: Int64 = 0
        if s[position] == UInt8(ascii: ".") {
            position += 1
            let start = position
            while position < s.count, isDigit(s[position]) {
                if position - start < 3 { milliseconds = milliseconds * 10 + Int64(s[position] &- 48) }
                position += 1
            }
            let count = position - start
            guard count > 0 else { return .failure(.syntax) }
            guard count <= 9 else { return .failure(.tooManyFractionDigits) }
            for _ in count..<max(count, 3) { milliseconds *= 10 }
        }
        guard position < s.count else { return .failure(.syntax) }
        let zone = s[position]
        if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
            let offset = String(decoding: UnsafeBufferPointer(rebasing: s[position...]), as: UTF8.self)
            return .failure(.offset(offset))
        }
        guard zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z"), position + 1 == s.count else {
            return .failure(.syntax)
        }
        guard s[10] == UInt8(ascii: "T"), zone == UInt8(ascii: "Z") else { return .failure(.lowercase) }
        if second == 60, hour <= 23, minute <= 59 { return .failure(.leapSecond) }
        guard hour <= 23, minute <= 59, second <= 59 else {
            return .failure(.timeOutOfRange(String(decoding: UnsafeBufferPointer(rebasing: s[11..<19]), as: UTF8.self)))
        }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return .success(seconds * 1000 + milliseconds)
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date (exactly 10 bytes).
    static func calendarDate(_ s: UnsafeBufferPointer<UInt8>) -> Result<Int64, Problem> {
        guard s.count == 10, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"),
            let high = twoDigits(s, 0), let low = twoDigits(s, 2),
            let month = twoDigits(s, 5), let day = twoDigits(s, 8)
        else { return .failure(.syntax) }
        let year = high * 100 + low
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            return .failure(.noSuchDate(String(decoding: s, as: UTF8.self)))
        }
        return .success(days(year: year, month: month, day: day))
    }

    /// The value of the two ASCII digits at `offset`, or nil.
    private static func twoDigits(_ s: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int? {
        guard isDigit(s[offset]), isDigit(s[offset + 1]) else { return nil }
        return Int(s[offset] &- 48) * 10 + Int(s[offset + 1] &- 48)
    }

    /// `milliseconds` moved forward on the UTC calendar by `years`, then `months` (the day clamped to the
    /// month's last day: 2024-01-31 plus one month is 2024-02-29), then `days`, keeping the time of day; nil
    /// when the result is after `range`. Durations are non-negative: retention periods (specs/retention.md).
    public static func adding(years: Int, months: Int, days extra: Int, to milliseconds: Int64) -> Int64? {
        guard years >= 0, months >= 0, extra >= 0, years <= 10_000, months <= 120_000, extra <= 3_660_000,
            range.contains(milliseconds)
        else { return nil }
        let (dayCount, msOfDay) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: dayCount)
        let monthIndex = year * 12 + (month - 1) + years * 12 + months
        let newYear = monthIndex / 12
        let newMonth = monthIndex % 12 + 1
        guard newYear <= 9999 else { return nil }
        let newDay = min(day, daysIn(month: newMonth, year: newYear))
        let result = (days(year: newYear, month: newMonth, day: newDay) + Int64(extra)) * 86_400_000 + msOfDay
        return result <= range.upperBound ? result : nil
    }

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
    private static func civil(fromDays count: Int64) -> (year: Int, month: Int, day: Int) {
        let z = count + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = a % b
        return remainder < 0 ? (a / b - 1, remainder + b) : (a / b, remainder)
    }
}
