import CairnJSON
import CairnLedger
import CairnRecords

/// The dashboard's paths under `cairn serve` (docs/dashboard.md).
public enum DashboardPaths {
    /// The overview.
    public static let root = "/ui/"
    public static let signIn = "/ui/sign-in"
    public static let signOut = "/ui/sign-out"
    public static let stylesheet = "/ui/style.css"
    /// The records behind a figure: `/ui/records?` + the `GET /v1/query` parameters.
    public static let records = "/ui/records"
    /// The recent access-log activity (role `audit`).
    public static let accessLog = "/ui/admin/access-log"

    /// `/ui/` for the overview, `/ui/<view>` for the others.
    public static func view(_ view: StatsView) -> String { view == .overview ? root : root + view.rawValue }
    /// One record: its effective view, history and proof.
    public static func record(_ index: UInt64) -> String { "\(records)/\(index)" }
    /// The record's proof bundle, as a download.
    public static func proof(_ index: UInt64) -> String { "\(records)/\(index)/proof" }
    /// The record's entry bytes as appended, as a download (beside a tlog-proof).
    public static func entry(_ index: UInt64) -> String { "\(records)/\(index)/entry" }

    /// `?since=…&until=…&repo=…` for a window (RFC 3339 times), or "" for the whole ledger.
    public static func windowQuery(_ window: StatsWindow) -> String {
        var parameters: [(name: String, value: String)] = []
        if let since = window.since { parameters.append(("since", Timestamp.format(since))) }
        if let until = window.until { parameters.append(("until", Timestamp.format(until))) }
        if let repo = window.repo { parameters.append(("repo", repo)) }
        return parameters.isEmpty ? "" : "?" + HTMLText.queryString(parameters)
    }
}

/// What a server page shows around its content: who is signed in, whether the admin pages are offered, and the
/// window the navigation carries from view to view.
public struct DashboardChrome: Sendable, Hashable {
    /// The signed-in token as the header shows it (`auditor-laptop (tok_…)`); nil on pages for signed-out
    /// visitors, which then have no navigation.
    public var signedInAs: String?
    /// Whether the navigation links the admin pages: only for tokens that may open them.
    public var showsAdmin: Bool
    /// The window and repository the view links keep.
    public var window: StatsWindow

    public init(signedInAs: String? = nil, showsAdmin: Bool = false, window: StatsWindow = StatsWindow()) {
        self.signedInAs = signedInAs
        self.showsAdmin = showsAdmin
        self.window = window
    }
}

/// The proof bundle a record page offers, each verifiable offline with the log's verifier key alone.
public enum DashboardProofFormat: String, Sendable, Hashable {
    /// For a checkpoint record: one file, an in-toto statement in a DSSE envelope signed by the log's key, with
    /// the record and its C2SP tlog-proof inside (specs/in-toto.md): `cairn verify in-toto`.
    case inToto = "in-toto"
    /// For any other record: a C2SP tlog-proof, with the entry's bytes as a second download:
    /// `cairn verify inclusion`.
    case tlogProof = "tlog-proof"

    /// The download's file name: `entry-12.intoto.json` or `entry-12.tlog-proof`.
    public func fileName(index: UInt64) -> String {
        switch self {
        case .inToto: "entry-\(index).intoto.json"
        case .tlogProof: "entry-\(index).tlog-proof"
        }
    }

    /// The file name of the entry's bytes (`entry-12.json`), for a tlog-proof.
    public static func entryFileName(index: UInt64) -> String { "entry-\(index).json" }

    /// The command that verifies the download(s), given the vkey saved as `ledger.vkey`.
    public func verifyCommand(index: UInt64) -> String {
        switch self {
        case .inToto:
            "cairn verify in-toto --vkey ledger.vkey \(fileName(index: index))"
        case .tlogProof:
            "cairn verify inclusion --vkey ledger.vkey --proof \(fileName(index: index)) --entry "
                + Self.entryFileName(index: index)
        }
    }
}

