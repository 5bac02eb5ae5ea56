import CairnCrypto
import CairnInsight
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import CairnServer

/// The dashboard at /ui/: sign-in and sessions, the security headers, roles, the drill-down from a figure to its
/// records, a record's page and its proof bundle (verified with the real `cairn verify`), revocation, and the
/// cross-site request checks.
@Suite("Dashboard routes")
struct DashboardRoutesTests {
    static let csp =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        + "base-uri 'none'"
    static let formType = "application/x-www-form-urlencoded"

    /// Expects `needle` in `text` without printing all of `text` when it is missing.
    static func expect(
        _ text: String, contains needle: String, _ expected: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let found = text.contains(needle)
        #expect(found == expected, "\(expected ? "missing" : "unexpected"): \(needle)", sourceLocation: sourceLocation)
    }

    // MARK: - Helpers

    /// The `cairn` executable built beside the tests ($CAIRN_BIN first).
    static let cairnBinary: String? = {
        if let path = ProcessInfo.processInfo.environment["CAIRN_BIN"] { return path }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("cairn").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    /// The session cookie (`cairn_session=…`) a sign-in response set, or nil.
    static func sessionCookie(_ reply: Reply) -> String? {
        guard let header = reply.headers[.setCookie] else { return nil }
        let pair = header.split(separator: ";").first.map(String.init) ?? ""
        return pair.hasPrefix("cairn_session=") && pair.count > "cairn_session=".count ? pair : nil
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    /// Every header of `Cache-Control`, CSP and friends that every dashboard response carries.
    static func expectSecurityHeaders(_ reply: Reply, _ what: String, sourceLocation: SourceLocation = #_sourceLocation)
    {
        #expect(reply.headers[.contentSecurityPolicy] == csp, "\(what)", sourceLocation: sourceLocation)
        #expect(reply.headers[.xContentTypeOptions] == "nosniff", "\(what)", sourceLocation: sourceLocation)
        #expect(
            reply.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(what)",
            sourceLocation: sourceLocation)
        #expect(reply.headers[.cacheControl] == "no-store", "\(what)", sourceLocation: sourceLocation)
        #expect(reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(what)", sourceLocation: sourceLocation)
    }

    // MARK: - Sign-in

    @Test("sign-in: a good token gets an HttpOnly, SameSite=Strict session cookie for /ui; bad ones get none")
    func signIn() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            let form = try await client.get("/ui/sign-in")
            #expect(form.code == 200)
            #expect(form.contentType == "text/html; charset=utf-8")
            Self.expect(form.text, contains: "<input type=\"password\" id=\"token\" name=\"token\"")
            #expect(Self.sessionCookie(form) == nil)

            let unknown = try await client.signIn(secret: "cairn_bogus-token-that-is-not-in-the-ledger-000000")
            #expect(unknown.code == 401)
            #expect(unknown.headers[.setCookie] == nil)
            Self.expect(unknown.text, contains: "unknown or revoked")
            let empty = try await client.signIn(secret: "")
            #expect(empty.code == 400 && empty.headers[.setCookie] == nil)
            for role in ["append", "metrics", "erase"] {
                let refused = try await client.signIn(role)
                #expect(refused.code == 403, "\(role)")
                #expect(refused.headers[.setCookie] == nil, "\(role)")
                Self.expect(refused.text, contains: "needs a token with the read or audit role")
            }

            let secret = try #require(fixture.tokens["read"])
            let good = try await client.signIn("read")
            #expect(good.code == 303)
            #expect(good.headers[.location] == "/ui/")
            let header = try #require(good.headers[.setCookie])
            let attributes = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let value = try #require(attributes.first?.split(separator: "=", maxSplits: 1).last.map(String.init))
            #expect(attributes.first?.hasPrefix("cairn_session=") == true)
            #expect(value.count == 43 && value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(Set(attributes.dropFirst()) == ["Path=/ui", "Max-Age=28800", "HttpOnly", "SameSite=Strict"])
            // The token is nowhere but in the request that carried it.
            #expect(!header.contains(secret) && !(good.headers[.location] ?? "").contains(secret))
            #expect(!good.text.contains(secret))

            let cookie = try #require(Self.sessionCookie(good))
            let overview = try await client.page("/ui/", cookie)
            #expect(overview.code == 200)
            Self.expect(overview.text, contains: "Signed in as read-token (\(fixture.tokenIDs["read"] ?? "?"))")
            Self.expect(overview.text, contains: "<h1>Overview</h1>")
            Self.expect(overview.text, contains: secret, false)

            // Audit and admin tokens may sign in too; each sign-in is a session of its own.
            for role in ["audit", "admin"] {
                let reply = try await client.signIn(role)
                #expect(reply.code == 303, "\(role)")
                let other = try #require(Self.sessionCookie(reply))
                #expect(other != cookie)
                #expect(try await client.page("/ui/", other).code == 200)
            }
            // Back to the page asked for — only a dashboard page.
            let back = try await client.signIn("read", next: "/ui/records?type=review")
            #expect(back.headers[.location] == "/ui/records?type=review")
            for next in [
                "https://evil.example/", "//evil.example/ui/", "/ui/../v1/entries/0", "/ui/%2e%2E/healthz", "/ui/./x",
                "/ui\\x", "/ui/sign-out",
            ] {
                let elsewhere = try await client.signIn("read", next: next)
                #expect(elsewhere.headers[.location] == "/ui/", "\(next)")
            }
            // A form that is not one.
            let json = try await client.send(
                .post, "/ui/sign-in", body: Array("{\"token\":\"\(secret)\"}".utf8), contentType: "application/json")
            #expect(json.code == 415 && json.headers[.setCookie] == nil)
        }
    }

