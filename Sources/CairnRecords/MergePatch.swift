import CairnJSON

/// JSON Merge Patch (RFC 7396): the patch language of corrections.
///
/// A patch object lists the members to change: a member set to `null` is removed, an object is merged
/// recursively, and any other value (arrays included) replaces the target's member whole. A patch that
/// is not an object replaces the whole target.
///
/// ```swift
/// let target: JSONValue = ["title": "Goodbye!", "author": ["givenName": "John", "familyName": "Doe"]]
/// let patch: JSONValue = ["title": "Hello!", "author": ["familyName": nil]]
/// MergePatch.apply(patch, to: target)   // {"title":"Hello!","author":{"givenName":"John"}}
/// ```
public enum MergePatch {
    /// The result of applying `patch` to `target` (RFC 7396 §2). Members keep their order; new members
    /// are appended in the patch's order.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        merge(patch, into: target)
    }

    /// A patch that turns `source` into `target` (`apply(diff(from: s, to: t)!, to: s) == t`), or nil
    /// when no merge patch can: when `target` needs a member whose value is `null` that `source` does
    /// not already have, because a merge patch writes `null` only to remove a member (RFC 7396 §1).
    /// Unchanged members are left out, so two equal objects give the empty patch `{}`.
    public static func diff(from source: JSONValue, to target: JSONValue) -> JSONValue? {
        guard case .object(let targetObject) = target else {
            // A non-object patch replaces the whole value.
            return target
        }
        guard case .object(let sourceObject) = source else {
            // Applying an object patch to a non-object starts from {}: the target must hold no nulls.
            return isWritable(target) ? target : nil
        }
        var patch = JSONObject()
        for (key, _) in sourceObject where targetObject[key] == nil { patch[key] = .null }
        for (key, value) in targetObject {
            let old = sourceObject[key]
            if old == value { continue }
            if value.isNull { return nil }
            if let old {
                guard let member = diff(from: old, to: value) else { return nil }
                patch[key] = member
            } else {
                guard isWritable(value) else { return nil }
                patch[key] = value
            }
        }
        return .object(patch)
    }

    private static func merge(_ patch: JSONValue, into target: JSONValue?) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target?.objectValue ?? JSONObject()
        for (key, value) in patchObject {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = merge(value, into: result[key])
            }
        }
        return .object(result)
    }

    /// True when applying `value` as a patch to `{}` gives `value` back: no object member, at any depth
    /// outside arrays, is `null`.
    private static func isWritable(_ value: JSONValue) -> Bool {
        guard case .object(let object) = value else { return true }
        return object.allSatisfy { !$0.value.isNull && isWritable($0.value) }
    }
}
