import ArgumentParser

// Placeholder, replaced by the server work (issue 6).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the ledger over HTTP.")
}
