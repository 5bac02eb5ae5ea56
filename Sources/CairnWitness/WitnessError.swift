/// An error setting up or opening a witness: its directory, keys, configuration or storage.
public struct WitnessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; the raw value is stable.
    public enum Code: String, Sendable, CaseIterable {
        /// `create` was given a directory that exists and is not empty.
        case alreadyExists
        /// The directory does not hold a witness (no key or vkey file).
        case notAWitness
        /// The witness key or vkey file is unreadable, malformed, or the two do not match.
        case invalidKey
        /// The configuration is unusable: no log, a log key of the wrong type, a duplicate.
        case invalidConfiguration
        /// The state database failed.
        case storage
        /// A file could not be read or written.
        case io
    }

    public let code: Code
    /// One line for people.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Why a witness refused an add-checkpoint request. Each code has the HTTP status that
/// c2sp.org/tlog-witness prescribes (``status``).
public struct AddCheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, by the status the specification gives it.
    public enum Code: String, Sendable, CaseIterable {
        /// 400: the body is not an old size line, proof lines, an empty line and a checkpoint.
        case malformed
        /// 400: the old size is larger than the checkpoint's size.
        case oldSizeTooLarge
        /// 403: no signature from a trusted key for the origin, or one that does not verify.
        case forbidden
        /// 404: the witness does not follow a log with this origin.
        case unknownLog
        /// 409: the old size is not the size of the latest checkpoint cosigned for the origin
        /// (``AddCheckpointError/latestSize`` holds that size).
        case conflict
        /// 422: the consistency proof does not verify, a proof from size 0 is not empty, equal
        /// sizes have different roots, or a size-0 checkpoint lacks the empty tree's root.
        case inconsistent
        /// 500: the witness could not store its state or sign.
        case internalError
    }

    public let code: Code
    /// One line for people, sent as the response body.
    public let message: String
    /// For `conflict`: the size of the latest checkpoint the witness cosigned for the origin.
    public let latestSize: UInt64?

    public init(_ code: Code, _ message: String, latestSize: UInt64? = nil) {
        self.code = code
        self.message = message
        self.latestSize = latestSize
    }

    /// The HTTP status code of the response.
    public var status: Int {
        switch code {
        case .malformed, .oldSizeTooLarge: 400
        case .forbidden: 403
        case .unknownLog: 404
        case .conflict: 409
        case .inconsistent: 422
        case .internalError: 500
        }
    }

    public var description: String { "\(status) \(code.rawValue): \(message)" }
}
