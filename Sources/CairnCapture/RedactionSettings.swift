import CairnJSON
import CairnRedaction

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository's redaction choices, `<git dir>/cairn/redaction.json` (specs/capture.md, "Redaction choices"),
/// which `cairn hooks install --redact-personal-data` writes and every capture reads: one `open` of a small file,
/// no git config and no subprocess, so that capture stays within its budget.
package enum RedactionSettings {
    package static let fileName = "redaction.json"

    /// What `cairn hooks install --redact-personal-data` writes.
    package static let personalDataOn: [UInt8] = Array(#"{"personal_data": true}"#.utf8) + [UInt8(ascii: "\n")]

    package static func path(_ repository: CaptureRepository) -> String {
        repository.cairnDirectory + "/" + fileName
    }

    /// Whether text captured in `repository` also goes through the personal-data pass: when the file is there,
    /// unless it is a JSON object whose `personal_data` is `false`. A file that cannot be read or parsed (even an
    /// empty one) turns the pass on: a damaged choice errs toward privacy. No file: off.
    package static func personalData(in repository: CaptureRepository) -> Bool {
        let fd = open(path(repository), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno != ENOENT && errno != ENOTDIR }
        defer { close(fd) }
        guard let bytes = POSIX.readAll(fd, limit: 4096), bytes.count <= 4096,
            let object = (try? JSONParser.parse(bytes))?.objectValue
        else { return true }
        return object["personal_data"] != .bool(false)
    }

    /// The options of the redactor for text captured in `repository` (its key is the working log's).
    package static func options(for repository: CaptureRepository) -> Redactor.Options {
        var options = Redactor.Options()
        options.personalData = personalData(in: repository)
        return options
    }
}
