import Foundation
import Testing

/// Go and `golang.org/x/mod` (Debian's golang-go and golang-golang-x-mod-dev), the independent
/// implementation the interop tests check Cairn against.
package enum GoToolchain {
    /// Where Debian installs golang.org/x/mod's sources: the GOPATH the interop programs run with.
    package static let gopath = "/usr/share/gocode"

    /// The environment for `go run` of a program under Tests/Interop: GOPATH mode over Debian's
    /// sources, with its own build cache.
    package static func environment(cache: String) -> [String: String] {
        ["GO111MODULE": "off", "GOPATH": gopath, "GOCACHE": cache, "GOFLAGS": ""]
    }

    /// The `go` binary when Go and `golang.org/x/mod/sumdb/tlog` are installed. Otherwise nil after
    /// printing why `test` is skipped; under CAIRN_REQUIRE_INTEROP=1 (CI) the skip is also recorded
    /// as a test failure.
    package static func binaryOrSkip(_ test: String) -> String? {
        if let go = binary(), FileManager.default.fileExists(atPath: gopath + "/src/golang.org/x/mod/sumdb/tlog") {
            return go
        }
        let message = "\(test) skipped: install golang-go and golang-golang-x-mod-dev (make interop-deps)"
        if ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" {
            Issue.record(Comment(rawValue: message + " — CAIRN_REQUIRE_INTEROP=1 requires it"))
        }
        print(message)
        return nil
    }

    private static func binary() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/go"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
