import ArgumentParser
import CairnJSON
import CairnLedger
import CairnObjectStore
import CairnProofs
import CairnRecords
import CairnStorage
import Foundation

/// Exit statuses, from sysexits(3) where one fits. Documented in `cairn --help`.
enum ExitStatus: Int32 {
    case verificationFailed = 1
    case usage = 64
    case dataError = 65
    case notFound = 66
    case software = 70
    case cannotCreate = 73
    case ioError = 74
    case temporaryFailure = 75
    case noPermission = 77
}

/// A failure the CLI reports as one line on stderr and an exit status.
struct CLIError: Error {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        // Messages quote file names, record content and server replies: shown escaped, a control
        // or bidirectional character in them cannot rewrite the terminal.
        self.message = DisplayText.escape(message)
    }
}

extension CLIError {
    /// Maps library errors onto exit statuses.
    init(_ error: any Error) {
        switch error {
        case let error as CLIError:
            self = error
        case let error as LedgerError:
            let status: ExitStatus =
                switch error.code {
                case .notALedger, .entryNotFound, .sizeOutOfRange, .checkpointNotPublished: .notFound
                case .alreadyExists: .cannotCreate
                case .unsupportedFormat, .corrupt: .software
                case .invalidOrigin: .usage
                case .signingKeyUnavailable, .readOnly, .sealed: .noPermission
                case .storage, .writerFailed: .ioError
                case .invalidArgument: .usage
                case .blobErased: .notFound
                case .entryTooLarge: .dataError
                }
            self.init(status, error.message)
        case let error as StorageError:
            self.init(.ioError, error.message)
        case let error as ProofError:
            self.init(.verificationFailed, error.message)
        case let error as AppendRejection:
            self.init(.dataError, error.description)
        case let error as IngestBusyError:
            self.init(.temporaryFailure, error.description)
        case let error as S3Error:
            let status: ExitStatus =
                switch error.kind {
                case .invalidLocation, .credentials: .usage
                case .transport: .ioError
                case .status where error.status == 401 || error.status == 403: .noPermission
                case .status where error.isTransient: .temporaryFailure
                case .status: .ioError
                }
            self.init(status, error.message)
        default:
            self.init(.software, "\(error)")
        }
    }
}

/// Runs a command body, turning any error into a one-line message and an exit status.
func runReportingErrors(_ body: () throws -> Void) throws {
    defer { Console.flush() }
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let failure = CLIError(error)
        Console.error("error: " + failure.message)
        throw ExitCode(failure.status.rawValue)
    }
}

/// Runs an async command body, turning any error into a one-line message and an exit status.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    defer { Console.flush() }
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let failure = CLIError(error)
        Console.error("error: " + failure.message)
        throw ExitCode(failure.status.rawValue)
    }
}

/// The `--ledger` option shared by every command that works on a ledger.
struct LedgerLocation: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The ledger directory (default: $CAIRN_LEDGER, else ./cairn-ledger).", valueName: "dir"))
    var ledger: String?

    var directory: String { ledger ?? Self.defaultDirectory }

    /// The ledger when no --ledger is given: $CAIRN_LEDGER, else ./cairn-ledger.
    static var defaultDirectory: String {
        if let env = ProcessInfo.processInfo.environment["CAIRN_LEDGER"], !env.isEmpty { return env }
        return "cairn-ledger"
    }

    func open(readOnly: Bool = false) throws -> Ledger {
        var options = Ledger.OpenOptions()
        options.readOnly = readOnly
        return try Self.open(directory, options: options)
    }

    /// Opens the ledger in `directory`, saying so when the path is a file rather than a ledger
    /// directory (the library's answer, "run `cairn init` first", would mislead).
    static func open(_ directory: String, options: Ledger.OpenOptions = .init()) throws -> Ledger {
        var status = stat()
        if stat(directory, &status) == 0 && status.st_mode & S_IFMT != S_IFDIR {
            throw CLIError(.notFound, "the ledger path \(directory) is a file, not a ledger directory")
        }
        return try Ledger.open(at: directory, options: options)
    }
}

/// Pads cells into aligned columns (the last column is not padded).
func printColumns(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        Console.line(
            row.enumerated().map { i, cell in
                // Padded to the widest cell's count of characters (Foundation's `padding(toLength:)` counted UTF-16
                // units, and cut a cell with characters beyond the BMP short).
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  "))
    }
}

/// Prints a JSON value on one line, with the characters JSON leaves raw that could reorder or
/// break the text on a terminal (bidirectional controls, C1 controls, U+2028, U+2029, DEL) written
/// as `\uXXXX` escapes: the same JSON value.
func printJSON(_ value: JSONValue) {
    Console.line(DisplayText.escapeJSON(JSONWriter.compact(value)))
}

/// Joins the hard-wrapped lines of each prose paragraph of a `discussion:` text into one line, so
/// that ArgumentParser wraps it to the terminal's width instead of breaking our 100-column lines a
/// second time. Indented lines (examples, tables), blank lines, list items ("- ", "* ", "1. ") and
/// all-capital headings keep their own lines.
func prose(_ text: String) -> String {
    // Over UTF-8 bytes: every command's help text goes through this at every start of `cairn` (ArgumentParser builds
    // the whole command tree), and the same logic over `Character`s cost ~3 ms of each start.
    let bytes = Array(text.utf8)
    func isHeading(_ line: ArraySlice<UInt8>) -> Bool {
        guard !line.isEmpty else { return false }
        if line.allSatisfy({ $0 < 0x80 }) {
            return line.allSatisfy { (0x41...0x5A).contains($0) || $0 == 0x20 }
        }
        return String(decoding: line, as: UTF8.self).allSatisfy { $0.isUppercase || $0 == " " }
    }
    func isListItem(_ line: ArraySlice<UInt8>) -> Bool {
        if line.starts(with: "- ".utf8) || line.starts(with: "* ".utf8) { return true }
        let digits = line.prefix { (0x30...0x39).contains($0) }
        return !digits.isEmpty && line.dropFirst(digits.count).starts(with: ". ".utf8)
    }
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    // Whether the previous line was prose (or a list item) that the next unindented line continues.
    var continuable = false
    var first = true
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        let indented = line.first == 0x20
        if continuable && !line.isEmpty && !indented && !isListItem(line) && !isHeading(line) {
            output.append(0x20)
        } else if !first {
            output.append(0x0A)
        }
        output += line
        first = false
        continuable = !line.isEmpty && !indented && !isHeading(line)
    }
    return String(decoding: output, as: UTF8.self)
}
