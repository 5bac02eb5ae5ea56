import CairnInsight
import CairnJSON
import Foundation
import Testing

/// The dashboard's HTML renderer and the offline report, over hand-built documents: hostile text stays text,
/// every figure carries its `data-stat` and exact `data-value`, charts are well-formed inline SVG, and the report
/// needs nothing outside itself.
@Suite("Dashboard HTML")
struct DashboardHTMLTests {
    // MARK: - Fixtures

    static let hostile = [
        "<script>alert(1)</script>", #""onmouseover="alert(1)"#, #"=HYPERLINK("http://evil.example/x","click")"#,
        "' onfocus='alert(2)", "mallory\u{1B}[2K\rbob", "txt.\u{202E}exe", "</svg><img src=x onerror=alert(3)>",
        "a&b", "<!--", "]]>",
    ]

    /// A view with a line chart, a bar chart, every unit, hostile labels and ids, drills and missing values.
    static func document(view: StatsView = .aiShare, hostileText: Bool = true) -> StatsDocument {
        let columns = [
            StatsColumn(id: "commits", title: "AI commits", unit: .count),
            StatsColumn(id: "share", title: "AI share of lines", unit: .fraction),
            StatsColumn(id: "cost", title: "Cost", unit: .usd),
            StatsColumn(id: "latency", title: "Review latency", unit: .milliseconds),
            StatsColumn(id: "z", title: "z-score", unit: .score),
            StatsColumn(id: "last", title: "Last change", unit: .time),
            StatsColumn(id: "model", title: "Model", unit: .text),
        ]
        var rows: [StatsRow] = [
            StatsRow(
                id: "git@example.com:payments/client.git", label: "payments/client",
                cells: [
                    StatsCell(value: 1234, drill: StatsDrill([.init("repo", "git@example.com:payments/client.git")])),
                    StatsCell(
                        value: 0.42567, drill: StatsDrill([.init("repo", "a&b c"), .init("since", "2026-11-01")])),
                    StatsCell(value: 1234.5), StatsCell(value: 5_400_000), StatsCell(value: -1.234),
                    StatsCell(value: 1_795_166_043_000), .text("claude-sonnet-4-5"),
                ]),
            StatsRow(
                id: "nothing", label: "a repository with nothing",
                cells: [
                    StatsCell(value: 0), StatsCell(value: nil), StatsCell(value: 0.1 + 0.2), StatsCell(value: 350),
                    StatsCell(value: 2.5), StatsCell(value: nil), StatsCell(value: nil),
                ]),
        ]
        if hostileText {
            for (number, text) in hostile.enumerated() {
                rows.append(
                    StatsRow(
                        id: text, label: text,
                        cells: [
                            StatsCell(value: Double(number), drill: StatsDrill([.init("requested_by", text)])),
                            StatsCell(value: 0.5), StatsCell(value: 1), StatsCell(value: 1), StatsCell(value: 1),
                            StatsCell(value: 1), .text(text),
                        ]))
            }
        }
        let line = StatsChart(
            kind: .line, unit: .fraction, labels: ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"],
            series: [
                .init(name: "payments/client", values: [0.1, 0.25, nil, 0.5]),
                .init(name: hostileText ? hostile[0] : "jobs", values: [0.3, 0.2, 0.4, 0.35]),
            ])
        let bar = StatsChart(
            kind: .bar, unit: .count, labels: hostileText ? Array(hostile.prefix(3)) : ["a", "b", "c"],
            series: [.init(name: "commits", values: [3, 5, 2]), .init(name: "reviewed", values: [1, nil, 2])])
        return StatsDocument(
            view: view, window: StatsWindow(since: 1_793_491_200_000, until: nil, repo: hostileText ? hostile[1] : nil),
            treeSize: 12_345,
            sections: [
                StatsSection(
                    id: "by-repo", title: hostileText ? "By repository " + hostile[0] : "By repository",
                    note: hostileText ? "Note: " + hostile[2] : "Changed lines with AI involvement.", columns: columns,
                    rows: rows, chart: line),
                StatsSection(
                    id: "weekly", title: "Weekly", note: nil,
                    columns: [StatsColumn(id: "commits", title: "Commits", unit: .count)],
                    rows: [StatsRow(id: "2026-11-02", label: "2026-11-02", cells: [StatsCell(value: 7)])], chart: bar),
                StatsSection(id: "empty", title: "Nothing yet", columns: columns, rows: []),
            ])
    }