/// One access-log entry as the admin page lists it (every member is shown escaped).
public struct DashboardAccessEntry: Sendable, Hashable {
    /// Its leaf index in the access log.
    public var index: UInt64
    public var at: String
    /// The token (`name (tok_…)`) or local user.
    public var principal: String
    /// `GET /ui/records/{index}`, or `append via POST /v1/entries`.
    public var request: String
    /// What was read or appended (compact JSON).
    public var target: String
    /// The response status, or "" for appends.
    public var status: String

    public init(index: UInt64, at: String, principal: String, request: String, target: String, status: String) {
        self.index = index
        self.at = at
        self.principal = principal
        self.request = request
        self.target = target
        self.status = status
    }
}

/// The dashboard's pages (`cairn serve`, under `/ui/`) and the offline HTML report, as pure functions of what they
/// show: server-rendered HTML with inline SVG charts, no JavaScript, no inline styles (the stylesheet is
/// `/ui/style.css`, or a `<style>` element in a report), no external requests. Every string from a record is
/// escaped (`HTMLText.escape`).
///
/// Every figure is a table cell carrying `data-stat="<view>/<section>/<row>/<column>"` and `data-value` (the
/// value exactly as `GET /v1/stats/<view>` writes it, `null` when there is none); on the server, a figure with
/// records behind it links to them (`/ui/records?` + its drill query).
public enum DashboardHTML {
    // MARK: - Server pages

    /// A view's page: navigation, the window and repository filter (GET `since`, `until`, `repo`), and each
    /// section as a chart (when it has one) and a table whose figures link to their records.
    public static func statsPage(_ document: StatsDocument, chrome: DashboardChrome) -> String {
        var body = "<h1>\(HTMLText.escape(document.title))</h1>"
        body += "<p class=\"question\">\(HTMLText.escape(document.question))</p>"
        body += filterForm(document.view, window: document.window)
        body += "<p class=\"window\">\(HTMLText.escape(windowSummary(document)))</p>"
        body += sections(of: document, prefix: "s", links: true)
        return page(
            title: document.title, chrome: chrome, current: .view(document.view), body: body)
    }

    /// The records behind a figure: the matches of a `GET /v1/query` query, each linking to its record page.
    /// `filters` are the query's parameters as given; `limit` the most it returns.
    public static func recordsPage(
        filters: [(name: String, value: String)], matches: [QueryMatch], limit: Int, chrome: DashboardChrome
    ) -> String {
        var body = "<h1>Records</h1>"
        body += "<p class=\"question\">The records behind a figure: the matches of the query below, the same as "
        body += "<code>GET /v1/query</code> and <code>cairn query</code> give. Each links to its effective record, "
        body += "history and proof.</p>"
        if filters.isEmpty {
            body += "<p class=\"meta\">No filters: checkpoints of the whole ledger.</p>"
        } else {
            body += "<dl class=\"facts\">"
            for filter in filters {
                body +=
                    "<dt>\(HTMLText.escape(filter.name))</dt><dd class=\"mono\">\(HTMLText.escape(filter.value))</dd>"
            }
            body += "</dl>"
        }
        body += "<p class=\"meta\">\(matches.count) match\(matches.count == 1 ? "" : "es")"
        if matches.count >= limit {
            body += " (the limit: there may be more; narrow the filters or raise <code>limit</code>)"
        }
        body += ".</p>"
        guard !matches.isEmpty else {
            return page(title: "Records", chrome: chrome, current: nil, body: body)
        }
        body += "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\" class=\"num\">Entry</th>"
        body += "<th scope=\"col\">Type</th><th scope=\"col\">Record</th><th scope=\"col\">Time</th>"
        body += "<th scope=\"col\">Requested by</th><th scope=\"col\">Model</th><th scope=\"col\">Changes</th>"
        body += "<th scope=\"col\">Reviews</th></tr></thead><tbody>"
        for match in matches {
            let facts = match.facts
            body += "<tr><td class=\"num\"><a href=\"\(DashboardPaths.record(match.index))\">\(match.index)</a></td>"
            body += "<td>\(HTMLText.escape(facts.type.rawValue))</td>"
            let name = facts.id ?? facts.subject.map { "about \($0)" } ?? "\(match.digest)"
            body += "<td class=\"wrap mono\">\(HTMLText.escape(name))</td>"
            let time = facts.timestamp ?? match.appendedAt
            body +=
                "<td class=\"mono\">\(time.map { HTMLText.escape(Timestamp.format($0)) } ?? StatsFormat.missing)</td>"
            body += "<td class=\"wrap\">\(HTMLText.escape(facts.requestedBy ?? StatsFormat.missing))</td>"
            var model = facts.modelID ?? StatsFormat.missing
            if let version = facts.modelVersion { model += " (\(version))" }
            body += "<td class=\"wrap\">\(HTMLText.escape(model))</td>"
            body += "<td class=\"wrap\">\(changes(facts.outputs))</td>"
            let reviews = match.reviews.map { "\($0.reviewer): \($0.decision)" }
            body +=
                "<td class=\"wrap\">"
                + (reviews.isEmpty ? StatsFormat.missing : reviews.map(HTMLText.escape).joined(separator: "<br>"))
                + "</td>"
            body += "</tr>"
        }
        body += "</tbody></table></div>"
        return page(title: "Records", chrome: chrome, current: nil, body: body)
    }