    @Test("signed-out requests to dashboard pages are sent (303) to the sign-in page, and brought back")
    func signedOutRedirects() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            for uri in [
                "/ui", "/ui/", "/ui/overview", "/ui/health", "/ui/records?model=x", "/ui/records/0",
                "/ui/records/0/proof", "/ui/records/0/entry", "/ui/admin/access-log",
            ] {
                let reply = try await client.get(uri)
                #expect(reply.code == 303, "\(uri)")
                #expect(reply.headers[.location] == "/ui/sign-in?next=" + Self.percentEncoded(uri), "\(uri)")
                Self.expectSecurityHeaders(reply, uri)
            }
            // A made-up session, and a Bearer token (the dashboard uses its sessions only), are no sign-in.
            let madeUp = try await client.page("/ui/", "cairn_session=" + String(repeating: "A", count: 43))
            #expect(madeUp.code == 303)
            let bearer = try await client.get("/ui/", as: "read")
            #expect(bearer.code == 303)
            let post = try await client.send(.post, "/ui/sign-out")
            #expect(post.code == 303 && post.headers[.location] == "/ui/sign-in")
            // The stylesheet and the sign-in page need no session.
            let css = try await client.get("/ui/style.css")
            #expect(css.code == 200 && css.contentType == "text/css; charset=utf-8")
            #expect(css.text == DashboardHTML.stylesheet)
        }
    }

    // MARK: - Headers

    @Test(
        "every dashboard response carries the CSP, nosniff, same-origin referrers and no-store; pages load nothing else"
    )
    func securityHeaders() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            try await client.append(ServerFixture.provenanceRecords)
            let cookie = try await client.session("read")
            var replies: [(String, Reply)] = []
            replies.append(("sign-in form", try await client.get("/ui/sign-in")))
            replies.append(("bad sign-in", try await client.signIn(secret: "cairn_nope")))
            replies.append(("sign-in", try await client.signIn("read")))
            replies.append(("stylesheet", try await client.get("/ui/style.css")))
            replies.append(("redirect", try await client.get("/ui/gaps")))
            for view in StatsView.allCases {
                replies.append((view.rawValue, try await client.page(DashboardPaths.view(view), cookie)))
            }
            for uri in [
                "/ui/records?model=claude-sonnet-4-5", "/ui/records/0", "/ui/records/1", "/ui/records/0/proof",
                "/ui/records/1/proof", "/ui/records/1/entry", "/ui/records/77", "/ui/records?bogus=1", "/ui/nowhere",
                "/ui/sign-out", "/ui/admin/access-log", "/ui/ai-share?since=yesterday",
            ] {
                replies.append((uri, try await client.page(uri, cookie)))
            }
            replies.append(("405", try await client.send(.delete, "/ui/", headers: [.cookie: cookie])))
            // Errors of the outer middleware (a Bearer header that names no token) carry them too.
            replies.append(("bad bearer", try await client.get("/ui/", as: "bogus")))
            for (what, reply) in replies {
                Self.expectSecurityHeaders(reply, what)
                if reply.contentType == DashboardRoutes.htmlType {
                    let html = reply.text.lowercased()
                    let handler = html.range(of: #"<[^>]*\son[a-z]+\s*="#, options: .regularExpression)
                    #expect(!html.contains("<script") && !html.contains(" style=") && handler == nil, "\(what)")
                    #expect(!html.contains("http://") && !html.contains("https://"), "\(what)")
                    #expect(!html.contains("src="), "\(what)")
                }
            }
            #expect(Set(replies.map(\.1.code)) == [200, 303, 400, 401, 403, 404, 405])
            // API responses are left as they were.
            let api = try await client.get("/healthz")
            #expect(api.headers[.contentSecurityPolicy] == nil)
        }
    }

    // MARK: - Roles

    @Test("a read token gets 403 on the admin page and no link to it; audit and admin tokens get both")
    func adminPage() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            try await client.append(ServerFixture.provenanceRecords)
            let reader = try await client.session("read")
            let overview = try await client.page("/ui/", reader)
            Self.expect(overview.text, contains: "/ui/admin", false)
            let refused = try await client.page("/ui/admin/access-log", reader)
            #expect(refused.code == 403)
            #expect(refused.contentType == DashboardRoutes.htmlType)
            Self.expect(refused.text, contains: "this page needs the audit role")
            Self.expect(refused.text, contains: "/ui/admin", false)
            #expect(try await client.page("/ui/records/0", reader).code == 200)

            for role in ["audit", "admin"] {
                let auditor = try await client.session(role)
                Self.expect(try await client.page("/ui/", auditor).text, contains: "href=\"/ui/admin/access-log\"")
                let log = try await client.page("/ui/admin/access-log", auditor)
                #expect(log.code == 200, "\(role)")
                // The reader's read of entry 0 through the dashboard is listed, with who made it.
                Self.expect(log.text, contains: "GET /ui/records/{index}")
                Self.expect(log.text, contains: "read-token (\(fixture.tokenIDs["read"] ?? "?"))")
                Self.expect(log.text, contains: "append via POST /v1/entries")
            }
        }
    }

    // MARK: - Drill-down, record, proof

    @Test("a figure's records, a record's page and history, and its proof bundle, which cairn verify accepts")
    func drillDownRecordAndProof() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            try await client.append(ServerFixture.provenanceRecords)
            let cookie = try await client.session("read")

            // The drill-down: GET /v1/query's parameters, parsed by the same code.
            let list = try await client.page("/ui/records?model=claude-sonnet-4-5", cookie)
            #expect(list.code == 200)
            Self.expect(list.text, contains: "<a href=\"/ui/records/0\">0</a>")
            Self.expect(list.text, contains: "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01")
            Self.expect(list.text, contains: "bob@example.com: approved")
            Self.expect(list.text, contains: "/ui/records/3", false)
            Self.expect(list.text, contains: "1 match.")
            let reviews = try await client.page("/ui/records?type=review&limit=1", cookie)
            Self.expect(reviews.text, contains: "<a href=\"/ui/records/1\">1</a>")
            Self.expect(reviews.text, contains: "the limit: there may be more")
            let api = try await client.get("/v1/query?type=review", as: "read")
            #expect(api.json["count"]?.intValue == 2)
            for bad in [
                "/ui/records?bogus=1", "/ui/records?line=3", "/ui/records?type=nonsense", "/ui/records?limit=0",
            ] {
                let reply = try await client.page(bad, cookie)
                #expect(reply.code == 400, "\(bad)")
                #expect(reply.contentType == DashboardRoutes.htmlType, "\(bad)")
            }

            // The record page: facts, effective record, history, the proof and how to verify it.
            let vkey = fixture.ledger.verifierKey.description
            let page = try await client.page("/ui/records/0", cookie)
            #expect(page.code == 200)
            Self.expect(page.text, contains: "<h1>Entry 0: checkpoint</h1>")
            Self.expect(page.text, contains: "&quot;id&quot;: &quot;0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01&quot;")
            for index in [1, 2, 4] { Self.expect(page.text, contains: "<a href=\"/ui/records/\(index)\">\(index)</a>") }
            Self.expect(page.text, contains: "cairn verify in-toto --vkey ledger.vkey entry-0.intoto.json")
            Self.expect(page.text, contains: "href=\"/ui/records/0/proof\" download=\"entry-0.intoto.json\"")
            Self.expect(page.text, contains: vkey)
            #expect(try await client.page("/ui/records/0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01", cookie).code == 200)
            let missing = try await client.page("/ui/records/77", cookie)
            #expect(missing.code == 404 && missing.contentType == DashboardRoutes.htmlType)

            // A checkpoint's bundle: one in-toto envelope, verified here and by `cairn verify in-toto`.
            let bundle = try await client.page("/ui/records/0/proof", cookie)
            #expect(bundle.code == 200)
            #expect(bundle.headers[.contentDisposition] == "attachment; filename=\"entry-0.intoto.json\"")
            let key = fixture.ledger.verifierKey
            let envelope = bundle.json
            let payload = try #require(envelope["payload"]?.stringValue.flatMap { Base64.decode(Substring($0)) })
            let signature = try #require(
                envelope["signatures"]?[0]?["sig"]?.stringValue.flatMap { Base64.decode(Substring($0)) })
            let dsse = DSSEEnvelope(
                payload: payload, payloadType: envelope["payloadType"]?.stringValue ?? "",
                signatures: [.init(keyID: key.nameAndID, signature: signature)])
            try dsse.verify(
                key: try Ed25519PublicKey(rawRepresentation: key.publicKey), payloadType: DSSEEnvelope.inTotoPayloadType
            )
            let statement = try JSONParser.parse(payload)
            let record = try #require(statement["predicate"]?["checkpoint"])
            let proofText = try #require(statement["predicate"]?["log"]?["inclusion_proof"]?.stringValue)
            let proof = try TlogProof(parsing: Array(proofText.utf8))
            #expect(proof.index == 0)
            _ = try proof.verify(entry: try JCS.canonicalize(record), logKey: key)

            // Any other record: a tlog-proof and the entry's bytes.
            let review = try await client.page("/ui/records/1", cookie)
            Self.expect(
                review.text,
                contains: "cairn verify inclusion --vkey ledger.vkey --proof entry-1.tlog-proof --entry entry-1.json")
            let tlog = try await client.page("/ui/records/1/proof", cookie)
            #expect(tlog.headers[.contentDisposition] == "attachment; filename=\"entry-1.tlog-proof\"")
            #expect(tlog.contentType == "text/plain; charset=utf-8")
            let entry = try await client.page("/ui/records/1/entry", cookie)
            #expect(entry.headers[.contentDisposition] == "attachment; filename=\"entry-1.json\"")
            let stored = try await fixture.ledger.read { try $0.entry(at: 1) }
            #expect(entry.body == stored)
            _ = try TlogProof(parsing: tlog.body).verify(entry: entry.body, logKey: key)

            // The real verifier, offline, with only the vkey and the downloads.
            let cairn = try #require(Self.cairnBinary, "the cairn executable is not built beside the tests")
            let dir = try TemporaryDirectory()
            try Data((vkey + "\n").utf8).write(to: URL(fileURLWithPath: dir.file("ledger.vkey")))
            try Data(bundle.body).write(to: URL(fileURLWithPath: dir.file("entry-0.intoto.json")))
            try Data(tlog.body).write(to: URL(fileURLWithPath: dir.file("entry-1.tlog-proof")))
            try Data(entry.body).write(to: URL(fileURLWithPath: dir.file("entry-1.json")))
            for command in [
                DashboardProofFormat.inToto.verifyCommand(index: 0),
                DashboardProofFormat.tlogProof.verifyCommand(index: 1),
            ] {
                let arguments = command.split(separator: " ").dropFirst().map(String.init)
                let result = try ProcessRunner.run(cairn, arguments, directory: dir.path)
                #expect(result.status == 0, "\(command): \(result.stderr)")
                #expect(result.text.hasPrefix("valid: "), "\(command)")
            }
            // A tampered bundle does not verify.
            var tampered = bundle.body
            if let position = tampered.firstIndex(of: UInt8(ascii: "A")) { tampered[position] = UInt8(ascii: "B") }
            try Data(tampered).write(to: URL(fileURLWithPath: dir.file("entry-0.intoto.json")))
            let refused = try ProcessRunner.run(
                cairn, ["verify", "in-toto", "--vkey", "ledger.vkey", "entry-0.intoto.json"], directory: dir.path)
            #expect(refused.status == 1)

            // Every read above is in the access log, under the dashboard's routes, by the reader's token.
            let routes = try await fixture.server.accessLog.ledger.read { snapshot in
                try (0..<snapshot.treeSize).map { try JSONParser.parse(try snapshot.entry(at: $0)) }
            }.filter { $0["token"]?["id"]?.stringValue == fixture.tokenIDs["read"] }.compactMap {
                $0["route"]?.stringValue
            }
            for route in [
                "/ui/records", "/ui/records/{index}", "/ui/records/{index}/proof", "/ui/records/{index}/entry",
            ] {
                #expect(routes.contains(route), "\(route) in \(Set(routes))")
            }
        }
    }

    // MARK: - Views

    @Test("every view renders with its window; the figures are the engine's; bad windows are 400 pages")
    func views() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            try await client.append(ServerFixture.provenanceRecords)
            let cookie = try await client.session("read")
            for view in StatsView.allCases {
                for path in Set([DashboardPaths.view(view), "/ui/" + view.rawValue]) {
                    let reply = try await client.page(path, cookie)
                    #expect(reply.code == 200, "\(path)")
                    Self.expect(reply.text, contains: "<h1>\(HTMLText.escape(view.title))</h1>")
                    Self.expect(reply.text, contains: HTMLText.escape(view.question))
                    Self.expect(reply.text, contains: "aria-current=\"page\">\(HTMLText.escape(view.title))<")
                }
                guard view != .health else { continue }  // its figures depend on the time of the request
                // The same figures as the engine computes (and GET /v1/stats/<view> returns).
                let window = StatsWindow(since: 1_793_491_200_000, until: nil, repo: nil)
                let document = try await fixture.ledger.read { snapshot in
                    try StatsEngine.document(view, window: window, in: snapshot, now: 0)
                }
                let reply = try await client.page(DashboardPaths.view(view) + "?since=2026-11-01", cookie)
                let html = reply.text
                for section in document.json["sections"]?.arrayValue ?? [] {
                    let columns = section["columns"]?.arrayValue ?? []
                    for row in section["rows"]?.arrayValue ?? [] {
                        for (position, column) in columns.enumerated() {
                            let stat = [
                                view.rawValue, section["id"]?.stringValue, row["id"]?.stringValue,
                                column["id"]?.stringValue,
                            ].map { $0 ?? "" }.joined(separator: "/")
                            let value = JSONWriter.compact(row["cells"]?[position]?["value"] ?? .null)
                            Self.expect(
                                html,
                                contains: "data-stat=\"\(HTMLText.escape(stat))\" data-value=\"\(value)\"")
                        }
                    }
                }
                if document.sections.isEmpty { Self.expect(html, contains: "no figures for this window") }
            }
            // The filter form's empty fields count as absent; the window is carried in the navigation.
            let filtered = try await client.page("/ui/ai-share?since=2026-11-01&until=&repo=", cookie)
            #expect(filtered.code == 200)
            Self.expect(filtered.text, contains: "name=\"since\" value=\"2026-11-01T00:00:00Z\"")
            Self.expect(filtered.text, contains: "href=\"/ui/gaps?since=2026-11-01T00%3A00%3A00Z\"")
            let repo = try await client.page("/ui/cost?repo=%3Cscript%3E", cookie)
            #expect(repo.code == 200)
            Self.expect(repo.text, contains: "value=\"&lt;script&gt;\"")
            Self.expect(repo.text, contains: "<script>", false)
            for bad in [
                "/ui/ai-share?since=yesterday", "/ui/ai-share?since=2026-12-01&until=2026-11-01", "/ui/ai-share?x=1",
                "/ui/?since=2026-11-01&since=2026-11-02",
            ] {
                let reply = try await client.page(bad, cookie)
                #expect(reply.code == 400, "\(bad)")
                #expect(reply.contentType == DashboardRoutes.htmlType, "\(bad)")
            }
            // View reads are recorded in the access log.
            let targets = try await fixture.server.accessLog.ledger.read { snapshot in
                try (0..<snapshot.treeSize).map { try JSONParser.parse(try snapshot.entry(at: $0)) }
            }.compactMap { $0["target"]?["stats"]?["view"]?.stringValue }
            #expect(Set(targets).isSuperset(of: StatsView.allCases.map(\.rawValue)))
        }
    }

    @Test("unknown pages are 404 and wrong methods 405 with Allow, as HTML; the dashboard is not an API route")
    func notFoundAndMethods() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            let cookie = try await client.session("read")
            let nowhere = try await client.page("/ui/nowhere/<b>", cookie)
            #expect(nowhere.code == 404 && nowhere.contentType == DashboardRoutes.htmlType)
            Self.expect(nowhere.text, contains: "<b>", false)
            let signOut = try await client.page("/ui/sign-out", cookie)
            #expect(signOut.code == 405 && signOut.headers[.allow] == "POST")
            let delete = try await client.send(.delete, "/ui/", headers: [.cookie: cookie])
            #expect(delete.code == 405 && delete.headers[.allow] == "GET")
            let post = try await client.send(.post, "/ui/records", headers: [.cookie: cookie])
            #expect(post.code == 405 && post.headers[.allow] == "GET")
            // The API's own 404 is unchanged (JSON).
            let api = try await client.get("/v1/nowhere", as: "read")
            #expect(api.code == 404 && api.error == "not_found")
        }
        // /ui/ is for browsers: not part of the JSON API, its route table or its OpenAPI document.
        #expect(!fixture.server.routeTable.routes.contains { $0.path.hasPrefix("/ui") })
    }

    // MARK: - Sessions end

    @Test("a revoked token's session stops working at once; signing out ends a session")
    func revocationAndSignOut() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        let laptop = try await fixture.server.tokens.create(
            name: "laptop", roles: [.read], at: "2026-11-20T09:00:00Z", using: fixture.server.engine)
        try await fixture.inProcess { client in
            let signedIn = try await client.signIn(secret: laptop.secret)
            let cookie = try #require(Self.sessionCookie(signedIn))
            #expect(try await client.page("/ui/", cookie).code == 200)
            try await fixture.server.tokens.revoke(
                id: laptop.token.id, at: "2026-11-20T10:00:00Z", using: fixture.server.engine)
            let after = try await client.page("/ui/", cookie)
            #expect(after.code == 303)
            #expect(after.headers[.location]?.hasPrefix("/ui/sign-in") == true)
            #expect(try await client.page("/ui/records/0", cookie).code == 303)
            #expect(try await client.signIn(secret: laptop.secret).code == 401)

            let other = try await client.session("read")
            #expect(try await client.page("/ui/", other).code == 200)
            let out = try await client.send(
                .post, "/ui/sign-out", headers: [.cookie: other, .origin: "http://localhost"])
            #expect(out.code == 303 && out.headers[.location] == "/ui/sign-in")
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.page("/ui/", other).code == 303)
        }
    }

    @Test("sessions expire, and the table holds at most its capacity")
    func sessionLifetime() async throws {
        let sessions = DashboardSessions(lifetime: .milliseconds(50), capacity: 3)
        let id = sessions.open(secret: "cairn_x", tokenID: "tok_1")
        #expect(sessions.session(id)?.tokenID == "tok_1")
        try await Task.sleep(for: .milliseconds(80))
        #expect(sessions.session(id) == nil)
        let long = DashboardSessions(capacity: 3)
        let ids = (0..<5).map { long.open(secret: "cairn_\($0)", tokenID: "tok_\($0)") }
        #expect(long.count == 3)
        #expect(long.session(ids[4]) != nil && long.session(ids[0]) == nil)
        #expect(Set(ids).count == 5)
    }

    // MARK: - Cross-site requests

    @Test("POSTs whose Origin is not this host, or sent cross-site, are refused")
    func crossSitePosts() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.inProcess { client in
            for headers: HTTPFields in [
                [.origin: "http://evil.example"], [.origin: "null"], [.origin: "http://localhost.evil.example"],
                [.origin: "https://localhost:8443"], [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                [HTTPField.Name("Sec-Fetch-Site")!: "same-site"],
            ] {
                let reply = try await client.signIn("read", headers: headers)
                #expect(reply.code == 403, "\(headers)")
                #expect(reply.headers[.setCookie] == nil, "\(headers)")
                Self.expect(reply.text, contains: "Sign-in refused")
            }
            let same = try await client.signIn(
                "read", headers: [.origin: "http://localhost", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(same.code == 303)
            let cookie = try #require(Self.sessionCookie(same))
            let forged = try await client.send(
                .post, "/ui/sign-out", headers: [.cookie: cookie, .origin: "http://evil.example"])
            #expect(forged.code == 403)
            #expect(forged.headers[.setCookie] == nil)
            #expect(try await client.page("/ui/", cookie).code == 200)
        }
        // Over a real socket, with the Host header the client sends.
        let live = try await ServerFixture(profile: .provenance)
        try await live.live { client in
            let refused = try await client.signIn("read", headers: [.origin: "http://evil.example"])
            #expect(refused.code == 403)
            let accepted = try await client.signIn("read", headers: [.origin: "http://localhost"])
            #expect(accepted.code == 303)
            let cookie = try #require(Self.sessionCookie(accepted))
            let overview = try await client.page("/ui/", cookie)
            #expect(overview.code == 200)
            Self.expectSecurityHeaders(overview, "live overview")
        }
    }
}

extension Client {
    /// `POST /ui/sign-in` with the token of `role` (or `secret`) as a form.
    func signIn(
        _ role: String? = nil, secret: String? = nil, next: String? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        let token = secret ?? role.flatMap { tokens[$0] } ?? ""
        var form = "token=" + token.queryEncoded
        if let next { form += "&next=" + next.queryEncoded }
        return try await send(
            .post, "/ui/sign-in", body: Array(form.utf8), contentType: DashboardRoutesTests.formType, headers: headers)
    }

    /// Signs in with the token of `role` and returns the session cookie (`cairn_session=…`).
    func session(_ role: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let reply = try await signIn(role)
        return try #require(DashboardRoutesTests.sessionCookie(reply), sourceLocation: sourceLocation)
    }

    /// `GET uri` with a session cookie.
    func page(_ uri: String, _ cookie: String) async throws -> Reply {
        try await send(.get, uri, headers: [.cookie: cookie])
    }
}
