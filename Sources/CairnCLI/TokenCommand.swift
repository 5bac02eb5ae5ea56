import ArgumentParser

// Placeholder, replaced by the server work (issue 6).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage API tokens.")
}
