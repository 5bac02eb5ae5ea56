import CairnJSON

/// One line of the working log as the commit hooks read it (specs/capture.md, "The working log").
package struct WorkingEvent: Sendable, Equatable {
    package struct Edit: Sendable, Equatable {
        package var file: String
        package var content: String?
        package var old: String?
        package var new: String?

        /// The lines the agent wrote: a whole file's, or an edit's replacement without the lines it kept from the
        /// text it replaced (context an edit repeats is not new work).
        package var writtenLines: [Substring] {
            var lines = Self.lines(content ?? new ?? "")
            guard content == nil, let old else { return lines }
            var kept: [Substring: Int] = [:]
            for line in Self.lines(old) { kept[line, default: 0] += 1 }
            lines.removeAll { line in
                guard let count = kept[line], count > 0 else { return false }
                kept[line] = count - 1
                return true
            }
            return lines
        }

        static func lines(_ text: String) -> [Substring] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }  // a final line feed ends the last line
            return lines
        }
    }

    /// The line's position in the log.
    package var position: Int
    package var at: String
    package var agent: String
    package var event: String
    package var hook: String
    package var session: String?
    package var model: String?
    package var tool: String?
    package var prompt: String?
    package var message: String?
    package var edits: [Edit]

    /// Parses one working-log line; nil for a line that is not a version-1 event (skipped, never fatal).
    package init?(line: [UInt8], position: Int) {
        guard let value = try? JSONParser.parse(line), let object = value.objectValue,
            object["v"]?.intValue == 1, let at = object["at"]?.stringValue, let agent = object["agent"]?.stringValue,
            let event = object["event"]?.stringValue
        else { return nil }
        self.position = position
        self.at = at
        self.agent = agent
        self.event = event
        hook = object["hook"]?.stringValue ?? event
        session = object["session"]?.stringValue
        model = object["model"]?.stringValue
        tool = object["tool"]?.stringValue
        prompt = object["prompt"]?.stringValue
        message = object["message"]?.stringValue
        edits =
            object["edits"]?.arrayValue?.compactMap { item -> Edit? in
                guard let file = item["file"]?.stringValue, !file.isEmpty else { return nil }
                return Edit(
                    file: file, content: item["content"]?.stringValue, old: item["old"]?.stringValue,
                    new: item["new"]?.stringValue)
            } ?? []
    }

    /// The session the event belongs to; events without one share the agent's anonymous session.
    package var sessionKey: String { session ?? "\(agent):no-session" }
}