    static let chrome = DashboardChrome(signedInAs: "auditor <laptop> (tok_0123456789abcdef)", showsAdmin: false)

    /// Expects `needle` in `text` without printing all of `text` when it is missing.
    static func expect(
        _ text: String, contains needle: String, _ expected: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let found = text.contains(needle)
        #expect(found == expected, "\(expected ? "missing" : "unexpected"): \(needle)", sourceLocation: sourceLocation)
    }

    /// Expects `condition` without printing the (long) texts it was computed from.
    static func check(_ condition: Bool, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(condition, comment, sourceLocation: sourceLocation)
    }

    // MARK: - A strict reading of the markup

    /// Elements the renderer may write.
    static let allowedTags: Set<String> = [
        "html", "head", "meta", "title", "link", "style", "body", "header", "a", "span", "form", "button", "nav", "ul",
        "ol", "li", "main", "h1", "h2", "h3", "p", "label", "input", "section", "div", "table", "thead", "tbody", "tr",
        "th", "td", "footer", "dl", "dt", "dd", "code", "pre", "details", "summary", "br", "svg", "desc", "line",
        "text", "polyline", "circle", "rect", "g",
    ]
    /// Attributes the renderer may write (no event handlers, no `style`, no `src`).
    static let allowedAttributes: Set<String> = [
        "lang", "charset", "name", "content", "http-equiv", "rel", "href", "class", "method", "action", "type", "id",
        "for", "value", "placeholder", "autocomplete", "spellcheck", "required", "aria-label", "aria-current",
        "aria-labelledby", "role", "scope", "data-stat", "data-value", "title", "download", "viewbox",
        "preserveaspectratio", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "points",
        "text-anchor", "transform",
    ]

    struct Tag {
        let name: String
        let isEnd: Bool
        let attributes: [(name: String, value: String)]
    }

