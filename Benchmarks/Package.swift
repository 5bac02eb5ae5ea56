// swift-tools-version:6.1
//
// Cairn's benchmark suite (ordo-one/benchmark), kept in its own package so that users of Cairn
// never build it. Run from this directory:
//
//   swift package --allow-writing-to-directory .benchmarkBaselines benchmark
//
// See ../docs/performance.md for what each benchmark measures and the results.

import PackageDescription

let package = Package(
    name: "CairnBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "cairn", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Direct OpenSSL access, only to compare SHA-256 call paths (docs/performance.md).
        .systemLibrary(name: "CBenchOpenSSL", path: "Sources/CBenchOpenSSL", pkgConfig: "libcrypto"),
        .executableTarget(
            name: "CairnBenchmarks",
            dependencies: [
                "CBenchOpenSSL",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CairnCrypto", package: "cairn"),
                .product(name: "CairnJSON", package: "cairn"),
                .product(name: "CairnLedger", package: "cairn"),
                .product(name: "CairnMerkle", package: "cairn"),
                .product(name: "CairnRecords", package: "cairn"),
                .product(name: "CairnRedaction", package: "cairn"),
                .product(name: "CairnStorage", package: "cairn"),
            ],
            path: "Benchmarks/CairnBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
