import ArgumentParser

// Placeholder, replaced by the client work (issue 6).
struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Inspect and flush the client spool.")
}
