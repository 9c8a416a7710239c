// swift-tools-version:6.0
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
]

let package = Package(
    name: "Consort",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "consort", targets: ["NodeCLI"]),
        .library(name: "LedgerCore", targets: ["LedgerCore"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Contracts", targets: ["Contracts"]),
        .library(name: "NodeClient", targets: ["NodeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB", providers: [.apt(["libleveldb-dev"])]),

        // Codec, hashing and signatures, the data model and the core limits; no storage.
        .target(name: "LedgerCore", dependencies: ["CSecp256k1", "COpenSSL"]),
        // Storage, the state tree, block execution and governance.
        .target(name: "Ledger", dependencies: ["LedgerCore", "CLevelDB"]),
        // PBFT as a deterministic state machine; knows blocks and signatures, not the ledger.
        .target(name: "Consensus", dependencies: ["LedgerCore"]),
        .target(name: "ConsensusSimulator", dependencies: ["Consensus", "LedgerCore"]),
        // The built-in contracts and the statement importers.
        .target(name: "Contracts", dependencies: ["Ledger", "LedgerCore"]),
        // The JSON shapes of the HTTP API, shared by the server and its clients.
        .target(name: "NodeAPI", dependencies: ["LedgerCore"]),
        // An HTTP client of a node's API.
        .target(name: "NodeClient", dependencies: ["NodeAPI", "LedgerCore"] + nio),
        // The server: consensus shell, admission, sync, peer network, API.
        .target(
            name: "Node",
            dependencies: [
                "LedgerCore", "Ledger", "Contracts", "Consensus", "NodeAPI", "NodeClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ] + nio
        ),
        // The T+0 clearing reconciliation job, a client of the API.
        .target(name: "ReconciliationJob", dependencies: ["LedgerCore", "Ledger", "Contracts", "NodeAPI", "NodeClient"]),
        // Test support below every layer: long computations on one thread of their own.
        .target(name: "TestSupport"),
        // Fixtures of the ledger layer: validator keys in one process that build and certify blocks.
        .target(name: "LedgerTesting", dependencies: ["LedgerCore", "Ledger"]),
        // Fixtures: a consortium whose keys live in one process.
        .target(name: "ConsortTesting", dependencies: ["LedgerCore", "Ledger", "LedgerTesting", "Contracts", "Node", "NodeClient"] + nio),
        // Benchmarks, load generators and burst plans behind `consort bench`.
        .target(name: "Bench", dependencies: ["LedgerCore", "Ledger", "Contracts", "NodeAPI", "NodeClient", "ConsortTesting"]),
        .executableTarget(
            name: "NodeCLI",
            dependencies: [
                "LedgerCore", "Ledger", "Contracts", "Node", "NodeAPI", "NodeClient", "ReconciliationJob", "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport", "LedgerCore"]),
        .testTarget(name: "LedgerCoreTests", dependencies: ["LedgerCore"]),
        .testTarget(name: "NodeAPITests", dependencies: ["NodeAPI", "LedgerCore"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "LedgerCore", "LedgerTesting", "TestSupport"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "LedgerCore", "ConsensusSimulator", "TestSupport"]),
        .testTarget(
            name: "ContractsTests", dependencies: ["Contracts", "Ledger", "LedgerCore", "ConsortTesting", "TestSupport"],
            // The project's own statement files, one per convention and case the importers handle.
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node", "NodeAPI", "NodeClient", "Ledger", "LedgerCore", "Contracts", "Consensus", "ConsortTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio
        ),
        .testTarget(
            name: "ReconciliationJobTests",
            dependencies: ["ReconciliationJob", "Node", "NodeAPI", "NodeClient", "Ledger", "LedgerCore", "Contracts", "Consensus", "ConsortTesting"]
        ),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Contracts", "Ledger", "LedgerCore", "NodeAPI", "ConsortTesting"]),
        .testTarget(
            name: "NodeCLITests",
            dependencies: [
                "NodeCLI", "Node", "NodeAPI", "NodeClient", "ReconciliationJob", "Bench", "Ledger", "LedgerCore", "Contracts", "Consensus",
                "ConsortTesting",
            ] + nio
        ),
    ],
    swiftLanguageModes: [.v6]
)
