// Fast paths for the byte arrays and stacks used while parsing and writing.

extension Array where Element == UInt8 {
    /// Appends raw bytes with one copy (the generic `append(contentsOf:)` for a raw buffer goes byte by byte).
    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }
}

extension Array {
    /// Shortens the array to `newCount` elements, keeping its capacity.
    @inline(__always)
    mutating func truncate(to newCount: Int) {
        if newCount == 0 {
            removeAll(keepingCapacity: true)
        } else {
            while count > newCount { removeLast() }
        }
    }
}
