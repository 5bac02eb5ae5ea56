import CairnJSON
import CairnRecords

/// How the dashboard and the HTML report show a figure: fractions as percentages, dollars with two decimals,
/// milliseconds as durations, times as RFC 3339 UTC. The exact value travels beside it (`dataValue`).
///
/// ```swift
/// StatsFormat.display(0.4257, unit: .fraction)          // "42.6%"
/// StatsFormat.display(1234.5, unit: .usd)               // "$1,234.50"
/// StatsFormat.display(5_400_000, unit: .milliseconds)   // "1 h 30 min"
/// StatsFormat.display(1795166043000, unit: .time)       // "2026-11-20T09:14:03Z"
/// StatsFormat.dataValue(0.4257)                         // "0.4257"
/// ```
public enum StatsFormat {
    /// What is shown for a figure without a value (a share of nothing).
    public static let missing = "—"

    /// The text shown for `value` measured in `unit`; `missing` for nil or a non-finite number.
    public static func display(_ value: Double?, unit: StatsUnit) -> String {
        guard let value, value.isFinite else { return missing }
        switch unit {
        case .count, .text: return number(value)
        case .fraction: return fixed(value * 100, digits: 1) + "%"
        case .milliseconds: return duration(value)
        case .usd:
            let text = fixed(abs(value), digits: 2)
            return (value < 0 && text != "0.00" ? "-" : "") + "$" + text
        case .score:
            let text = fixed(abs(value), digits: 2)
            return (text == "0.00" ? "" : value > 0 ? "+" : "-") + text
        case .time: return time(value)
        }
    }

    /// The exact value as the stats API's JSON writes it (`value` of a cell: ECMAScript number text, `null` when
    /// there is none), for `data-value` attributes.
    public static func dataValue(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return JCS.serialize(number: value)
    }

    /// An integer with thousands separators (`12,345`), or a number with up to two decimals (`3.5`).
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return fixed(value, digits: 0) }
        var text = fixed(value, digits: 2)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `value` rounded to `digits` decimals with thousands separators; the ECMAScript form for magnitudes too
    /// large to round exactly.
    static func fixed(_ value: Double, digits: Int, grouped: Bool = true) -> String {
        guard value.isFinite else { return missing }
        let digits = min(max(digits, 0), 6)
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard scaled < 9.0e15 else { return JCS.serialize(number: value) }
        let units = Int64(scaled)
        let whole = units / scale
        var text = grouped ? group(whole) : String(whole)
        if digits > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        }
        return (value < 0 && units != 0 ? "-" : "") + text
    }

    /// `1234567` as `1,234,567`.
    static func group(_ value: Int64) -> String {
        let digits = String(value)
        var out = ""
        for (position, character) in digits.enumerated() {
            if position > 0 && (digits.count - position) % 3 == 0 { out += "," }
            out.append(character)
        }
        return out
    }

    /// A duration in milliseconds: `350 ms`, `12.5 s`, `4 min 10 s`, `3 h 20 min`, `2 d 4 h`.
    static func duration(_ milliseconds: Double) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let ms = abs(milliseconds)
        guard ms < 9.0e15 else { return JCS.serialize(number: milliseconds) + " ms" }
        if ms < 1000 { return sign + fixed(ms, digits: 0) + " ms" }
        if ms < 60_000 { return sign + fixed(ms / 1000, digits: 1) + " s" }
        let seconds = Int64((ms / 1000).rounded())
        if seconds < 3600 { return sign + "\(seconds / 60) min \(seconds % 60) s" }
        let minutes = Int64((ms / 60_000).rounded())
        if minutes < 24 * 60 { return sign + "\(minutes / 60) h \(minutes % 60) min" }
        let hours = Int64((ms / 3_600_000).rounded())
        return sign + group(hours / 24) + " d \(hours % 24) h"
    }

    /// Unix milliseconds as RFC 3339 UTC; the number itself outside the years 0000–9999.
    static func time(_ value: Double) -> String {
        guard value >= Double(Timestamp.range.lowerBound), value <= Double(Timestamp.range.upperBound) else {
            return number(value)
        }
        return Timestamp.format(Int64(value.rounded(.down)))
    }
}
