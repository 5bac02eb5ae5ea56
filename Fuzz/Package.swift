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
]

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
        },
    swiftLanguageModes: [.v6]
)
