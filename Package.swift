// swift-tools-version:6.0
//
// Cairn: an LMDB-backed, content-addressed provenance ledger with RFC 6962 Merkle proofs and
// C2SP signed checkpoints. See README.md for the two set-up commands and docs/ for the guides.

import PackageDescription

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cairn", targets: ["CairnCLI"]),
        .executable(name: "cairn-capture", targets: ["CairnCaptureTool"]),
        .library(name: "CairnLedger", targets: ["CairnLedger"]),
        .library(name: "CairnMerkle", targets: ["CairnMerkle"]),
        .library(name: "CairnNote", targets: ["CairnNote"]),
        .library(name: "CairnProofs", targets: ["CairnProofs"]),
        .library(name: "CairnJSON", targets: ["CairnJSON"]),
        .library(name: "CairnRecords", targets: ["CairnRecords"]),
        .library(name: "CairnCrypto", targets: ["CairnCrypto"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnRedaction", targets: ["CairnRedaction"]),
        .library(name: "CairnCommitCapture", targets: ["CairnCommitCapture"]),
        .library(name: "CairnMirror", targets: ["CairnMirror"]),
        .library(name: "CairnObjectStore", targets: ["CairnObjectStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        // The HTTP client (already in the graph through Hummingbird's test support), and the NIO
        // packages whose error types CairnHTTP classifies.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // C libraries, reached only through these two shims.
        .systemLibrary(
            name: "CCairnOpenSSL",
            path: "Sources/CCairnOpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CCairnLMDB",
            path: "Sources/CCairnLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),

        // SHA-256 and Ed25519 over OpenSSL libcrypto; the only module that touches OpenSSL.
        .target(name: "CairnCrypto", dependencies: ["CCairnOpenSSL"]),
        // Secrets out of captured text before it is stored or sent: known credential shapes, keyed tags.
        .target(name: "CairnRedaction", dependencies: ["CairnCrypto", "CairnJSON"]),
        // `cairn capture`: agents' hook payloads into the repository's working log, redacted, without network.
        .target(name: "CairnCapture", dependencies: ["CairnRedaction", "CairnRecords", "CairnJSON", "CairnCrypto"]),
        .executableTarget(name: "CairnCaptureTool", dependencies: ["CairnCapture", "CairnCommitCapture"]),
        // `cairn hooks`: registers the capture in agents' configurations, and takes it out again.
        .target(name: "CairnHooks", dependencies: ["CairnCapture", "CairnJSON", "CairnCrypto"]),
        // The commit-time half of capture: working log + git → checkpoint and rewrite records; line attribution.
        .target(
            name: "CairnCommitCapture",
            dependencies: [
                "CairnCapture", "CairnCrypto", "CairnJSON", "CairnNote", "CairnProofs", "CairnRecords",
            ]),
        // C2SP signed notes, verifier keys, tlog-checkpoint bodies and cosignatures.
        .target(name: "CairnNote", dependencies: ["CairnCrypto"]),
        // Strict JSON parsing with positions, and RFC 8785 canonicalization.
        .target(name: "CairnJSON"),
        // The AI provenance record schema: validation with JSON paths, facts, merge patch, corrections.
        .target(name: "CairnRecords", dependencies: ["CairnJSON", "CairnCrypto"]),
        // Pure RFC 6962 / RFC 9162 Merkle math and proofs: no I/O.
        .target(name: "CairnMerkle", dependencies: ["CairnCrypto"]),
        // C2SP tlog-proof and tlog-witness proof bodies: parsing, printing, offline verification.
        .target(name: "CairnProofs", dependencies: ["CairnCrypto", "CairnNote", "CairnMerkle"]),
        // LMDB environment, transactions and tables; the only module that touches LMDB.
        .target(name: "CairnStorage", dependencies: ["CCairnLMDB"]),
        // The ledger engine: one door for reads (snapshots on a small I/O thread pool), the ingest
        // engine as the one writer (records, blobs, storage operations), checkpoints, proofs, fsck.
        .target(
            name: "CairnLedger",
            dependencies: [
                "CairnCrypto", "CairnNote", "CairnJSON", "CairnMerkle", "CairnRecords", "CairnStorage",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Static C2SP tlog-tiles export of a ledger (`cairn export tiles`), to a directory or an object store.
        .target(
            name: "CairnTileExport",
            dependencies: [
                "CairnLedger", "CairnMerkle", "CairnNote", "CairnCrypto", "CairnStorage", "CairnObjectStore",
            ]),
        // A small S3 client (AWS Signature Version 4; PutObject, HeadObject, GetObject, DeleteObject)
        // over CairnHTTP: no maintained Swift S3 library is available to this build (docs/publishing-tiles.md).
        .target(name: "CairnObjectStore", dependencies: ["CairnCrypto", "CairnHTTP", "CairnRecords"]),
        // Insight: the stats views (figures from the ledger's aggregates, each with the records behind it) and
        // their HTML rendering (the dashboard at /ui/, `cairn report --format html`).
        .target(name: "CairnInsight", dependencies: ["CairnLedger", "CairnRecords", "CairnJSON", "CairnNote"]),
        // Audits (missing checkpoints, completeness) and signed compliance reports.
        .target(
            name: "CairnAudit",
            dependencies: ["CairnLedger", "CairnRecords", "CairnNote", "CairnJSON", "CairnCrypto", "CairnInsight"]),
        // The one outgoing HTTP client (AsyncHTTPClient) and its rules: no redirects, timeouts,
        // cancellation, a response size limit, http(s) and Unix sockets. Depends on nothing of Cairn's.
        .target(
            name: "CairnHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Witnesses (C2SP tlog-witness): the witness server, the log's witness client, and
        // tlog-policy quorum verification.
        .target(
            name: "CairnWitness",
            dependencies: [
                "CairnCrypto", "CairnNote", "CairnMerkle", "CairnProofs", "CairnStorage", "CairnLedger", "CairnHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `cairn serve`: the HTTP write/query API, C2SP tlog-tiles reads, authentication, the access
        // log and metrics, over the ingest engine.
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnLedger", "CairnProofs", "CairnRecords", "CairnNote", "CairnJSON", "CairnMerkle", "CairnCrypto",
                "CairnStorage", "CairnWitness", "CairnInsight", "CairnTileExport", "CairnObjectStore", "CairnHTTP",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The HTTP client of `cairn append --server`, with its durable spool.
        .target(
            name: "CairnClient",
            dependencies: ["CairnJSON", "CairnCrypto", "CairnStorage", "CairnLedger", "CairnHTTP"]
        ),
        // Mirrors and monitors of C2SP tlog-tiles logs (`cairn mirror`, `cairn monitor`): the tile client, tiles
        // authenticated against signed checkpoints, consistency from tiles, the mirror directory (specs/mirror.md).
        .target(
            name: "CairnMirror",
            dependencies: [
                "CairnCrypto", "CairnMerkle", "CairnNote", "CairnProofs", "CairnJSON", "CairnStorage", "CairnHTTP",
            ]
        ),
        // Log directories (specs/sealing.md §6): `logs.json`, the logs it names and the links between them.
        .target(
            name: "CairnLogDirectory",
            dependencies: ["CairnLedger", "CairnJSON", "CairnNote", "CairnStorage"]
        ),
        // The benchmark harness of `cairn bench` and the crash test's load (`cairn stress-append`):
        // synthetic inputs, the engine under load, the same-run baselines, timings, percentiles
        // and the JSON results.
        .target(
            name: "CairnBench",
            dependencies: [
                "CairnLedger", "CairnStorage", "CairnMerkle", "CairnCrypto", "CairnJSON",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The `cairn` command.
        .executableTarget(
            name: "CairnCLI",
            dependencies: [
                "CairnLedger", "CairnProofs", "CairnRecords", "CairnNote", "CairnJSON", "CairnMerkle", "CairnCrypto",
                "CairnAudit", "CairnStorage", "CairnServer", "CairnWitness", "CairnClient", "CairnTileExport",
                "CairnHTTP", "CairnBench", "CairnCapture", "CairnHooks", "CairnCommitCapture", "CairnRedaction",
                "CairnInsight", "CairnMirror", "CairnLogDirectory", "CairnObjectStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // What the test targets share: temporary directories, a process runner, polling with a
        // deadline, and short-hand reads over the ledger's snapshot door.
        .target(
            name: "CairnTestSupport",
            dependencies: ["CairnLedger", "CairnCrypto", "CairnJSON", "CairnNote", "CairnMerkle", "CairnStorage"],
            path: "Tests/CairnTestSupport"
        ),

        .testTarget(name: "CairnCryptoTests", dependencies: ["CairnCrypto"]),
        .testTarget(name: "CairnNoteTests", dependencies: ["CairnNote", "CairnCrypto"], exclude: ["Interop"]),
        .testTarget(name: "CairnJSONTests", dependencies: ["CairnJSON", "CairnTestSupport"]),
        .testTarget(name: "CairnMerkleTests", dependencies: ["CairnMerkle", "CairnCrypto", "CairnTestSupport"]),
        .testTarget(name: "CairnRecordsTests", dependencies: ["CairnRecords", "CairnJSON", "CairnCrypto"]),
        .testTarget(
            name: "CairnRedactionTests",
            dependencies: ["CairnRedaction", "CairnJSON", "CairnCrypto", "CairnTestSupport"]),
        .testTarget(
            name: "CairnCaptureTests",
            dependencies: [
                "CairnCapture", "CairnHooks", "CairnCommitCapture", "CairnRedaction", "CairnJSON", "CairnTestSupport",
            ]),
        .testTarget(
            name: "CairnProofsTests", dependencies: ["CairnProofs", "CairnMerkle", "CairnNote", "CairnCrypto"]),
        .testTarget(name: "CairnStorageTests", dependencies: ["CairnStorage", "CairnTestSupport"]),
        .testTarget(
            name: "CairnLedgerTests",
            dependencies: [
                "CairnTestSupport",
                "CairnLedger", "CairnMerkle", "CairnNote", "CairnJSON", "CairnCrypto", "CairnRecords", "CairnStorage",
            ]
        ),
        .testTarget(
            name: "CairnCLITests",
            dependencies: [
                "CairnTestSupport", "CairnCLI", "CairnJSON", "CairnLedger", "CairnCrypto", "CairnRecords",
                "CairnMerkle",
            ]),
        .testTarget(
            name: "CairnServerTests",
            dependencies: [
                "CairnTestSupport",
                "CairnServer", "CairnLedger", "CairnProofs", "CairnRecords", "CairnNote", "CairnJSON", "CairnMerkle",
                "CairnCrypto", "CairnWitness", "CairnTileExport", "CairnInsight",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "CairnWitnessTests",
            dependencies: [
                "CairnTestSupport",
                "CairnServer", "CairnWitness", "CairnNote", "CairnCrypto", "CairnMerkle", "CairnProofs", "CairnLedger",
                "CairnHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CairnClientTests",
            dependencies: ["CairnTestSupport", "CairnClient", "CairnJSON", "CairnLedger", "CairnHTTP"]),
        .testTarget(
            name: "CairnBenchTests",
            dependencies: ["CairnTestSupport", "CairnBench", "CairnLedger", "CairnJSON"]),
        .testTarget(
            name: "CairnObjectStoreTests",
            dependencies: ["CairnObjectStore", "CairnHTTP", "CairnCrypto", "CairnTestSupport"]),
        .testTarget(name: "CairnHTTPTests", dependencies: ["CairnHTTP", "CairnTestSupport"]),
        .testTarget(
            name: "CairnMirrorTests",
            dependencies: [
                "CairnMirror", "CairnTestSupport", "CairnMerkle", "CairnNote", "CairnCrypto", "CairnJSON", "CairnHTTP",
            ]),
        .testTarget(
            name: "CairnInsightTests",
            dependencies: ["CairnTestSupport", "CairnInsight", "CairnLedger", "CairnRecords", "CairnJSON"]),
        .testTarget(
            name: "CairnAuditTests",
            dependencies: [
                "CairnTestSupport", "CairnAudit", "CairnLedger", "CairnRecords", "CairnNote", "CairnJSON",
                "CairnCrypto",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
