import CairnCrypto
import FuzzSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The function libFuzzer calls for each input.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// The body of each fuzzer's `main` (SwiftPM names it `<Target>_main`, see the targets).
///
/// With the environment variable `CAIRN_FUZZ_WRITE_SEEDS=<dir>`, writes the fuzzer's generated seeds
/// (inputs built with the library itself, such as correctly signed checkpoints and valid proofs) into
/// `<dir>` as files named by their SHA-256, and exits. Otherwise runs libFuzzer with the command line.
public func fuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    seeds: () -> [[UInt8]], test: FuzzTest
) -> CInt {
    if let dir = getenv("CAIRN_FUZZ_WRITE_SEEDS") {
        let directory = String(cString: dir)
        let all = seeds()
        for seed in all {
            guard writeFile(directory + "/gen-" + String(SHA256.hash(seed).hex.prefix(16)), seed) else {
                printError("cannot write seeds into \(directory)")
                return 1
            }
        }
        print("wrote \(all.count) generated seeds into \(directory)")
        return 0
    }
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// Stops the process with a message naming the broken property; libFuzzer records the input.
public func oracle(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        printError("FUZZ ORACLE FAILED: \(message())")
        abort()
    }
}

/// The input as an array.
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

private func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    guard let file = fopen(path, "wb") else { return false }
    defer { fclose(file) }
    return bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) } == bytes.count
}

/// Writes a line to standard error.
public func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