    /// One record: its facts, the proof bundle to download with the command that verifies it, the effective
    /// record (corrections applied) and the record as appended, pretty-printed, and its history.
    public static func recordPage(
        _ view: RecordView, proof: DashboardProofFormat, vkey: String, treeSize: UInt64, chrome: DashboardChrome
    ) -> String {
        let type = view.effective["type"]?.stringValue
        var body = "<h1>Entry \(view.index)" + (type.map { ": " + HTMLText.escape($0) } ?? "") + "</h1>"
        body += "<dl class=\"facts\">"
        body += "<dt>Leaf index</dt><dd class=\"mono\">\(view.index)</dd>"
        body += "<dt>Content address</dt><dd class=\"mono\">\(HTMLText.escape("\(view.digest)"))</dd>"
        if let id = view.effective["id"]?.stringValue {
            body += "<dt>Id</dt><dd class=\"mono\">\(HTMLText.escape(id))</dd>"
        }
        if let subject = view.effective["subject"]?.stringValue {
            body += "<dt>About</dt><dd class=\"mono\">\(HTMLText.escape(subject))</dd>"
        }
        if let at = view.appendedAt {
            body += "<dt>Appended</dt><dd class=\"mono\">\(HTMLText.escape(Timestamp.format(at)))</dd>"
        }
        if let by = view.appendedBy {
            body += "<dt>Appended by</dt><dd>\(HTMLText.escape("\(by.name) (\(by.kind.rawValue) \(by.id))"))</dd>"
        }
        body +=
            "<dt>Corrected</dt><dd>"
            + (view.isCorrected ? "yes: the record below has its corrections applied" : "no") + "</dd>"
        body += "</dl>"
        body += proofBox(index: view.index, format: proof, vkey: vkey, treeSize: treeSize)
        body += "<h2>Effective record</h2>"
        body += "<pre class=\"json\">\(json(view.effective))</pre>"
        if view.isCorrected {
            body += "<details><summary>As appended (before corrections)</summary>"
            body += "<pre class=\"json\">\(json(view.original))</pre></details>"
        }
        body += "<h2>History</h2>"
        if view.history.isEmpty {
            body += "<p class=\"meta\">No entry refers to this one.</p>"
        } else {
            body += "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\" class=\"num\">Entry</th>"
            body += "<th scope=\"col\">Type</th><th scope=\"col\">Appended</th><th scope=\"col\">By</th>"
            body += "<th scope=\"col\">Summary</th><th scope=\"col\">Record</th></tr></thead><tbody>"
            for item in view.history {
                body += "<tr><td class=\"num\"><a href=\"\(DashboardPaths.record(item.index))\">\(item.index)</a></td>"
                body += "<td>\(HTMLText.escape(item.type.rawValue))</td>"
                body +=
                    "<td class=\"mono\">"
                    + (item.appendedAt.map { HTMLText.escape(Timestamp.format($0)) } ?? StatsFormat.missing) + "</td>"
                body +=
                    "<td class=\"wrap\">"
                    + (item.appendedBy.map { HTMLText.escape("\($0.name) (\($0.id))") } ?? StatsFormat.missing)
                    + "</td>"
                body += "<td class=\"wrap\">\(HTMLText.escape(summary(of: item.record)))</td>"
                body +=
                    "<td><details><summary>JSON</summary><pre class=\"json\">\(json(item.record))</pre></details></td>"
                body += "</tr>"
            }
            body += "</tbody></table></div>"
        }
        return page(title: "Entry \(view.index)", chrome: chrome, current: nil, body: body)
    }

