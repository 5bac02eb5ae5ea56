import CairnJSON

/// Corrections: checking one against the record it corrects, and folding several into the effective
/// record. Pure functions; the ledger finds the records (see `specs/record-schema.md`, "Corrections").
///
/// - Several corrections of one entry apply in log order, each to the result of the previous ones.
/// - A correction may itself be corrected: that changes the correction record (its `reason`, its
///   `patch`, …). Pass corrections to `effective(original:corrections:)` in their *effective* form,
///   in the log order of the corrections themselves.
/// - The ledger checks what needs the log: that `corrects` names an earlier entry other than the
///   correction itself.
///
/// Path convention for errors from `apply`: an issue in the patched record is reported under
/// `$.patch` when it lies in a part the patch wrote (the member is named in the patch, or lies inside
/// a value the patch replaced whole, such as an array), for example `$.patch.model.id`; otherwise at
/// its path in the patched record, for example `$.outputs[0].commit`. Issues of the correction record
/// itself keep their paths in it (`$.patch.type`, `$.reason`).
public enum Corrections {
    /// Applies one correction to `target`, the current effective record of the corrected entry.
    ///
    /// Checks that `correction` is a valid correction record, that its patch does not name a member that
    /// no correction may change (`type`, `schema`, `corrects`; a checkpoint's `id`; an erasure's `blob`),
    /// and that the patched record is valid under `options`.
    ///
    /// - Returns: the patched record, the new effective record.
    /// - Throws: `RecordValidationError` listing every problem (path convention: see the type).
    public static func apply(
        _ correction: JSONValue,
        to target: JSONValue,
        options: RecordValidator.Options = .init()
    ) throws(RecordValidationError) -> JSONValue {
        var issues = RecordValidator.issues(in: correction, options: options)
        if issues.isEmpty, let type = correction["type"], type != .string(RecordType.correction.rawValue) {
            issues.append(
                ValidationIssue(
                    location: RecordPath.root.appending("type"), code: .invalidValue,
                    message: "expected a correction record, found \(describe(type))"))
        }
        guard issues.isEmpty, let patch = correction["patch"] else { throw RecordValidationError(issues: issues) }

        let frozen = frozenMembers(of: target)
        for (key, _) in patch.objectValue ?? [:] {
            guard let reason = frozen.first(where: { exactlyEqual($0.name, key) })?.reason else { continue }
            let location = RecordPath.root.appending("patch").appending(key)
            issues.append(ValidationIssue(location: location, code: .immutableField, message: reason))
        }
        guard issues.isEmpty else { throw RecordValidationError(issues: issues) }

        let result = MergePatch.apply(patch, to: target)
        let problems = RecordValidator.issues(in: result, options: options)
        guard problems.isEmpty else {
            throw RecordValidationError(issues: problems.map { relocate($0, into: patch) })
        }
        return result
    }

    /// The effective record: `original` with `corrections` applied in order, each through
    /// `apply(_:to:options:)`. Returns `original` unchanged when there are none. Pass
    /// `RecordValidator.Options.stored` to fold entries read back from a ledger.
    ///
    /// - Throws: the error of the first correction that cannot be applied, with `correctionIndex` set
    ///   to its position in `corrections`.
    public static func effective(
        original: JSONValue,
        corrections: [JSONValue],
        options: RecordValidator.Options = .init()
    ) throws(RecordValidationError) -> JSONValue {
        var record = original
        for (index, correction) in corrections.enumerated() {
            do {
                record = try apply(correction, to: record, options: options)
            } catch {
                throw RecordValidationError(issues: error.issues, correctionIndex: index)
            }
        }
        return record
    }

    // MARK: - Internals

    /// Members of `target` that a patch may not name, besides `type`, `schema` and `corrects` (which the
    /// correction's own validation refuses).
    private static func frozenMembers(of target: JSONValue) -> [(name: String, reason: String)] {
        switch target["type"]?.stringValue.flatMap({ RecordType(exactly: $0) }) {
        case .checkpoint?:
            return [("id", "a correction cannot change a checkpoint's \"id\": other records refer to it")]
        case .erasure?:
            return [("blob", "a correction cannot change which blob an erasure erased (\"blob\")")]
        case .keyRotation?:
            // The key history is read from the entry as logged; a correction would only make it read otherwise.
            let reason = "a correction cannot change a key rotation's keys, endorsement, time or revocation"
            return ["old_vkey", "new_vkey", "endorsement", "at", "revoked_from_size"].map { ($0, reason) }
        case .seal?, .predecessor?:
            // The seal and the link between logs are read from the entries as logged, like a key rotation.
            let reason = "a correction cannot change a seal or a link to a predecessor log"
            return ["origin", "vkey", "checkpoint", "seal_entry", "seal_proof", "at"].map { ($0, reason) }
        case .legalHold?:
            // Which hold, placed or released, on what: read by retention from the entry as logged.
            let reason = "a correction cannot change which hold a legal hold names, its action or its scope"
            return ["hold", "action", "subject", "repository", "from", "until"].map { ($0, reason) }
        default:
            return []
        }
    }

    /// `issue` (a path in the patched record) moved under `$.patch` when the patch wrote that part.
    static func relocate(_ issue: ValidationIssue, into patch: JSONValue) -> ValidationIssue {
        let components = issue.location.components
        var node = patch
        var matched = 0
        while matched < components.count, case .object(let object) = node,
            case .key(let key) = components[matched], let member = object[key]
        {
            node = member
            matched += 1
        }
        let wrote = matched > 0 && (matched == components.count || node.objectValue == nil)
        guard wrote else { return issue }
        let moved = RecordPath(components: [.key("patch")] + components)
        return ValidationIssue(location: moved, code: issue.code, message: issue.message)
    }
}
