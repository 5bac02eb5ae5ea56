import CairnJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mirror's state file, `.cairn-mirror/state.json` (specs/mirror.md §1.2): which checkpoint the directory
/// serves, and which one is being installed.
///
/// A value type. The checkpoints are kept as the notes' exact text (what the log served, cosignatures included), so
/// that they can be verified again and handed to anyone as evidence.
package struct MirrorState: Sendable, Equatable {
    /// The `format` member this version writes and reads.
    package static let format = "cairn-mirror-state/v1"
    /// The largest state file read.
    static let maxBytes = 1 << 20

    /// A bundle the log does not serve (HTTP 501: an entry over 65,535 bytes, specs/tiles.md §5).
    package struct UnservableBundle: Sendable, Equatable, Hashable {
        package let path: String
        package let reason: String

        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// The log's URL prefix of the last round.
    package var url: String
    /// The checkpoints' origin (the vkey's name unless `--origin` said otherwise).
    package var origin: String
    /// The checkpoint the directory serves, verified, with all of its tiles in place; nil before the first round
    /// completes.
    package var checkpoint: String?
    /// A newer checkpoint, verified and consistent with `checkpoint`, whose tiles are being written; nil between
    /// rounds. A mirror stopped mid-round leaves it, and the next round checks the log's checkpoint against it too.
    package var pending: String?
    /// When `checkpoint` was last verified against the log (RFC 3339, UTC).
    package var verifiedAt: String?
    /// Bundles not served by the log.
    package var unservableBundles: [UnservableBundle] = []

    package init(url: String, origin: String) {
        self.url = url
        self.origin = origin
    }

    /// Parses a state file. Throws `.invalidState` naming what is wrong.
    package init(parsing bytes: [UInt8], path: String) throws(MirrorError) {
        func invalid(_ why: String) -> MirrorError {
            MirrorError(.invalidState, "\(path) is not a mirror state file: \(why)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw invalid("\(error)")
        }
        guard let object = value.objectValue else { throw invalid("expected a JSON object") }
        guard object["format"]?.stringValue == Self.format else {
            throw invalid("\"format\" is not \"\(Self.format)\" (written by another version of cairn?)")
        }
        guard let url = object["url"]?.stringValue, let origin = object["origin"]?.stringValue, !origin.isEmpty else {
            throw invalid("\"url\" and \"origin\" must be strings")
        }
        self.url = url
        self.origin = origin
        func optionalString(_ key: String) throws(MirrorError) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw invalid("\"\(key)\" must be a string or null")
            }
        }
        checkpoint = try optionalString("checkpoint")
        pending = try optionalString("pending")
        verifiedAt = try optionalString("verified_at")
        for item in object["unservable_entry_bundles"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue, let reason = item["reason"]?.stringValue else {
                throw invalid("\"unservable_entry_bundles\" must hold {\"path\", \"reason\"} objects")
            }
            unservableBundles.append(UnservableBundle(path: path, reason: reason))
        }
    }

    /// The file's bytes: one JSON object, members in a fixed order, and a newline.
    package var serialized: [UInt8] {
        let object: JSONObject = [
            "format": .string(Self.format),
            "url": .string(url),
            "origin": .string(origin),
            "checkpoint": checkpoint.map { .string($0) } ?? .null,
            "pending": pending.map { .string($0) } ?? .null,
            "verified_at": verifiedAt.map { .string($0) } ?? .null,
            "unservable_entry_bundles": .array(
                unservableBundles.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
        ]
        return JSONWriter.prettyBytes(.object(object)) + [0x0a]
    }
}

/// `2026-12-10T09:30:00Z`: a POSIX time in seconds as RFC 3339 UTC.
package func rfc3339(_ seconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
        + "\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
}

/// The current POSIX time in seconds.
package func currentTime() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec)
}