    /// The admin page of recent access-log activity: `entries` newest first, of a log of `logSize` entries.
    public static func accessLogPage(
        _ entries: [DashboardAccessEntry], logSize: UInt64, chrome: DashboardChrome
    )
        -> String
    {
        var body = "<h1>Access log</h1>"
        body += "<p class=\"question\">Who read what: every read of record contents (API and dashboard) and every "
        body += "append is recorded in the access log, a Merkle log of its own, before it is answered.</p>"
        body += "<p class=\"meta\">The last \(entries.count) of \(logSize) entries, newest first. Auditors query and "
        body += "prove it with <code>GET /v1/access-log/…</code>.</p>"
        if entries.isEmpty { return page(title: "Access log", chrome: chrome, current: .accessLog, body: body) }
        body += "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\" class=\"num\">Entry</th>"
        body += "<th scope=\"col\">At</th><th scope=\"col\">Who</th><th scope=\"col\">Request</th>"
        body += "<th scope=\"col\">Target</th><th scope=\"col\" class=\"num\">Status</th></tr></thead><tbody>"
        for entry in entries {
            body += "<tr><td class=\"num\">\(entry.index)</td><td class=\"mono\">\(HTMLText.escape(entry.at))</td>"
            body += "<td class=\"wrap\">\(HTMLText.escape(entry.principal))</td>"
            body += "<td class=\"wrap mono\">\(HTMLText.escape(entry.request))</td>"
            body += "<td class=\"wrap mono\">\(HTMLText.escape(entry.target))</td>"
            body += "<td class=\"num\">\(HTMLText.escape(entry.status))</td></tr>"
        }
        body += "</tbody></table></div>"
        return page(title: "Access log", chrome: chrome, current: .accessLog, body: body)
    }

    /// The sign-in form (POST `token` to `/ui/sign-in`). `message` says why a previous attempt failed; `next` is
    /// the dashboard page to return to.
    public static func signInPage(message: String? = nil, next: String? = nil) -> String {
        var body = "<div class=\"signin box\"><h1>Sign in to Cairn</h1>"
        body += "<p>Paste an API token with the <code>read</code> or <code>audit</code> role, such as one made with "
        body += "<code>cairn token create --role read --name my-laptop</code>. The token is sent once, in this form; "
        body += "your browser keeps only a random session cookie, and the session ends when you sign out, after "
        body += "8 hours, or as soon as the token is revoked.</p>"
        if let message { body += "<p class=\"message\" role=\"alert\">\(HTMLText.escape(message))</p>" }
        body += "<form method=\"post\" action=\"\(DashboardPaths.signIn)\">"
        body += "<label for=\"token\">API token</label>"
        body +=
            "<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" spellcheck=\"false\" required>"
        if let next { body += "<input type=\"hidden\" name=\"next\" value=\"\(HTMLText.escape(next))\">" }
        body += "<p><button class=\"primary\" type=\"submit\">Sign in</button></p></form></div>"
        return page(title: "Sign in", chrome: DashboardChrome(), current: nil, body: body)
    }

    /// An error page: the status, what went wrong and what to do (`message`), and a way back.
    public static func errorPage(status: Int, title: String, message: String, chrome: DashboardChrome) -> String {
        var body = "<div class=\"box error\"><h1>\(HTMLText.escape(title))</h1>"
        body += "<p>\(HTMLText.escape(message))</p>"
        body += "<p class=\"meta\">HTTP status \(status).</p>"
        body +=
            chrome.signedInAs == nil
            ? "<p><a href=\"\(DashboardPaths.signIn)\">Sign in</a></p>"
            : "<p><a href=\"\(DashboardPaths.root)\">Back to the overview</a></p>"
        body += "</div>"
        return page(title: title, chrome: chrome, current: nil, body: body)
    }

