import Foundation

/// Which API token a client sends: given directly, read from a file, or taken from the
/// environment.
package enum APIToken {
    /// The token from, in this order: `token` (`--token`); the first line of `tokenFile`
    /// (`--token-file`), else of `$CAIRN_TOKEN_FILE`; else `$CAIRN_TOKEN`. Empty environment
    /// variables count as unset. `nil` when none is given: requests go without `Authorization`.
    ///
    /// The first line of a token file is trimmed of spaces and tabs (a file written by `echo` or
    /// an editor ends in a newline). `readFile` reads a file whole; its errors are thrown as they
    /// are, so the caller can report a missing file in its own terms.
    ///
    /// - Throws: `ClientError` `.invalidArgument` when the token file's first line is empty or the
    ///   token is not usable in an `Authorization` header (`HTTPLedgerClient.validate(token:)`).
    package static func resolve(
        token: String?, tokenFile: String?, environment: [String: String],
        readFile: (String) throws -> [UInt8]
    ) throws -> String? {
        var value: String?
        if let token {
            value = token
        } else if let file = tokenFile ?? environment["CAIRN_TOKEN_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let bytes = try readFile(file)
            value = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard value?.isEmpty == false else { throw ClientError(.invalidArgument, "token file \(file) is empty") }
        } else if let variable = environment["CAIRN_TOKEN"], !variable.isEmpty {
            value = variable
        }
        if let value { try HTTPLedgerClient.validate(token: value) }
        return value
    }
}
