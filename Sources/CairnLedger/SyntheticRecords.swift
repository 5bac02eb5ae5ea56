/// Synthetic records for benchmarks and load tests (`cairn bench`, Benchmarks/), deterministic in `n`.
public enum SyntheticRecords {
    /// A generic entry of exactly `size` canonical bytes.
    public static func raw(_ n: Int, size: Int) -> [UInt8] {
        let head = "{\"n\":\(n),\"p\":\""
        let padding = max(0, size - head.utf8.count - 2)
        return bytes(head, padding: padding, with: UInt8(ascii: "x"))
    }

    /// A realistic checkpoint record of about `size` bytes (the prompt is padded).
    public static func checkpoint(_ n: Int, size: Int) -> [UInt8] {
        let hex = String(UInt32(truncatingIfNeeded: n), radix: 16)
        let commit = String(repeating: "0", count: 8 - hex.count) + hex + String(repeating: "9fceb02d", count: 4)
        let base = """
            {"type":"checkpoint","schema":1,"id":"bench-\(n)","timestamp":"2026-11-20T09:14:03Z",\
            "requested_by":"dev\(n % 97)@example.com","tool_path":"agent",\
            "model":{"id":"claude-sonnet-4-5","version":"20250929","provider":"anthropic"},\
            "outputs":[{"repo":"git@example.com:team\(n % 13)/service.git","commit":"\(commit)",\
            "path":"src/module\(n % 211)/file\(n % 1009).ts","ranges":[[\(n % 400 + 1),\(n % 400 + 40)]],\
            "content_hash":"sha256:\(String(repeating: "c", count: 64))","contributor":"ai"}],\
            "session_id":"sess_\(n)","request_id":"req_\(n)","work_item":"PAY-\(n % 5000)",\
            "constraints":["no new dependencies"],"cost":{"input_tokens":4821,"output_tokens":390,"usd":0.0203},\
            "risk":{"security":"low","operational":"medium","compliance":"low"},"prompt":"
            """
        let padding = max(8, size - base.utf8.count - 2)
        return bytes(base, padding: padding, with: UInt8(ascii: "p"))
    }

    /// `head`, `padding` copies of `byte`, then `"}`, built as bytes in one allocation (building
    /// them as a `String` cost more than the benchmark's appends).
    private static func bytes(_ head: String, padding: Int, with byte: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(head.utf8.count + padding + 2)
        out.append(contentsOf: head.utf8)
        out.append(contentsOf: repeatElement(byte, count: padding))
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
        return out
    }
}
