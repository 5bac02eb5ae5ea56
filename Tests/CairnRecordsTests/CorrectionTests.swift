import CairnCrypto
import CairnJSON
import CairnRecords
import Testing

/// Corrections: applying one, folding several, and correcting a correction.
@Suite struct CorrectionTests {
    /// A correction of the checkpoint example with `patch`.
    func correction(_ patch: JSONValue, reason: String = "fix") throws -> JSONValue {
        try example(.correction).setting("$.patch", to: patch).setting("$.reason", to: .string(reason))
    }

    /// The error thrown by `Corrections.apply`, or nil.
    func applyError(_ correction: JSONValue, to target: JSONValue, strict: Bool = false) -> RecordValidationError? {
        do {
            _ = try Corrections.apply(correction, to: target, options: .init(strictFields: strict))
            return nil
        } catch {
            return error
        }
    }

    @Test func aCorrectionMergesItsPatchIntoTheTarget() throws {
        let checkpoint = try example(.checkpoint)
        let effective = try Corrections.apply(example(.correction), to: checkpoint)
        #expect(effective["work_item"] == "PAY-1432")
        #expect(effective["risk"] == json(#"{"security":"low","operational":"high","compliance":"low"}"#))
        #expect(
            effective.removing("$.work_item").removing("$.risk")
                == checkpoint.removing("$.work_item").removing("$.risk"))
    }

    @Test func correctionsOfOneEntryApplyInLogOrder() throws {
        let checkpoint = try example(.checkpoint)
        let first = try correction(["work_item": "PAY-1", "constraints": ["no new dependencies"]])
        let second = try correction(["work_item": "PAY-2", "session_id": nil])
        let third = try correction(["constraints": nil, "risk": ["security": "high"]])
        let folded = try Corrections.apply(
            third, to: Corrections.apply(second, to: Corrections.apply(first, to: checkpoint)))
        let effective = try Corrections.effective(original: checkpoint, corrections: [first, second, third])
        #expect(effective == folded)
        #expect(effective["work_item"] == "PAY-2")
        #expect(effective["constraints"] == nil)
        #expect(effective["session_id"] == nil)
        #expect(effective["risk"]?["security"] == "high")
        let reversed = try Corrections.effective(original: checkpoint, corrections: [third, second, first])
        #expect(reversed["constraints"] == ["no new dependencies"])
        #expect(reversed["work_item"] == "PAY-1")
    }

    @Test func withoutCorrectionsTheEffectiveRecordIsTheOriginal() throws {
        let checkpoint = try example(.checkpoint)
        #expect(try Corrections.effective(original: checkpoint, corrections: []) == checkpoint)
    }

    @Test func aPatchThatRemovesARequiredFieldIsRejectedAtItsPathInThePatch() throws {
        let error = applyError(try correction(["outputs": nil]), to: try example(.checkpoint))
        #expect(error?.issues.map(\.description) == ["$.patch.outputs: required field is missing"])
    }

    @Test func aPatchThatBreaksAFieldIsRejectedAtItsPathInThePatch() throws {
        let error = applyError(try correction(["model": ["id": 5]]), to: try example(.checkpoint))
        #expect(error?.issues.map(\.description) == ["$.patch.model.id: expected a string, found 5"])
        let group = applyError(
            try correction(["model": ["version": nil, "release_date": nil]]), to: try example(.checkpoint))
        #expect(group?.issues.map(\.path) == ["$.patch.model"])
    }

    @Test func problemsInsideAValueThePatchReplacedAreReportedUnderThePatch() throws {
        let error = applyError(
            try correction(["outputs": [["repo": "r", "commit": "HEAD"]]]), to: try example(.checkpoint))
        #expect(
            error?.issues.map { Found($0.path, $0.code) } == [
                Found("$.patch.outputs[0].commit", .invalidCommit),
                Found("$.patch.outputs[0].path", .missingField),
                Found("$.patch.outputs[0].ranges", .missingField),
                Found("$.patch.outputs[0].content_hash", .missingField),
                Found("$.patch.outputs[0].contributor", .missingField),
            ])
    }

    @Test func problemsOutsideThePatchKeepTheirPathsInTheRecord() throws {
        // A target that is already invalid (it never could be in a ledger, but apply does not assume it).
        let target = try example(.checkpoint).setting("$.model.provider", to: 7)
        let error = applyError(try correction(["model": ["version": "2"]]), to: target)
        #expect(error?.issues.map(\.path) == ["$.model.provider"])
    }

    @Test func aPatchMayNotChangeTheTypeOfRecord() throws {
        let error = applyError(
            try correction(["type": "review", "decision": "approved"]), to: try example(.checkpoint))
        #expect(error?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.type", .immutableField)])
        let schema = applyError(try correction(["schema": 2]), to: try example(.checkpoint))
        #expect(schema?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.schema", .immutableField)])
    }

    @Test func aPatchMayNotChangeACheckpointIdOrAnErasedBlob() throws {
        let id = applyError(try correction(["id": "another-id"]), to: try example(.checkpoint))
        #expect(id?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.id", .immutableField)])
        let blob = applyError(
            try correction(["blob": .string("sha256:" + String(repeating: "e", count: 64))]),
            to: try example(.erasure))
        #expect(blob?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.blob", .immutableField)])
        #expect(applyError(try correction(["reason": "Card number and CVV."]), to: try example(.erasure)) == nil)
    }

    @Test func onlyAValidCorrectionRecordCanBeApplied() throws {
        let review = applyError(try example(.review), to: try example(.checkpoint))
        #expect(review?.issues.map(\.description) == [#"$.type: expected a correction record, found "review""#])
        let invalid = applyError(try example(.correction).removing("$.reason"), to: try example(.checkpoint))
        #expect(invalid?.issues.map(\.description) == ["$.reason: required field is missing"])
    }

    @Test func strictFieldsApplyToThePatchedRecord() throws {
        let addsField = try correction(["x-ticket": "SEC-1"])
        #expect(applyError(addsField, to: try example(.checkpoint)) == nil)
        let strict = applyError(addsField, to: try example(.checkpoint), strict: true)
        #expect(strict?.issues.map { Found($0.path, $0.code) } == [Found(#"$.patch["x-ticket"]"#, .unknownField)])
    }

    @Test func effectiveReportsWhichCorrectionFailed() throws {
        let good = try correction(["work_item": "PAY-1"])
        let bad = try correction(["timestamp": "now"])
        let checkpoint = try example(.checkpoint)
        do {
            _ = try Corrections.effective(original: checkpoint, corrections: [good, good, bad])
            Issue.record("expected an error")
        } catch {
            #expect(error.correctionIndex == 2)
            #expect(error.codes == [.invalidTimestamp])
            #expect(error.description.hasPrefix("correction 2: $.patch.timestamp: expected an RFC 3339"))
        }
    }

    // MARK: - Correcting a correction

    @Test func correctingACorrectionChangesThatCorrectionRecord() throws {
        let checkpoint = try example(.checkpoint)
        let original = try example(.correction)  // work_item → PAY-1432, risk.operational → high
        let address = SHA256.hash(try JCS.canonicalize(original)).description
        let amendment = json(
            #"""
            {"type":"correction","schema":1,"corrects":"\#(address)","author":"alice@example.com",
             "reason":"The work item is PAY-1433, and the risk change was not meant.",
             "patch":{"reason":"Wrong work item.","patch":{"work_item":"PAY-1433","risk":null}}}
            """#)
        let effectiveCorrection = try Corrections.effective(original: original, corrections: [amendment])
        #expect(effectiveCorrection["reason"] == "Wrong work item.")
        #expect(effectiveCorrection["patch"] == ["work_item": "PAY-1433"])
        #expect(effectiveCorrection["corrects"] == original["corrects"])

        let effective = try Corrections.effective(original: checkpoint, corrections: [effectiveCorrection])
        #expect(effective["work_item"] == "PAY-1433")
        #expect(effective["risk"] == checkpoint["risk"])
    }

    @Test func aCorrectionOfACorrectionIsCheckedLikeAnyCorrection() throws {
        let original = try example(.correction)
        let retarget = try correction(["patch": ["type": "review"]])
        let error = applyError(retarget, to: original)
        #expect(error?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.patch.type", .immutableField)])
        let empties = applyError(try correction(["patch": ["work_item": nil, "risk": nil]]), to: original)
        #expect(empties?.issues.map { Found($0.path, $0.code) } == [Found("$.patch.patch", .invalidValue)])
    }
}
