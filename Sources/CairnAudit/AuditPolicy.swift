import CairnJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kinds of finding `cairn audit completeness` reports.
public enum FindingKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A checkpoint that no review names.
    case unreviewedCheckpoint = "unreviewed_checkpoint"
    /// A deploy before the checkpoint's first approving review, or of a checkpoint never approved.
    case approvalAfterDeploy = "approval_after_deploy"
    /// A deploy with no passed test of the checkpoint before it.
    case deployWithoutTests = "deploy_without_tests"
    /// A checkpoint whose model has a release date but no exact version.
    case missingModelVersion = "missing_model_version"
    /// A correction whose reason is shorter than the policy's minimum.
    case shortCorrectionReason = "short_correction_reason"
    /// A review by the person who requested the change (`reviewer` equal, byte for byte, to the
    /// checkpoint's `requested_by`).
    case selfReview = "self_review"
    /// A review, test, deploy or rollback dated (`at`) before the checkpoint it is about (`timestamp`).
    case datedBeforeSubject = "dated_before_subject"
    /// An entry dated (`timestamp` or `at`) further after the time the ledger appended it than the
    /// policy's clock skew allows: a claim about the future.
    case datedAfterAppend = "dated_after_append"
    /// A checkpoint with an output on a path the policy calls sensitive (`sensitive_paths`) whose
    /// evidence grade (`x_capture.grade`) is below the policy's `min_evidence_grade`. Checked only
    /// when the policy sets both members.
    case weakEvidenceOnSensitivePath = "weak_evidence_on_sensitive_path"

    public static func < (a: FindingKind, b: FindingKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How a claim was captured: the checkpoint's `x_capture.grade` (specs/capture.md). The cases are
/// declared strongest first, and `Comparable` orders them by strength: `unknown < inferred <
/// attested < trailer < import < hook`, so `grade < minimum` means "weaker than the minimum".
/// specs/audit-policy.md ("Evidence grades") gives the reason for the order.
public enum EvidenceGrade: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Recorded by the agent's or git's hook (Cairn's capture) as the change happened.
    case hook
    /// Imported from another tool's capture (git-ai notes, Agent Trace).
    case `import`
    /// Inferred from a commit trailer.
    case trailer
    /// A person's declaration (`cairn attest`).
    case attested
    /// Guessed after the fact.
    case inferred
    /// No `x_capture.grade`, or a value that is none of the above (records appended by hand).
    case unknown

    /// The grade a record claims: its `x_capture.grade` when that is one of the grade names
    /// (exactly: no case folding), otherwise `unknown`.
    public init(record: JSONValue) {
        self = record["x_capture"]?["grade"]?.stringValue.flatMap(EvidenceGrade.init(rawValue:)) ?? .unknown
    }

    /// Weaker than: `a < b` when `a` comes after `b` in the strongest-first declaration order.
    public static func < (a: EvidenceGrade, b: EvidenceGrade) -> Bool {
        allCases.firstIndex(of: a)! > allCases.firstIndex(of: b)!
    }
}

/// The paths whose changes need strong evidence, and the weakest evidence grade accepted for them:
/// the policy's `sensitive_paths` and `min_evidence_grade`, which go together.
public struct EvidenceRequirement: Sendable, Hashable {
    /// `fnmatch(3)` globs without `FNM_PATHNAME`: `*` and `?` match `/` too.
    public var sensitivePaths: [String]
    /// Outputs on a sensitive path need at least this grade; never `unknown`.
    public var minimumGrade: EvidenceGrade

    public init(sensitivePaths: [String], minimumGrade: EvidenceGrade) {
        self.sensitivePaths = sensitivePaths
        self.minimumGrade = minimumGrade
    }

    /// The first glob `path` matches (`fnmatch` with no flags: `*` crosses `/`, a leading `.` is
    /// not special, `\` quotes the next character), or nil when the path is not sensitive.
    public func sensitiveGlob(matching path: String) -> String? {
        sensitivePaths.first { fnmatch($0, path, 0) == 0 }
    }
}

/// How many findings of each kind an audit tolerates, and the thresholds of the checks.
/// The file format is specified in specs/audit-policy.md.
public struct AuditPolicy: Sendable, Hashable {
    /// The value of the policy file's `format` member.
    public static let formatName = "cairn-audit-policy/v1"

    /// The most findings of each kind that still pass; a kind absent from the map tolerates
    /// none, and `nil` tolerates any number (the findings are still listed).
    public var maxFindings: [FindingKind: Int?]
    /// Correction reasons with fewer characters than this (after trimming white space) are
    /// findings.
    public var minCorrectionReasonLength: Int
    /// When non-nil, only deploys to these environments are checked for approval and tests.
    public var deployEnvironments: Set<String>?
    /// How many seconds an entry's claimed time (`timestamp` or `at`) may be after the time the
    /// ledger appended it before it is a `dated_after_append` finding: the producers' clocks may run
    /// this much ahead of the ledger's.
    public var maxClockSkewSeconds: Int
    /// When non-nil, checkpoints touching a sensitive path with evidence below the minimum grade
    /// are `weak_evidence_on_sensitive_path` findings; when nil, that check does not run.
    public var evidence: EvidenceRequirement?

    /// The default `maxClockSkewSeconds`: five minutes.
    public static let defaultMaxClockSkewSeconds = 300

    /// The built-in policy: zero tolerance for every kind, reasons of at least 10 characters,
    /// every environment checked, five minutes of clock skew.
    public static let strict = AuditPolicy(maxFindings: [:], minCorrectionReasonLength: 10, deployEnvironments: nil)

    public init(
        maxFindings: [FindingKind: Int?], minCorrectionReasonLength: Int, deployEnvironments: Set<String>?,
        maxClockSkewSeconds: Int = AuditPolicy.defaultMaxClockSkewSeconds, evidence: EvidenceRequirement? = nil
    ) {
        self.maxFindings = maxFindings
        self.minCorrectionReasonLength = minCorrectionReasonLength
        self.deployEnvironments = deployEnvironments
        self.maxClockSkewSeconds = maxClockSkewSeconds
        self.evidence = evidence
    }

    /// The kinds of finding the audit checks under this policy, in `FindingKind` order: every kind,
    /// except `weak_evidence_on_sensitive_path` when the policy sets no `evidence`. Summaries list
    /// these kinds only, so a policy without the evidence members gives the same output as before
    /// the check existed.
    public var checkedKinds: [FindingKind] {
        FindingKind.allCases.filter(checks)
    }

    /// Whether the audit checks `kind` under this policy.
    public func checks(_ kind: FindingKind) -> Bool {
        kind != .weakEvidenceOnSensitivePath || evidence != nil
    }

    /// How many findings of `kind` pass: `nil` for any number.
    public func tolerance(for kind: FindingKind) -> Int? {
        if let entry = maxFindings[kind] { return entry }
        return 0
    }

    /// Whether deploys to `environment` are checked.
    public func checks(environment: String?) -> Bool {
        guard let deployEnvironments else { return true }
        return environment.map(deployEnvironments.contains) ?? false
    }

    /// Parses a policy file's bytes. Strict: unknown members are errors, so that a misspelled
    /// kind cannot silently tolerate nothing or everything.
    ///
    /// - Parameter source: the file name, for messages.
    public init(json bytes: [UInt8], source: String) throws(AuditError) {
        func fail(_ message: String) -> AuditError {
            AuditError(.invalidPolicy, "policy \(source): \(message)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw fail("not JSON: \(error.description)")
        }
        guard let object = value.objectValue else { throw fail("expected a JSON object") }
        let known = [
            "format", "max_findings", "min_correction_reason_length", "deploy_environments", "max_clock_skew_seconds",
            "sensitive_paths", "min_evidence_grade",
        ]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw fail("unknown member \(unknown.debugDescription) (known: \(known.joined(separator: ", ")))")
        }
        guard object["format"]?.stringValue == Self.formatName else {
            throw fail("\"format\" must be \"\(Self.formatName)\"")
        }
        var maxFindings: [FindingKind: Int?] = [:]
        if let limits = object["max_findings"] {
            guard let limits = limits.objectValue else { throw fail("\"max_findings\" must be an object") }
            for (key, limit) in limits {
                guard let kind = FindingKind(rawValue: key) else {
                    throw fail(
                        "max_findings: unknown finding kind \(key.debugDescription) (kinds: "
                            + FindingKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                if limit.isNull {
                    maxFindings[kind] = .some(nil)
                } else if let count = Self.count(limit) {
                    maxFindings[kind] = count
                } else {
                    throw fail("max_findings.\(key) must be a non-negative integer or null, found \(limit)")
                }
            }
        }
        var minimum = 10
        if let value = object["min_correction_reason_length"] {
            guard let count = Self.count(value) else {
                throw fail("\"min_correction_reason_length\" must be a non-negative integer, found \(value)")
            }
            minimum = count
        }
        var environments: Set<String>?
        if let value = object["deploy_environments"] {
            guard let list = value.arrayValue, !list.isEmpty,
                case let names = list.compactMap(\.stringValue), names.count == list.count,
                names.allSatisfy({ !$0.isEmpty })
            else {
                throw fail("\"deploy_environments\" must be a non-empty array of environment names")
            }
            environments = Set(names)
        }
        var skew = Self.defaultMaxClockSkewSeconds
        if let value = object["max_clock_skew_seconds"] {
            guard let count = Self.count(value) else {
                throw fail("\"max_clock_skew_seconds\" must be a non-negative integer, found \(value)")
            }
            skew = count
        }
        var globs: [String]?
        if let value = object["sensitive_paths"] {
            guard let list = value.arrayValue, !list.isEmpty else {
                throw fail("\"sensitive_paths\" must be a non-empty array of glob strings")
            }
            globs = try list.enumerated().map { (position, item) throws(AuditError) in
                // fnmatch reads C strings: a NUL would cut the glob short.
                guard let glob = item.stringValue, !glob.isEmpty, !glob.utf8.contains(0) else {
                    throw fail(
                        "sensitive_paths[\(position)] must be a non-empty glob string without NUL, found \(item)")
                }
                return glob
            }
        }
        var grade: EvidenceGrade?
        if let value = object["min_evidence_grade"] {
            let names = EvidenceGrade.allCases.filter { $0 != .unknown }.map(\.rawValue)
            guard let name = value.stringValue, let parsed = EvidenceGrade(rawValue: name), parsed != .unknown else {
                throw fail(
                    "\"min_evidence_grade\" must be one of \(names.joined(separator: ", ")) (strongest first), "
                        + "found \(value)")
            }
            grade = parsed
        }
        var evidence: EvidenceRequirement?
        switch (globs, grade) {
        case (let globs?, let grade?):
            evidence = EvidenceRequirement(sensitivePaths: globs, minimumGrade: grade)
        case (.some, nil):
            throw fail("\"sensitive_paths\" needs \"min_evidence_grade\" (the two go together)")
        case (nil, .some):
            throw fail("\"min_evidence_grade\" needs \"sensitive_paths\" (the two go together)")
        case (nil, nil):
            break
        }
        self.init(
            maxFindings: maxFindings, minCorrectionReasonLength: minimum, deployEnvironments: environments,
            maxClockSkewSeconds: skew, evidence: evidence)
    }

    /// A non-negative integer: any the JSON parser accepts (it refuses integers beyond 2^53 - 1,
    /// which a double cannot hold exactly), so every count the spec allows is accepted.
    private static func count(_ value: JSONValue) -> Int? { value.nonNegativeIntValue }
}
