import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// Every route with every role, over a real socket: who is let in (not 401/403) and who is
/// refused, with or without `public_reads`.
@Suite("Authentication and roles")
struct AuthorizationTests {
    /// One request per route (a body for the POSTs).
    struct Probe: Sendable {
        let method: HTTPRequest.Method
        let uri: String
        let role: TokenRole?
        let body: [UInt8]?
        let contentType: String?
        /// Served without a token when public reads are on.
        let transparency: Bool
    }

    static func probes(index: Int) -> [Probe] {
        [
            Probe(
                method: .post, uri: "/v1/entries", role: .append, body: Array(note("probe").utf8),
                contentType: "application/json", transparency: false),
            Probe(
                method: .post, uri: "/v1/blobs", role: .append, body: Array("payload".utf8), contentType: "text/plain",
                transparency: false),
            Probe(
                method: .get, uri: "/v1/entries/\(index)", role: .read, body: nil, contentType: nil, transparency: false
            ),
            Probe(
                method: .get, uri: "/v1/records/\(index)", role: .read, body: nil, contentType: nil, transparency: false
            ),
            Probe(
                method: .get, uri: "/v1/blobs/sha256:\(String(repeating: "0", count: 64))", role: .read, body: nil,
                contentType: nil, transparency: false),
            Probe(method: .get, uri: "/checkpoint", role: .read, body: nil, contentType: nil, transparency: true),
            Probe(
                method: .get, uri: "/v1/proof/inclusion?entry=\(index)", role: .read, body: nil, contentType: nil,
                transparency: true),
            Probe(
                method: .get, uri: "/v1/proof/consistency?old=0", role: .read, body: nil, contentType: nil,
                transparency: true),
            Probe(method: .get, uri: "/tile/0/000.p/1", role: .read, body: nil, contentType: nil, transparency: true),
            // Entry bundles are record contents: never public.
            Probe(
                method: .get, uri: "/tile/entries/000.p/1", role: .read, body: nil, contentType: nil,
                transparency: false),
            Probe(
                method: .get, uri: "/v1/access-log/checkpoint", role: .audit, body: nil, contentType: nil,
                transparency: false),
            Probe(
                method: .get, uri: "/v1/access-log/entries/0", role: .audit, body: nil, contentType: nil,
                transparency: false),
            Probe(
                method: .get, uri: "/v1/access-log/query", role: .audit, body: nil, contentType: nil,
                transparency: false),
            Probe(
                method: .get, uri: "/v1/access-log/proof/inclusion?entry=0", role: .audit, body: nil, contentType: nil,
                transparency: false),
            Probe(
                method: .get, uri: "/v1/access-log/proof/consistency?old=0", role: .audit, body: nil, contentType: nil,
                transparency: false),
            Probe(method: .get, uri: "/metrics", role: .metrics, body: nil, contentType: nil, transparency: false),
        ]
    }

    /// Whether a token with `held` may call a route needing `needed`.
    static func grants(_ held: TokenRole, _ needed: TokenRole) -> Bool {
        held == needed || held == .admin || (needed == .read && held == .audit)
    }

    @Test(
        "every route: 401 without a token or with a bad one, 403 with the wrong role, let in with the right one",
        arguments: [false, true])
    func matrix(publicReads: Bool) async throws {
        let fixture = try await ServerFixture { $0.publicReads = publicReads }
        try await fixture.live { client in
            try await client.append([note("zero")])
            // The access log needs an entry for /v1/access-log/entries/0 and its proofs.
            _ = try await client.get("/v1/entries/0", as: "read")
            for probe in Self.probes(index: 0) {
                let what = "\(probe.method) \(probe.uri) (public reads \(publicReads))"
                let anonymous = try await client.send(
                    probe.method, probe.uri, body: probe.body, contentType: probe.contentType)
                if publicReads && probe.transparency {
                    #expect(anonymous.code == 200, "\(what) anonymous: \(anonymous.text)")
                } else {
                    #expect(anonymous.code == 401, "\(what) anonymous")
                    #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(what)")
                    if probe.role != nil && probe.uri != "/tile/0/000.p/1" {
                        #expect(anonymous.error == "unauthorized", "\(what)")
                    }
                }
                let bogus = try await client.send(
                    probe.method, probe.uri, as: "bogus", body: probe.body, contentType: probe.contentType)
                #expect(bogus.code == 401, "\(what) with an unknown token")
                #expect(bogus.headers[.wwwAuthenticate]?.contains("invalid_token") == true, "\(what)")
                for held in TokenRole.allCases {
                    let reply = try await client.send(
                        probe.method, probe.uri, as: held.rawValue, body: probe.body, contentType: probe.contentType)
                    if Self.grants(held, probe.role!) {
                        #expect(
                            reply.code != 401 && reply.code != 403, "\(what) as \(held): \(reply.code) \(reply.text)")
                        #expect(reply.code < 500, "\(what) as \(held): \(reply.text)")
                    } else {
                        #expect(reply.code == 403, "\(what) as \(held): \(reply.code)")
                        #expect(reply.error == "forbidden", "\(what) as \(held)")
                    }
                }
            }
            // The query route (provenance only) still authenticates before anything else.
            #expect(try await client.get("/v1/query").code == 401)
            #expect(try await client.get("/v1/query", as: "append").code == 403)
            // Record contents are never public, whatever the configuration.
            #expect(try await client.get("/v1/entries/0").code == 401)
            #expect(try await client.get("/v1/blobs/sha256:\(String(repeating: "0", count: 64))").code == 401)
            // Health is always public.
            let health = try await client.get("/healthz")
            #expect(health.code == 200)
            #expect(health.json["tree_size"]?.intValue ?? 0 >= 1)
        }
    }

    @Test("a malformed Authorization header is 401, a revoked token is refused at its next request")
    func revocation() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let malformed = try await client.get("/checkpoint", headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(malformed.code == 401)
            #expect(malformed.error == "unauthorized")
            #expect(try await client.get("/checkpoint", as: "read").code == 200)
            try await fixture.server.tokens.revoke(
                id: fixture.tokenIDs["read"]!, at: "2026-01-02T00:00:00Z", using: fixture.server.engine)
            let revoked = try await client.get("/checkpoint", as: "read")
            #expect(revoked.code == 401)
            #expect(revoked.error == "unauthorized")
        }
    }

    @Test("/metrics is public only with public_metrics")
    func publicMetrics() async throws {
        let fixture = try await ServerFixture { $0.publicMetrics = true }
        try await fixture.live { client in
            let reply = try await client.get("/metrics")
            #expect(reply.code == 200)
            #expect(try await client.get("/v1/access-log/checkpoint").code == 401)
        }
    }
}
