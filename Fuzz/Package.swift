// swift-tools-version:6.0
//
// libFuzzer targets for Cairn's parsers (docs/reliability.md, "Fuzzing"). A separate package so that the
// main package's `swift build` and `swift test` never build them. Build and run with `make fuzz-smoke` or
// `make fuzz` from the repository root; by hand:
//
//   cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
//       --scratch-path ../.build-fuzz
//   ../.build-fuzz/release/FuzzJSON <corpus-dir> -runs=1000000

import PackageDescription

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One executable per parser; each links libFuzzer through `FuzzKit`.
let fuzzers: [(name: String, modules: [String])] = [
    ("FuzzJSON", ["CairnJSON"]),
    ("FuzzRecord", ["CairnJSON", "CairnRecords"]),
    ("FuzzNote", ["CairnNote", "CairnCrypto"]),
    ("FuzzProof", ["CairnProofs", "CairnNote", "CairnMerkle", "CairnCrypto"]),
    ("FuzzTilePath", ["CairnMerkle"]),
    ("FuzzPolicy", ["CairnProofs", "CairnNote", "CairnCrypto"]),
    ("FuzzNDJSON", ["CairnJSON", "CairnLedger", "CairnCrypto", "CairnMerkle"]),
    ("FuzzRedaction", ["CairnRedaction", "CairnJSON"]),
    ("FuzzDSSE", ["CairnProofs", "CairnJSON", "CairnCrypto"]),
    ("FuzzBlobDisclosure", ["CairnRecords", "CairnJSON", "CairnCrypto"]),
    ("FuzzKeyHistory", ["CairnLedger", "CairnJSON", "CairnNote", "CairnMerkle", "CairnCrypto"]),
    ("FuzzSuccession", ["CairnLedger", "CairnJSON", "CairnNote", "CairnMerkle", "CairnCrypto"]),
    ("FuzzRetentionPolicy", ["CairnRecords", "CairnJSON"]),
]

/// Fuzzers of parsers whose API is `package` (visible only inside the main package): CairnCommitCapture's importers
/// (provider logs included), line bundles and working-log events; CairnMirror's tile authentication and state files; CairnObjectStore's S3 error documents and locations. Their modules are compiled with the main package's
/// `-package-name`, which SwiftPM derives from the package's identity: the name of the repository's directory,
/// lower-cased, with every character other than a letter or digit as `_` (`main` for a clone in /work/main). Override
/// with CAIRN_FUZZ_PACKAGE_NAME if your clone's directory has another name.
let packageFuzzers: [(name: String, modules: [String])] = [
    ("FuzzGitAINote", ["CairnCommitCapture", "CairnJSON", "CairnRecords"]),
    ("FuzzAgentTrace", ["CairnCommitCapture", "CairnJSON", "CairnRecords"]),
    ("FuzzLineBundle", ["CairnCommitCapture", "CairnJSON", "CairnProofs", "CairnNote", "CairnMerkle", "CairnCrypto"]),
    ("FuzzWorkingEvent", ["CairnCommitCapture", "CairnJSON"]),
    ("FuzzProviderLog", ["CairnCommitCapture", "CairnJSON", "CairnRecords", "CairnCrypto"]),
    ("FuzzTileTree", ["CairnMirror", "CairnMerkle", "CairnCrypto"]),
    ("FuzzS3Error", ["CairnObjectStore", "CairnRecords"]),
]

let mainPackageName: String = {
    if let given = getenv("CAIRN_FUZZ_PACKAGE_NAME") { return String(cString: given) }
    let directory = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "cairn"
    return String(directory.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
}()

let package = Package(
    name: "cairn-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "cairn", path: "..")],
    targets: [
        // Declares libFuzzer's `LLVMFuzzerRunDriver` for Swift.
        .target(name: "FuzzSupport"),
        // The shared driver (`fuzzerMain`), seed writing, and the fixed test keys.
        .target(
            name: "FuzzKit",
            dependencies: [
                "FuzzSupport",
                .product(name: "CairnCrypto", package: "cairn"),
                .product(name: "CairnNote", package: "cairn"),
                .product(name: "CairnMerkle", package: "cairn"),
            ]
        ),
    ]
        + fuzzers.map { fuzzer in
            .executableTarget(
                name: fuzzer.name,
                dependencies: ["FuzzKit"] + fuzzer.modules.map { .product(name: $0, package: "cairn") }
            )
        }
        + packageFuzzers.map { fuzzer in
            .executableTarget(
                name: fuzzer.name,
                dependencies: ["FuzzKit"] + fuzzer.modules.map { .product(name: $0, package: "cairn") },
                // SwiftPM's own `-package-name` (this package's) would come after ours and win: turned off.
                packageAccess: false,
                swiftSettings: [.unsafeFlags(["-package-name", mainPackageName])]
            )
        },
    swiftLanguageModes: [.v6]
)
