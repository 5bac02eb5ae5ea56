import CairnJSON

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

    public static func < (a: FindingKind, b: FindingKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
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

    /// The default `maxClockSkewSeconds`: five minutes.
    public static let defaultMaxClockSkewSeconds = 300

    /// The built-in policy: zero tolerance for every kind, reasons of at least 10 characters,
    /// every environment checked, five minutes of clock skew.
    public static let strict = AuditPolicy(maxFindings: [:], minCorrectionReasonLength: 10, deployEnvironments: nil)

    public init(
        maxFindings: [FindingKind: Int?], minCorrectionReasonLength: Int, deployEnvironments: Set<String>?,
        maxClockSkewSeconds: Int = AuditPolicy.defaultMaxClockSkewSeconds
    ) {
        self.maxFindings = maxFindings
        self.minCorrectionReasonLength = minCorrectionReasonLength
        self.deployEnvironments = deployEnvironments
        self.maxClockSkewSeconds = maxClockSkewSeconds
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
        self.init(
            maxFindings: maxFindings, minCorrectionReasonLength: minimum, deployEnvironments: environments,
            maxClockSkewSeconds: skew)
    }

    /// A non-negative integer: any the JSON parser accepts (it refuses integers beyond 2^53 - 1,
    /// which a double cannot hold exactly), so every count the spec allows is accepted.
    private static func count(_ value: JSONValue) -> Int? { value.nonNegativeIntValue }
}
