import ArgumentParser

// Placeholder, replaced by the tiles work (issue 6).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export the log as static files.")
}
