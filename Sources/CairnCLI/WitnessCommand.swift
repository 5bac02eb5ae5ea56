import ArgumentParser

// Placeholder, replaced by the witness work (issue 6).
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "witness", abstract: "Run a C2SP tlog witness.")
}
