import CairnJSON
import Foundation

// The machine-readable forms of what the spool holds and what a replay did: the documents
// `cairn spool status --json`, `cairn spool dead --json` and `cairn spool flush` print
// (specs/spool.md). They live next to the types, like `AppendReceipt.json`, so that every caller
// prints the same fields.

extension SpoolStatus {
    /// `{"spool","exists","records","bytes","oldest","oldest_age_seconds","dead_letters","servers":[…]}`,
    /// times in RFC 3339 UTC and ages in seconds (to the millisecond) before `now`; absent times
    /// are `null`.
    package func json(now: Date) -> JSONValue {
        func time(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.format($0)) } ?? .null }
        func age(_ date: Date?) -> JSONValue {
            date.map { .number((now.timeIntervalSince($0) * 1000).rounded() / 1000) } ?? .null
        }
        let servers: [JSONValue] = servers.map { server in
            .object([
                "server": .string(server.server.description), "records": .number(Double(server.records)),
                "bytes": .number(Double(server.bytes)), "oldest": time(server.oldest),
                "oldest_age_seconds": age(server.oldest),
                "last_error": server.lastError.map(JSONValue.string) ?? .null,
                "last_error_at": time(server.lastErrorAt), "last_sent_at": time(server.lastSentAt),
            ])
        }
        return .object([
            "spool": .string(directory), "exists": .bool(exists), "records": .number(Double(records)),
            "bytes": .number(Double(bytes)), "oldest": time(oldest), "oldest_age_seconds": age(oldest),
            "dead_letters": .number(Double(deadLetters)), "servers": .array(servers),
        ])
    }
}

extension DeadLetter {
    /// The record as a JSON value: it was canonical JSON when it was spooled, but a damaged or
    /// foreign spool may hold other bytes, which are then shown as a string.
    package var recordValue: JSONValue {
        (try? JSONParser.parse(record.bytes)) ?? .string(String(decoding: record.bytes, as: UTF8.self))
    }

    /// `{"sequence","server","spooled_at","refused_at","status","error","message","problems","record"}`.
    package var json: JSONValue {
        .object([
            "sequence": .uint(sequence), "server": .string(server.description),
            "spooled_at": .string(RFC3339.format(spooledAt)), "refused_at": .string(RFC3339.format(refusedAt)),
            "status": status.map { .number(Double($0)) } ?? .null, "error": code.map(JSONValue.string) ?? .null,
            "message": .string(message), "problems": .array(problems.map(\.recordJSON)), "record": recordValue,
        ])
    }
}

extension Problem {
    /// `{"code","message","path"?}`: a problem of one record, without the line and column, which
    /// are positions in the request that carried it and mean nothing to whoever reads the spool.
    package var recordJSON: JSONValue {
        var object: JSONObject = ["code": .string(code), "message": .string(message)]
        if let path { object["path"] = .string(path) }
        return .object(object)
    }
}

extension SubmitEvent {
    /// The line `cairn spool flush` prints for a spooled record the replay handled:
    /// `{"sequence","index","digest","duplicate"}` once the server acknowledged it, or
    /// `{"sequence","digest","dead_letter":true,"message","problems","error"?}` once it was moved to
    /// the dead letters; `nil` for the other events.
    package var flushJSON: JSONValue? {
        switch self {
        case .flushed(let spooled, let receipt):
            return .object([
                "sequence": .uint(spooled.sequence), "index": .uint(receipt.index),
                "digest": .string(receipt.digest), "duplicate": .bool(receipt.duplicate),
            ])
        case .deadLettered(let spooled, let problems, let error):
            var line: JSONObject = [
                "sequence": .uint(spooled.sequence), "digest": .string(spooled.record.digest.description),
                "dead_letter": .bool(true), "message": .string(error.message),
                "problems": .array(problems.map(\.recordJSON)),
            ]
            if let code = error.code { line["error"] = .string(code) }
            return .object(line)
        case .appended, .rejected, .spooled, .retrying, .warning:
            return nil
        }
    }
}
