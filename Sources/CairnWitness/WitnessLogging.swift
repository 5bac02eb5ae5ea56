import Logging

/// Loggers for the `cairn witness` commands, which have no logging configuration of their own.
public enum WitnessLogging {
    /// A logger writing to standard error: info and above, or everything down to debug when
    /// `verbose`.
    public static func standardError(label: String, verbose: Bool = false) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .info
        return logger
    }
}