    // MARK: - Offline report

    /// Several views as one self-contained HTML document, for `cairn report --format html`: the stylesheet inline
    /// in a `<style>` element, a Content-Security-Policy that forbids every request, a table of contents with
    /// in-page links, and no link to any server (figures keep `data-stat` and `data-value` but do not link their
    /// drill-down). `generatedAt` is Unix milliseconds. The same documents give the same bytes, and the page always
    /// ends with `</main></body></html>` and a line feed (`cairn report --format html` writes its rows before it).
    public static func report(_ documents: [StatsDocument], title: String, generatedAt: Int64? = nil) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; "
        out += "style-src &#39;unsafe-inline&#39;; img-src data:\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<title>\(HTMLText.escape(title))</title><style>\n\(stylesheet)</style></head><body><main>"
        out += "<h1>\(HTMLText.escape(title))</h1>"
        var meta = generatedAt.map { "Generated \(Timestamp.format($0))" } ?? ""
        if let size = documents.first?.treeSize {
            meta +=
                (meta.isEmpty ? "From" : " from")
                + " the ledger at tree size \(StatsFormat.group(Int64(clamping: size)))"
        }
        if !meta.isEmpty { out += "<p class=\"meta\">\(HTMLText.escape(meta)).</p>" }
        out += "<p class=\"meta\">Each figure's exact value is in its cell's data-value attribute; the records behind "
        out += "it are listed by the query the live dashboard links (<code>cairn query</code>).</p>"
        if documents.count > 1 {
            out += "<nav class=\"contents\" aria-label=\"Contents\"><h2>Contents</h2><ol>"
            for (number, document) in documents.enumerated() {
                out += "<li><a href=\"#view-\(number)\">\(HTMLText.escape(document.title))</a></li>"
            }
            out += "</ol></nav>"
        }
        for (number, document) in documents.enumerated() {
            out += "<section class=\"report-view\" id=\"view-\(number)\" aria-labelledby=\"view-\(number)-title\">"
            out += "<h1 id=\"view-\(number)-title\">\(HTMLText.escape(document.title))</h1>"
            out += "<p class=\"question\">\(HTMLText.escape(document.question))</p>"
            out += "<p class=\"window\">\(HTMLText.escape(windowSummary(document)))</p>"
            out += sections(of: document, prefix: "v\(number)-s", links: false)
            out += "</section>"
        }
        return out + "</main></body></html>\n"
    }

    // MARK: - Pieces

    enum NavItem: Equatable {
        case view(StatsView)
        case accessLog
    }

    /// The page skeleton: head (stylesheet link), header with the signed-in token and sign-out, navigation, main.
    static func page(title: String, chrome: DashboardChrome, current: NavItem?, body: String) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<title>\(HTMLText.escape(title)) · Cairn</title>"
        out += "<link rel=\"stylesheet\" href=\"\(DashboardPaths.stylesheet)\"></head><body>"
        out += "<header class=\"top\"><a class=\"brand\" href=\"\(DashboardPaths.root)\">Cairn</a>"
        if let who = chrome.signedInAs {
            out += "<span class=\"who\">Signed in as \(HTMLText.escape(who))</span>"
            out +=
                "<form method=\"post\" action=\"\(DashboardPaths.signOut)\">"
                + "<button type=\"submit\">Sign out</button></form>"
        }
        out += "</header>"
        if chrome.signedInAs != nil {
            out += "<nav class=\"views\" aria-label=\"Views\"><ul>"
            let query = DashboardPaths.windowQuery(chrome.window)
            for view in StatsView.allCases {
                let currentMark = current == .view(view) ? " aria-current=\"page\"" : ""
                out += "<li><a href=\"\(HTMLText.escape(DashboardPaths.view(view) + query))\"\(currentMark)>"
                out += "\(HTMLText.escape(view.title))</a></li>"
            }
            if chrome.showsAdmin {
                let currentMark = current == .accessLog ? " aria-current=\"page\"" : ""
                out += "<li class=\"admin\"><a href=\"\(DashboardPaths.accessLog)\"\(currentMark)>Access log</a></li>"
            }
            out += "</ul></nav>"
        }
        out += "<main>\(body)</main>"
        out += "<footer>Cairn: every figure links to the records it counts, and every record to its proof.</footer>"
        return out + "</body></html>\n"
    }

    /// The GET form that sets a view's window and repository.
    static func filterForm(_ view: StatsView, window: StatsWindow) -> String {
        func field(_ name: String, _ label: String, _ value: String?, _ hint: String) -> String {
            "<label for=\"f-\(name)\">\(label)<input type=\"text\" id=\"f-\(name)\" name=\"\(name)\" "
                + "value=\"\(HTMLText.escape(value ?? ""))\" placeholder=\"\(hint)\"></label>"
        }
        var out = "<form class=\"filter\" method=\"get\" action=\"\(DashboardPaths.view(view))\">"
        out += field("since", "Since (inclusive)", window.since.map(Timestamp.format), "2026-11-01")
        out += field("until", "Until (exclusive)", window.until.map(Timestamp.format), "2026-12-01T00:00:00Z")
        out += field("repo", "Repository", window.repo, "all repositories")
        out += "<button type=\"submit\">Apply</button>"
        out += "<a href=\"\(DashboardPaths.view(view))\">Clear</a></form>"
        return out
    }

    /// `Tree size 1,234 · since … · until … · repository …`.
    static func windowSummary(_ document: StatsDocument) -> String {
        var parts = ["Figures from the ledger at tree size \(StatsFormat.group(Int64(clamping: document.treeSize)))"]
        let window = document.window
        parts.append(window.since.map { "since \(Timestamp.format($0))" } ?? "from the first record")
        parts.append(window.until.map { "until \(Timestamp.format($0)) (exclusive)" } ?? "up to now")
        parts.append(window.repo.map { "repository \($0)" } ?? "all repositories")
        return parts.joined(separator: " · ")
    }

    /// Every section of `document`; element ids start with `prefix`.
    static func sections(of document: StatsDocument, prefix: String, links: Bool) -> String {
        guard !document.sections.isEmpty else {
            return "<p class=\"meta\">This view has no figures for this window.</p>"
        }
        var out = ""
        for (number, section) in document.sections.enumerated() {
            out += self.section(section, view: document.view, id: "\(prefix)\(number)", links: links)
        }
        return out
    }

    /// One section: title, note, chart, and the table of figures.
    static func section(_ section: StatsSection, view: StatsView, id: String, links: Bool) -> String {
        var out = "<section class=\"stats\" id=\"\(id)\" aria-labelledby=\"\(id)-title\">"
        out += "<h2 id=\"\(id)-title\">\(HTMLText.escape(section.title))</h2>"
        if let note = section.note { out += "<p class=\"note\">\(HTMLText.escape(note))</p>" }
        if let chart = section.chart { out += SVGChart.render(chart, title: section.title, id: "\(id)-chart") }
        guard !section.rows.isEmpty else {
            return out + "<p class=\"meta\">No figures for this window.</p></section>"
        }
        out += "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\"></th>"
        for column in section.columns {
            out +=
                "<th scope=\"col\"\(column.unit == .text ? "" : " class=\"num\"")>\(HTMLText.escape(column.title))</th>"
        }
        out += "</tr></thead><tbody>"
        for row in section.rows {
            out += "<tr><th scope=\"row\" class=\"wrap\">\(HTMLText.escape(row.label))</th>"
            for (position, column) in section.columns.enumerated() {
                let cell = position < row.cells.count ? row.cells[position] : StatsCell(value: nil)
                out += self.cell(
                    cell, column: column, stat: "\(view.rawValue)/\(section.id)/\(row.id)/\(column.id)", links: links)
            }
            out += "</tr>"
        }
        return out + "</tbody></table></div></section>"
    }

    /// A figure's cell: `data-stat`, `data-value`, the formatted value, and a link to its records.
    static func cell(_ cell: StatsCell, column: StatsColumn, stat: String, links: Bool) -> String {
        let shown = cell.text ?? StatsFormat.display(cell.value, unit: column.unit)
        var out = "<td"
        if column.unit != .text { out += " class=\"num\"" }
        out += " data-stat=\"\(HTMLText.escape(stat))\" data-value=\"\(StatsFormat.dataValue(cell.value))\">"
        if links, let drill = cell.drill, !drill.parameters.isEmpty {
            out += "<a href=\"\(HTMLText.escape(DashboardPaths.records + "?" + drill.queryString))\" "
            out += "title=\"The records behind this figure\">\(HTMLText.escape(shown))</a>"
        } else {
            out += HTMLText.escape(shown)
        }
        return out + "</td>"
    }

    /// The proof download(s) and the command that verifies them.
    static func proofBox(index: UInt64, format: DashboardProofFormat, vkey: String, treeSize: UInt64) -> String {
        var out = "<section class=\"box proof\" aria-labelledby=\"proof-title\"><h2 id=\"proof-title\">Proof</h2>"
        let file = format.fileName(index: index)
        switch format {
        case .inToto:
            out +=
                "<p>Download <a href=\"\(DashboardPaths.proof(index))\" download=\"\(file)\">\(file)</a>: an in-toto "
            out += "statement in a DSSE envelope signed with the log's key, holding this checkpoint record and a C2SP "
            out += "tlog-proof that it is entry \(index) of the log (at the tree size current when you download it, "
            out +=
                "now \(treeSize)). With the log's verifier key saved as <code>ledger.vkey</code>, check it offline:</p>"
        case .tlogProof:
            let entry = DashboardProofFormat.entryFileName(index: index)
            out += "<p>Download <a href=\"\(DashboardPaths.proof(index))\" download=\"\(file)\">\(file)</a> (a C2SP "
            out += "tlog-proof that entry \(index) is in the log at the tree size current when you download it, now "
            out +=
                "\(treeSize)) and <a href=\"\(DashboardPaths.entry(index))\" download=\"\(entry)\">\(entry)</a> (the "
            out += "entry's bytes as appended). With the log's verifier key saved as <code>ledger.vkey</code>, check "
            out += "them offline:</p>"
        }
        out += "<pre class=\"command\">\(HTMLText.escape(format.verifyCommand(index: index)))</pre>"
        out +=
            "<p>The log's verifier key, as this server has it. Compare it with the key the log's operator publishes: "
        out += "a proof checked against a key taken from the same server proves nothing.</p>"
        out += "<pre class=\"command\">\(HTMLText.escape(vkey))</pre></section>"
        return out
    }

    /// A JSON value pretty-printed for a `<pre>`: invisible and reordering characters escaped as JSON escapes,
    /// then HTML-escaped.
    static func json(_ value: JSONValue) -> String {
        HTMLText.references(DisplayText.escapeJSON(JSONWriter.pretty(value)))
    }

    /// A checkpoint's changes: `repo · path (contributor)`, the first three, then how many more.
    static func changes(_ outputs: [OutputFacts]) -> String {
        guard !outputs.isEmpty else { return StatsFormat.missing }
        var lines = outputs.prefix(3).map { HTMLText.escape("\($0.repo) · \($0.path) (\($0.contributor))") }
        if outputs.count > 3 { lines.append("and \(outputs.count - 3) more") }
        return lines.joined(separator: "<br>")
    }

    /// One line about a history entry: who reviewed, tested, deployed or corrected what.
    static func summary(of record: JSONValue) -> String {
        var parts: [String] = []
        for key in [
            "reviewer", "decision", "result", "environment", "branch", "git_commit", "provider", "reason", "author",
        ] {
            if let value = record[key]?.stringValue { parts.append("\(key): \(value)") }
        }
        if let model = record["model"]?["id"]?.stringValue { parts.append("model: \(model)") }
        if let status = record["status"]?.numberValue { parts.append("status: \(StatsFormat.number(status))") }
        return parts.isEmpty ? StatsFormat.missing : parts.joined(separator: ", ")
    }
}