    /// Every start and end tag of `html`, read strictly: a `<` that does not open an allowed tag, an attribute
    /// that is not allowed, or an attribute value that is not double-quoted is an issue.
    static func tags(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Tag] {
        var tags: [Tag] = []
        var rest = Substring(html)
        if rest.hasPrefix("<!DOCTYPE html>") { rest = rest.dropFirst("<!DOCTYPE html>".count) }
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            guard let close = rest.firstIndex(of: ">") else {
                Issue.record("an unclosed tag", sourceLocation: sourceLocation)
                break
            }
            var inside = rest[..<close]
            rest = rest[rest.index(after: close)...]
            let isEnd = inside.hasPrefix("/")
            if isEnd { inside = inside.dropFirst() }
            if inside.hasSuffix("/") { inside = inside.dropLast() }
            let name = String(inside.prefix { $0.isLetter || $0.isNumber }).lowercased()
            guard allowedTags.contains(name) else {
                Issue.record("unexpected tag <\(inside.prefix(40))", sourceLocation: sourceLocation)
                continue
            }
            var attributes: [(String, String)] = []
            var text = inside.dropFirst(name.count)
            while !text.isEmpty {
                guard text.first == " " else {
                    Issue.record("malformed attributes in <\(inside.prefix(60))", sourceLocation: sourceLocation)
                    break
                }
                text = text.dropFirst()
                let attribute = String(text.prefix { $0.isLetter || $0.isNumber || $0 == "-" }).lowercased()
                text = text.dropFirst(attribute.count)
                guard allowedAttributes.contains(attribute) else {
                    Issue.record("unexpected attribute \(attribute) in <\(name)", sourceLocation: sourceLocation)
                    break
                }
                var value = ""
                if text.hasPrefix("=\"") {
                    text = text.dropFirst(2)
                    guard let end = text.firstIndex(of: "\"") else {
                        Issue.record("unterminated attribute value in <\(name)", sourceLocation: sourceLocation)
                        break
                    }
                    value = String(text[..<end])
                    text = text[text.index(after: end)...]
                } else if text.hasPrefix("=") {
                    Issue.record("unquoted attribute value in <\(name)", sourceLocation: sourceLocation)
                    break
                }
                attributes.append((attribute, value))
            }
            tags.append(Tag(name: name, isEnd: isEnd, attributes: attributes))
        }
        return tags
    }

    /// Decodes the character references the renderer writes.
    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    // MARK: - Escaping

    @Test("hostile labels, ids, notes and series names stay text: no tag, attribute or control character gets through")
    func hostileTextIsEscaped() {
        let html = DashboardHTML.statsPage(Self.document(), chrome: Self.chrome)
        let tags = Self.tags(html)
        #expect(tags.count > 100)
        Self.check(!html.lowercased().contains("<script"))
        Self.check(!html.lowercased().contains("<img"))
        Self.expect(html, contains: #""onmouseover="#, false)
        Self.expect(html, contains: "' onfocus='", false)
        Self.check(!html.contains("\u{1B}") && !html.contains("\u{202E}") && !html.contains("\r"))
        Self.expect(html, contains: "&lt;script&gt;alert(1)&lt;/script&gt;")
        Self.expect(html, contains: "&quot;onmouseover=&quot;alert(1)")
        Self.expect(html, contains: "mallory\\u{1B}[2K\\u{0D}bob")
        Self.expect(html, contains: "txt.\\u{202E}exe")
        // The spreadsheet formula is shown as text and never becomes a link to where it points.
        Self.expect(html, contains: "=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;click&quot;)")
        for tag in tags {
            for attribute in tag.attributes where attribute.name == "href" {
                #expect(attribute.value.hasPrefix("/ui/"), "a link off the dashboard: \(attribute.value)")
            }
        }
        // The signed-in name and the window's repository are escaped too.
        Self.expect(html, contains: "auditor &lt;laptop&gt; (tok_0123456789abcdef)")
        Self.expect(html, contains: "value=\"&quot;onmouseover=&quot;alert(1)\"")
    }

    @Test("HTMLText.escape escapes the five characters and shows control and bidi characters")
    func escapeFunction() {
        #expect(
            HTMLText.escape(#"<a href="x" title='y'>&</a>"#)
                == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(HTMLText.escape("plain text, ünïcode ✓") == "plain text, ünïcode ✓")
        #expect(HTMLText.escape("a\u{0}b\u{7F}c\u{9B}d\u{2066}e\n") == "a\\u{00}b\\u{7F}c\\u{9B}d\\u{2066}e\\u{0A}")
        #expect(HTMLText.queryString([("repo", "a&b c"), ("x", "é/<")]) == "repo=a%26b%20c&x=%C3%A9%2F%3C")
    }

    // MARK: - Figures

    @Test("every figure carries data-stat and its exact value, formatted by unit, and links its records")
    func dataStatAttributes() {
        let document = Self.document(hostileText: false)
        let html = DashboardHTML.statsPage(document, chrome: Self.chrome)
        var cells: [String: (value: String, count: Int)] = [:]
        for tag in Self.tags(html) where tag.name == "td" && !tag.isEnd {
            guard let stat = tag.attributes.first(where: { $0.name == "data-stat" })?.value else {
                Issue.record("a td without data-stat")
                continue
            }
            let value = tag.attributes.first { $0.name == "data-value" }?.value
            #expect(value != nil, "\(stat) has no data-value")
            cells[Self.unescape(stat), default: ("", 0)].count += 1
            cells[Self.unescape(stat)]?.value = value ?? ""
        }
        // Exactly one cell per (section, row, column), each with the value GET /v1/stats/<view> writes: the
        // comparison a browser test makes.
        var expected = 0
        let json = document.json
        for section in json["sections"]?.arrayValue ?? [] {
            let columns = section["columns"]?.arrayValue ?? []
            for row in section["rows"]?.arrayValue ?? [] {
                for (position, column) in columns.enumerated() {
                    expected += 1
                    let key = [
                        json["view"]?.stringValue, section["id"]?.stringValue, row["id"]?.stringValue,
                        column["id"]?.stringValue,
                    ].map { $0 ?? "?" }.joined(separator: "/")
                    let value = row["cells"]?[position]?["value"] ?? .null
                    #expect(cells[key]?.count == 1, "\(key)")
                    #expect(cells[key]?.value == JSONWriter.compact(value), "\(key)")
                }
            }
        }
        #expect(expected == 15)
        #expect(cells.count == expected)
        #expect(cells["ai-share/by-repo/nothing/cost"]?.value == "0.30000000000000004")
        #expect(cells["ai-share/by-repo/nothing/share"]?.value == "null")
        #expect(cells["ai-share/by-repo/git@example.com:payments/client.git/last"]?.value == "1795166043000")
        // Shown by unit.
        for shown in [
            ">1,234</a>", ">42.6%</a>", ">$1,234.50<", ">1 h 30 min<", ">-1.23<", ">2026-11-20T09:14:03Z<",
            ">claude-sonnet-4-5<", ">350 ms<", ">+2.50<", ">$0.30<", ">—<",
        ] {
            Self.check(html.contains(shown), "\(shown)")
        }
        // Drill-downs: /ui/records? + the drill's query string, escaped in the attribute.
        Self.expect(html, contains: "href=\"/ui/records?repo=git%40example.com%3Apayments%2Fclient.git\"")
        Self.expect(html, contains: "href=\"/ui/records?repo=a%26b%20c&amp;since=2026-11-01\"")
        // A figure without a drill is not a link.
        Self.expect(html, contains: "data-value=\"1234.5\">$1,234.50</td>")
    }

    @Test("StatsFormat shows fractions, dollars, durations, scores and times, and never traps")
    func formats() {
        #expect(StatsFormat.display(1_234_567, unit: .count) == "1,234,567")
        #expect(StatsFormat.display(2.5, unit: .count) == "2.5")
        #expect(StatsFormat.display(0.4257, unit: .fraction) == "42.6%")
        #expect(StatsFormat.display(1, unit: .fraction) == "100.0%")
        #expect(StatsFormat.display(-12.345, unit: .usd) == "-$12.35")
        #expect(StatsFormat.display(-0.001, unit: .usd) == "$0.00")
        #expect(StatsFormat.display(0, unit: .score) == "0.00")
        #expect(StatsFormat.display(1.96, unit: .score) == "+1.96")
        #expect(StatsFormat.display(350, unit: .milliseconds) == "350 ms")
        #expect(StatsFormat.display(12_500, unit: .milliseconds) == "12.5 s")
        #expect(StatsFormat.display(250_000, unit: .milliseconds) == "4 min 10 s")
        #expect(StatsFormat.display(12_000_000, unit: .milliseconds) == "3 h 20 min")
        #expect(StatsFormat.display(187_200_000, unit: .milliseconds) == "2 d 4 h")
        #expect(StatsFormat.display(1_795_166_043_123, unit: .time) == "2026-11-20T09:14:03.123Z")
        #expect(StatsFormat.display(nil, unit: .count) == "—")
        #expect(StatsFormat.dataValue(nil) == "null")
        #expect(StatsFormat.dataValue(.nan) == "null")
        #expect(StatsFormat.dataValue(-0.0) == "0")
        for value in [Double.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, .nan, 1e300, -1e-300] {
            for unit in [StatsUnit.count, .fraction, .milliseconds, .usd, .score, .text, .time] {
                #expect(!StatsFormat.display(value, unit: unit).isEmpty)
            }
        }
    }

    // MARK: - Charts

    @Test("line and bar charts: accessible title, axes, one line per series, bars, legend, no inline styles")
    func charts() {
        let line = StatsChart(
            kind: .line, unit: .fraction, labels: ["w1", "w2", "w3", "w4"],
            series: [
                .init(name: "alpha", values: [0.1, 0.2, nil, 0.4]), .init(name: "beta", values: [0.5, 0.6, 0.7, 0.8]),
            ])
        let svg = SVGChart.render(line, title: "AI share <by week>", id: "chart-1")
        #expect(svg.hasPrefix("<svg class=\"chart\""))
        Self.check(svg.contains("role=\"img\"") && svg.contains("aria-labelledby=\"chart-1-title chart-1-desc\""))
        Self.expect(svg, contains: "<title id=\"chart-1-title\">AI share &lt;by week&gt;</title>")
        Self.expect(svg, contains: "<desc id=\"chart-1-desc\">Line chart of 2 series over 4 points (from w1 to w4).")
        // alpha is broken at its missing value into a one-point piece (no line) and a two-point line.
        #expect(svg.components(separatedBy: "<polyline class=\"line s0\"").count - 1 == 1)
        #expect(svg.components(separatedBy: "<polyline class=\"line s1\"").count - 1 == 1)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 7)
        Self.expect(svg, contains: ">alpha · w2: 20.0%</title>")
        Self.check(svg.contains(">100.0%</text>") && svg.contains(">0.0%</text>"))
        Self.check(svg.contains("class=\"legend\"") && svg.contains(">beta</text>"))
        Self.check(!svg.contains("style=") && !svg.contains("xmlns") && !svg.contains("http"))
        _ = Self.tags(svg)

        let bar = StatsChart(
            kind: .bar, unit: .usd, labels: ["<model>", "b"],
            series: [.init(name: "cost", values: [12.5, -3]), .init(name: "\"tokens\"", values: [nil, 4])])
        let bars = SVGChart.render(bar, title: "Cost", id: "c2")
        #expect(bars.components(separatedBy: "<rect class=\"bar").count - 1 == 3)
        #expect(bars.components(separatedBy: "<rect class=\"swatch").count - 1 == 2)
        Self.check(bars.contains(">&lt;model&gt;</text>") && bars.contains(">&quot;tokens&quot;</text>"))
        Self.check(bars.contains(">-$5.00</text>") || bars.contains(">-$4.00</text>"))
        _ = Self.tags(bars)
    }

    @Test("charts without values, with mismatched lengths or with extreme values are drawn without trapping")
    func degenerateCharts() {
        let empty = SVGChart.render(StatsChart(kind: .line, unit: .count, labels: [], series: []), title: "t", id: "e")
        Self.check(empty.contains("No figures to draw"))
        let allNil = StatsChart(kind: .bar, unit: .count, labels: ["a"], series: [.init(name: "s", values: [nil])])
        Self.check(SVGChart.render(allNil, title: "t", id: "n").contains("No figures to draw"))
        let ragged = StatsChart(
            kind: .line, unit: .count, labels: ["a", "b", "c"],
            series: [.init(name: "short", values: [1]), .init(name: "long", values: [1, 2, 3, 4, 5])])
        Self.check(SVGChart.render(ragged, title: "t", id: "r").contains("5 points"))
        let extreme = StatsChart(
            kind: .bar, unit: .count, labels: ["a", "b", "c", "d"],
            series: [.init(name: "x", values: [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan, .infinity])])
        let svg = SVGChart.render(extreme, title: "t", id: "x")
        Self.check(!svg.contains("nan") && !svg.contains("inf"))
        let one = StatsChart(kind: .line, unit: .time, labels: ["only"], series: [.init(name: "s", values: [1e12])])
        Self.check(SVGChart.render(one, title: "t", id: "o").contains("<circle"))
        let many = StatsChart(
            kind: .line, unit: .count, labels: (0..<400).map { "w\($0)" },
            series: (0..<5).map { s in .init(name: "s\(s)", values: (0..<400).map { Double($0 * s) }) })
        let big = SVGChart.render(many, title: "t", id: "m")
        Self.check(!big.contains("<circle"))  // too many points for markers
        #expect(big.components(separatedBy: "class=\"label\"").count - 1 <= 14)
    }

    // MARK: - Pages

    @Test("navigation links every view with the window, marks the current one, and shows admin only when allowed")
    func navigation() {
        let document = Self.document(view: .models, hostileText: false)
        var chrome = DashboardChrome(signedInAs: "reader (tok_1)", showsAdmin: false, window: document.window)
        let html = DashboardHTML.statsPage(document, chrome: chrome)
        for view in StatsView.allCases {
            Self.check(html.contains("href=\"\(DashboardPaths.view(view))?since=2026-11-01T00%3A00%3A00Z\""), "\(view)")
        }
        Self.expect(
            html,
            contains: "href=\"/ui/models?since=2026-11-01T00%3A00%3A00Z\" aria-current=\"page\">Models and review<")
        Self.expect(html, contains: DashboardPaths.accessLog, false)
        Self.expect(html, contains: "<form method=\"post\" action=\"/ui/sign-out\">")
        Self.expect(html, contains: "<form class=\"filter\" method=\"get\" action=\"/ui/models\">")
        Self.expect(html, contains: "name=\"since\" value=\"2026-11-01T00:00:00Z\"")
        Self.expect(html, contains: "<link rel=\"stylesheet\" href=\"/ui/style.css\">")
        chrome.showsAdmin = true
        Self.check(DashboardHTML.statsPage(document, chrome: chrome).contains("href=\"/ui/admin/access-log\""))
        // A view with no sections says so.
        let empty = StatsDocument(view: .health, window: StatsWindow(), treeSize: 0, sections: [])
        Self.check(DashboardHTML.statsPage(empty, chrome: chrome).contains("no figures for this window"))
    }

    @Test("the sign-in, error and access-log pages escape what they show and need no script")
    func otherPages() {
        let signIn = DashboardHTML.signInPage(message: "<b>no</b>", next: "/ui/records?x=\"><script>")
        _ = Self.tags(signIn)
        Self.expect(signIn, contains: "&lt;b&gt;no&lt;/b&gt;")
        Self.expect(signIn, contains: "value=\"/ui/records?x=&quot;&gt;&lt;script&gt;\"")
        Self.check(signIn.contains("type=\"password\"") && signIn.contains("action=\"/ui/sign-in\""))
        Self.expect(signIn, contains: "<nav", false)
        let error = DashboardHTML.errorPage(
            status: 404, title: "Not found", message: "no page /ui/<x>", chrome: Self.chrome)
        _ = Self.tags(error)
        Self.expect(error, contains: "no page /ui/&lt;x&gt;")
        let log = DashboardHTML.accessLogPage(
            [
                DashboardAccessEntry(
                    index: 7, at: "2026-11-20T09:00:00.000Z", principal: "<r> (tok_1)",
                    request: "GET /ui/records/{index}",
                    target: #"{"record":"<0>"}"#, status: "200")
            ], logSize: 8, chrome: DashboardChrome(signedInAs: "a", showsAdmin: true))
        _ = Self.tags(log)
        Self.check(log.contains("&lt;r&gt; (tok_1)") && log.contains("{&quot;record&quot;:&quot;&lt;0&gt;&quot;}"))
        Self.expect(log, contains: "aria-current=\"page\">Access log<")
        for page in [signIn, error, log] {
            Self.check(!page.lowercased().contains("<script") && !page.contains("style="))
        }
        #expect(
            DashboardProofFormat.inToto.verifyCommand(index: 3)
                == "cairn verify in-toto --vkey ledger.vkey entry-3.intoto.json")
        #expect(
            DashboardProofFormat.tlogProof.verifyCommand(index: 3)
                == "cairn verify inclusion --vkey ledger.vkey --proof entry-3.tlog-proof --entry entry-3.json")
    }

    @Test("the stylesheet has a print layout and the chart colours, and loads nothing")
    func stylesheet() {
        let css = DashboardHTML.stylesheet
        Self.expect(css, contains: "@media print")
        for n in 0..<8 { Self.expect(css, contains: ".s\(n) {") }
        Self.check(!css.contains("@import") && !css.contains("url(") && !css.contains("http"))
    }

    // MARK: - The offline report

    @Test("a report is one self-contained document: inline style, no URL, no src, no link to a server")
    func selfContainedReport() {
        let documents = [
            Self.document(view: .overview, hostileText: false), Self.document(view: .cost, hostileText: false),
        ]
        let html = DashboardHTML.report(documents, title: "Q4 <report>", generatedAt: 1_795_166_043_000)
        let tags = Self.tags(html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // Deterministic, and ending as `cairn report --format html` expects (its rows go before the end).
        #expect(html == DashboardHTML.report(documents, title: "Q4 <report>", generatedAt: 1_795_166_043_000))
        #expect(html.hasSuffix("</main></body></html>\n"))
        Self.expect(html, contains: "<style>\n" + DashboardHTML.stylesheet + "</style>")
        Self.expect(
            html, contains: "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;;")
        Self.check(!html.contains("http://") && !html.contains("https://"))
        Self.check(!html.lowercased().contains("src="))
        Self.check(!html.contains("<link") && !html.lowercased().contains("<script") && !html.contains("<form"))
        Self.expect(html, contains: "/ui/", false)
        for tag in tags {
            for attribute in tag.attributes where attribute.name == "href" {
                #expect(attribute.value.hasPrefix("#"), "a link out of the report: \(attribute.value)")
            }
        }
        // Both views, their figures with data-stat and data-value, but no drill link.
        Self.expect(html, contains: "data-stat=\"overview/by-repo/nothing/cost\" data-value=\"0.30000000000000004\"")
        Self.expect(html, contains: "data-stat=\"cost/weekly/2026-11-02/commits\" data-value=\"7\">7</td>")
        Self.check(html.contains("href=\"#view-0\"") && html.contains("href=\"#view-1\""))
        Self.expect(html, contains: "<title>Q4 &lt;report&gt;</title>")
        Self.expect(html, contains: "Generated 2026-11-20T09:14:03Z")
        // Hostile text (a label with a URL, an <img src=…>) stays text: no attribute links or loads it.
        let hostile = DashboardHTML.report([Self.document(view: .overview)], title: "r")
        for tag in Self.tags(hostile) {
            for attribute in tag.attributes {
                #expect(attribute.name != "src" && attribute.name != "action")
                if attribute.name == "href" { #expect(attribute.value.hasPrefix("#")) }
            }
        }
        // Ids are unique across the views.
        let ids = tags.flatMap { $0.attributes.filter { $0.name == "id" }.map(\.value) }
        #expect(Set(ids).count == ids.count)
    }
}
