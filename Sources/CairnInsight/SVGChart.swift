import Foundation

/// Draws a `StatsChart` as inline SVG: axes with ticks, one line (or one bar per label) per series, a legend,
/// and an accessible `<title>` and `<desc>`. No scripts, no styles inline (colours come from the stylesheet's
/// `s0`…`s7` classes, so a strict Content-Security-Policy holds), no external references; every label is
/// escaped. The table beside the chart holds the exact figures: the chart is for the eye.
public enum SVGChart {
    /// The width of the drawing, in SVG units (the stylesheet scales it to the page).
    static let width = 720.0
    static let plotLeft = 84.0
    static let plotRight = 676.0
    static let plotTop = 14.0
    static let plotHeight = 220.0
    /// Colour classes, used in turn.
    static let palette = 8
    /// More points than this are drawn without a marker (and its tooltip) each.
    static let maxMarkers = 600
    /// At most this many x labels are written (bar labels are slanted, line labels level: fewer fit); the others
    /// are skipped evenly.
    static let maxXLabels = 14
    static let maxLevelXLabels = 6

    /// The SVG element for `chart`, titled `title`. `id` makes its `<title>` and `<desc>` ids unique on the page
    /// (`chart-3`: ASCII letters, digits and hyphens are kept, anything else is dropped).
    public static func render(_ chart: StatsChart, title: String, id: String) -> String {
        let kept = id.unicodeScalars.filter {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }
        let id = kept.isEmpty ? "chart" : String(String.UnicodeScalarView(kept))
        let points = max(chart.labels.count, chart.series.map(\.values.count).max() ?? 0)
        let values = chart.series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite)
        let kindName = chart.kind == .line ? "Line chart" : "Bar chart"
        let labelSpace = chart.kind == .bar ? 86.0 : 34.0
        let plotBottom = plotTop + plotHeight
        let legend = legendLayout(chart.series.map(\.name), top: plotBottom + labelSpace)
        let height = (legend.bottom + 8).rounded()
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(coord(width)) \(coord(height))\" role=\"img\" "
        out += "aria-labelledby=\"\(id)-title \(id)-desc\" preserveAspectRatio=\"xMinYMin meet\">"
        out += "<title id=\"\(id)-title\">\(HTMLText.escape(title))</title>"
        var description = "\(kindName) of \(chart.series.count) series over \(points) point\(points == 1 ? "" : "s")"
        if let first = chart.labels.first, let last = chart.labels.last {
            description += first == last ? " (\(first))" : " (from \(first) to \(last))"
        }
        out += "<desc id=\"\(id)-desc\">\(HTMLText.escape(description)). The table holds the exact figures.</desc>"
        guard points > 0, !values.isEmpty,
            let scale = Scale(values: values, unit: chart.unit, top: plotTop, bottom: plotBottom)
        else {
            out += "<text class=\"empty\" x=\"\(coord(width / 2))\" y=\"\(coord(plotTop + plotHeight / 2))\" "
            out += "text-anchor=\"middle\">No figures to draw in this window</text></svg>"
            return out
        }
        // Grid and y-axis ticks.
        for tick in scale.ticks {
            let y = scale.y(tick)
            out += "<line class=\"grid\" x1=\"\(coord(plotLeft))\" y1=\"\(coord(y))\" x2=\"\(coord(plotRight))\" "
            out += "y2=\"\(coord(y))\"/>"
            out += "<text class=\"tick\" x=\"\(coord(plotLeft - 6))\" y=\"\(coord(y + 4))\" text-anchor=\"end\">"
            out += HTMLText.escape(StatsFormat.display(tick, unit: chart.unit)) + "</text>"
        }
        let zero = scale.y(min(max(0, scale.low), scale.high))
        out += "<line class=\"axis\" x1=\"\(coord(plotLeft))\" y1=\"\(coord(plotTop))\" x2=\"\(coord(plotLeft))\" "
        out += "y2=\"\(coord(plotBottom))\"/>"
        out += "<line class=\"axis\" x1=\"\(coord(plotLeft))\" y1=\"\(coord(zero))\" x2=\"\(coord(plotRight))\" "
        out += "y2=\"\(coord(zero))\"/>"
        let step = (plotRight - plotLeft) / Double(points)
        func x(_ index: Int) -> Double {
            chart.kind == .bar || points == 1
                ? plotLeft + step * (Double(index) + 0.5)
                : plotLeft + (plotRight - plotLeft) * Double(index) / Double(points - 1)
        }
        func label(_ index: Int) -> String { index < chart.labels.count ? chart.labels[index] : "" }
        func value(_ series: StatsChart.Series, _ index: Int) -> Double? {
            guard index < series.values.count, let value = series.values[index], value.isFinite else { return nil }
            return value
        }
        func tooltip(_ series: StatsChart.Series, _ index: Int, _ value: Double) -> String {
            "<title>"
                + HTMLText.escape("\(series.name) · \(label(index)): \(StatsFormat.display(value, unit: chart.unit))")
                + "</title>"
        }
        // X labels, thinned evenly.
        let limit = chart.kind == .bar ? maxXLabels : maxLevelXLabels
        let every = max(1, (points + limit - 1) / limit)
        for index in stride(from: 0, to: points, by: every) {
            let text = HTMLText.escape(HTMLText.truncated(label(index), to: chart.kind == .bar ? 22 : 12))
            let y = plotBottom + 16
            if chart.kind == .bar {
                out += "<text class=\"label\" x=\"\(coord(x(index)))\" y=\"\(coord(y))\" text-anchor=\"end\" "
                out += "transform=\"rotate(-35 \(coord(x(index))) \(coord(y)))\">\(text)</text>"
            } else {
                out += "<text class=\"label\" x=\"\(coord(x(index)))\" y=\"\(coord(y))\" text-anchor=\"middle\">"
                out += "\(text)</text>"
            }
        }
        let markers = points * chart.series.count <= maxMarkers
        switch chart.kind {
        case .line:
            for (number, series) in chart.series.enumerated() {
                let colour = "s\(number % palette)"
                var segment: [String] = []
                func flush() {
                    if segment.count > 1 {
                        out += "<polyline class=\"line \(colour)\" points=\"\(segment.joined(separator: " "))\"/>"
                    }
                    segment = []
                }
                for index in 0..<points {
                    guard let v = value(series, index) else {
                        flush()
                        continue
                    }
                    segment.append("\(coord(x(index))),\(coord(scale.y(v)))")
                    if markers {
                        out += "<circle class=\"dot \(colour)\" cx=\"\(coord(x(index)))\" cy=\"\(coord(scale.y(v)))\" "
                        out += "r=\"3\">\(tooltip(series, index, v))</circle>"
                    }
                }
                flush()
            }
        case .bar:
            let count = Double(max(1, chart.series.count))
            let barWidth = max(1, step * 0.8 / count)
            for (number, series) in chart.series.enumerated() {
                for index in 0..<points {
                    guard let v = value(series, index) else { continue }
                    let left = plotLeft + step * Double(index) + step * 0.1 + barWidth * Double(number)
                    let top = min(scale.y(v), zero)
                    let height = max(0.5, abs(scale.y(v) - zero))
                    out += "<rect class=\"bar s\(number % palette)\" x=\"\(coord(left))\" y=\"\(coord(top))\" "
                    out += "width=\"\(coord(barWidth))\" height=\"\(coord(height))\">"
                    out += (markers ? tooltip(series, index, v) : "") + "</rect>"
                }
            }
        }
        // Legend.
        for item in legend.items {
            out += "<rect class=\"swatch s\(item.series % palette)\" x=\"\(coord(item.x))\" y=\"\(coord(item.y - 9))\" "
            out += "width=\"12\" height=\"12\"/>"
            out += "<text class=\"legend\" x=\"\(coord(item.x + 17))\" y=\"\(coord(item.y + 1))\">"
            out += HTMLText.escape(item.text) + "</text>"
        }
        return out + "</svg>"
    }

    /// Where each legend entry goes: left to right, wrapping to a new row.
    static func legendLayout(
        _ names: [String], top: Double
    ) -> (items: [(series: Int, x: Double, y: Double, text: String)], bottom: Double) {
        var items: [(series: Int, x: Double, y: Double, text: String)] = []
        var x = plotLeft
        var y = top + 12
        for (series, name) in names.enumerated() {
            let text = HTMLText.truncated(name, to: 32)
            let itemWidth = 17 + Double(text.count) * 7 + 18
            if x > plotLeft && x + itemWidth > width {
                x = plotLeft
                y += 18
            }
            items.append((series, x, y, text))
            x += itemWidth
        }
        return (items, names.isEmpty ? top : y + 6)
    }

    /// SVG coordinates with one decimal, without locale or exponent; 0 for anything not finite.
    static func coord(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e9 else { return "0" }
        return StatsFormat.fixed(value, digits: 1, grouped: false)
    }

    /// The y axis: a range from the values (zero included) rounded out to a "nice" step, and its ticks.
    struct Scale {
        let low: Double
        let high: Double
        let step: Double
        let top: Double
        let bottom: Double

        init?(values: [Double], unit: StatsUnit, top: Double, bottom: Double) {
            var low = min(0, values.min() ?? 0)
            var high = max(0, values.max() ?? 0)
            if unit == .fraction && low >= 0 && high <= 1 { high = 1 }
            if high == low { high = low + 1 }
            guard (high - low).isFinite, high - low > 0 else { return nil }
            let step = Self.niceStep((high - low) / 4)
            guard step > 0, step.isFinite else { return nil }
            low = (low / step).rounded(.down) * step
            high = (high / step).rounded(.up) * step
            guard low.isFinite, high.isFinite, high > low else { return nil }
            self.low = low
            self.high = high
            self.step = step
            self.top = top
            self.bottom = bottom
        }

        /// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
        static func niceStep(_ raw: Double) -> Double {
            guard raw > 0, raw.isFinite else { return 1 }
            let power = pow(10, log10(raw).rounded(.down))
            guard power > 0, power.isFinite else { return raw }
            let fraction = raw / power
            let nice: Double =
                fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
            return nice * power
        }

        /// At most a dozen ticks from `low` to `high`.
        var ticks: [Double] {
            var ticks: [Double] = []
            var index = 0.0
            while ticks.count < 12 {
                let tick = low + step * index
                guard tick <= high + step / 2 else { break }
                ticks.append(abs(tick) < step / 1e6 ? 0 : tick)
                index += 1
            }
            return ticks
        }

        func y(_ value: Double) -> Double {
            bottom - (value - low) / (high - low) * (bottom - top)
        }
    }
}
