import ArgumentParser

// Placeholders for the network commands (issue 6), each replaced by its own file:
// ServeCommand and TokenCommand (server), ExportCommand (tiles), WitnessCommand (witness),
// SpoolCommand (client). Registered in Cairn.swift.

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the ledger over HTTP.")
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage API tokens.")
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export the log as static files.")
}

struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "witness", abstract: "Run a C2SP tlog witness.")
}

struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spool", abstract: "Inspect and flush the client spool.")
}
