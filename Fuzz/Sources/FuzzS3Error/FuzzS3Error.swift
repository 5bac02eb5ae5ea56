// FuzzS3Error: what CairnObjectStore reads from the network or the command line before any request — S3's XML error
// documents (`S3ErrorBody`, shown in messages) and `s3://BUCKET/PREFIX` locations (`S3Location`).
//
// Oracles:
// - any bytes: parsing neither traps nor returns more than 256 characters' worth of code or message, and the text
//   shown (`DisplayText.escape`) holds no character that needs escaping;
// - build → parse: a document built from two strings of the input, escaped as XML, reads back as those strings
//   whenever they fit the 256-byte limit;
// - locations: an accepted location formats (`description`) to text that parses back to the same bucket and prefix,
//   the bucket follows S3's rules, and keys are `PREFIX/` + the path.
import CairnObjectStore
import CairnRecords
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let parsed = S3ErrorBody(parsing: input)
    for field in [parsed.code, parsed.message] {
        guard let field else { continue }
        oracle(field.utf8.count <= 256 * 3, "a field of \(field.utf8.count) bytes came out of an error document")
        oracle(
            !DisplayText.escape(field).unicodeScalars.contains(where: DisplayText.needsEscaping),
            "the shown text still holds a character that needs escaping")
    }
    if let text = String(validating: input, as: UTF8.self) {
        let parts = text.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let code = parts[0]
        let message = parts.count > 1 ? parts[1] : ""
        let document =
            "<?xml version=\"1.0\"?><Error><Code>\(escape(code))</Code><Message>\(escape(message))"
            + "</Message><RequestId>r</RequestId></Error>"
        let back = S3ErrorBody(parsing: Array(document.utf8))
        if escape(code).utf8.count <= 256 {
            oracle(back.code == code, "code \(code.debugDescription) reads back as \(String(describing: back.code))")
        }
        if escape(message).utf8.count <= 256 {
            oracle(back.message == message, "message \(message.debugDescription) reads back differently")
        }
        checkLocation(text)
        checkLocation("s3://" + text)
    }
    return 0
}

private func escape(_ text: String) -> String {
    var out = ""
    for c in text.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

private func checkLocation(_ text: String) {
    guard let location = try? S3Location(text) else { return }
    let bucket = location.bucket.utf8
    oracle((3...63).contains(bucket.count), "bucket \(location.bucket.debugDescription) has a bad length")
    oracle(
        bucket.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D },
        "bucket \(location.bucket.debugDescription) has a character S3 refuses")
    oracle(!location.prefix.hasPrefix("/") && !location.prefix.hasSuffix("/"), "the prefix keeps an end slash")
    let again = try? S3Location(location.description)
    oracle(again == location, "\(location.description) does not parse back to the same location")
    let key = location.key("checkpoint")
    oracle(key == (location.prefix.isEmpty ? "checkpoint" : location.prefix + "/checkpoint"), "key \(key) is wrong")
}

private func seeds() -> [[UInt8]] {
    [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket "
            + "does not exist</Message><BucketName>x</BucketName></Error>",
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.\u{1B}[2K &amp; &lt;b&gt;</Message>",
        "s3://cairn-tiles/log/", "s3://my.bucket.example/a/b/c", "AccessDenied\u{0}Access Denied",
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzS3Error_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
