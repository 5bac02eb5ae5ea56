import CairnCrypto
import CairnJSON
import CairnNote
import CairnRecords

// The machine-readable forms of the audits' and report verification's results: what
// `cairn audit … --json` and `cairn report verify --json` print (docs/auditors-guide.md). They live
// next to the results so that every caller (the CLI today) prints the same fields.

extension MissingCheckpointAudit {
    /// `{"range","mode","tree_size","commits_examined","commits_with_trailers","missing":[{commit,
    /// date, author, subject, trailers, problems}]}` for a result of this audit; the range is
    /// `HEAD` when none was given, the mode `all` or `ai-only`.
    package func json(_ result: MissingCheckpointResult) -> JSONValue {
        .object([
            "range": .string(range ?? "HEAD"), "mode": .string(aiOnly ? "ai-only" : "all"),
            "tree_size": .uint(result.treeSize), "commits_examined": .number(Double(result.commitsExamined)),
            "commits_with_trailers": .number(Double(result.commitsWithTrailers)),
            "missing": .array(
                result.listed.map { item in
                    .object([
                        "commit": .string(item.commit.id), "date": .string(item.commit.authorDate),
                        "author": .string(item.commit.author), "subject": .string(item.commit.subject),
                        "trailers": .array(item.commit.checkpointTrailers.map { .string($0) }),
                        "problems": .array(item.problems.map(\.json)),
                    ])
                }),
        ])
    }
}

extension MissingProblem {
    /// `{"kind","explanation"}` and the problem's own fields: `trailer`, `index`, `type`,
    /// `covered_by`.
    package var json: JSONValue {
        var object: JSONObject = ["kind": .string(kind), "explanation": .string(explanation)]
        switch self {
        case .noCheckpoint:
            break
        case .unknownRecord(let trailer):
            object["trailer"] = .string(trailer)
        case .notACheckpoint(let trailer, let index, let type):
            object["trailer"] = .string(trailer)
            object["index"] = .uint(index)
            object["type"] = .string(type)
        case .notCovering(let trailer, let index, let coveredBy):
            object["trailer"] = .string(trailer)
            object["index"] = .uint(index)
            object["covered_by"] = .array(coveredBy.map { .uint($0) })
        }
        return .object(object)
    }
}

extension Finding {
    /// `{"kind","index","digest","checkpoint"?,"explanation"}`.
    package var json: JSONValue {
        var object: JSONObject = [
            "kind": .string(kind.rawValue), "index": .uint(index), "digest": .string(digest.description),
        ]
        if let checkpoint { object["checkpoint"] = .uint(checkpoint) }
        object["explanation"] = .string(explanation)
        return .object(object)
    }
}

extension CompletenessSummary {
    /// The members that follow `"findings"` in `cairn audit completeness --json`, as one object:
    /// `{"examined":{checkpoints, deploys, corrections, without_append_time},
    /// "max_clock_skew_seconds", "sensitive_paths"?, "min_evidence_grade"?,
    /// "summary":{<kind>:{found, allowed, exceeded}}, "passed"}`, every kind the policy checks
    /// present (`weak_evidence_on_sensitive_path`, `sensitive_paths` and `min_evidence_grade` only
    /// when the policy sets the evidence members), `allowed` null for a kind the policy does not limit.
    package var json: JSONValue {
        var summary = JSONObject()
        for kind in policy.checkedKinds {
            let tolerance = policy.tolerance(for: kind)
            summary[kind.rawValue] = .object([
                "found": .number(Double(count(kind))),
                "allowed": tolerance.map { .number(Double($0)) } ?? .null,
                "exceeded": .bool(exceeded.contains(kind)),
            ])
        }
        var object: JSONObject = [
            "examined": .object([
                "checkpoints": .uint(checkpoints), "deploys": .uint(deploys), "corrections": .uint(corrections),
                "without_append_time": .uint(withoutAppendTime),
            ]),
            "max_clock_skew_seconds": .number(Double(policy.maxClockSkewSeconds)),
        ]
        if let evidence = policy.evidence {
            object["sensitive_paths"] = .array(evidence.sensitivePaths.map { .string($0) })
            object["min_evidence_grade"] = .string(evidence.minimumGrade.rawValue)
        }
        object["summary"] = .object(summary)
        object["passed"] = .bool(passed)
        return .object(object)
    }
}

extension ReportVerification {
    /// `{"valid":true,"format","version","since","until","rows","bytes","sha256","origin",
    /// "tree_size","root_hash","recomputed"}`: what the manifest states and the check established.
    package var json: JSONValue {
        let checkpoint = manifest.checkpoint.checkpoint
        return .object([
            "valid": true, "format": .string(manifest.query.format.rawValue),
            "version": .number(Double(manifest.query.version)),
            "since": manifest.query.since.map { .string(Timestamp.format($0)) } ?? .null,
            "until": manifest.query.until.map { .string(Timestamp.format($0)) } ?? .null,
            "rows": .uint(manifest.rows), "bytes": .uint(manifest.byteCount), "sha256": .string(manifest.sha256.hex),
            "origin": .string(checkpoint.origin), "tree_size": .uint(checkpoint.size),
            "root_hash": .string(checkpoint.rootHash.base64), "recomputed": .bool(recomputed),
        ])
    }
}

extension ReportVerificationError {
    /// `{"valid":false,"code","reason"}`.
    package var json: JSONValue {
        .object(["valid": false, "code": .string(code.rawValue), "reason": .string(message)])
    }
}
