// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Consort",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "consort", targets: ["NodeCLI"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Contracts", targets: ["Contracts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB", providers: [.apt(["libleveldb-dev"])]),
        .target(name: "Ledger", dependencies: ["CSecp256k1", "COpenSSL", "CLevelDB"]),
        .target(name: "Contracts", dependencies: ["Ledger"]),
        .target(name: "Consensus", dependencies: ["Ledger"]),
        .target(name: "ConsensusSimulator", dependencies: ["Consensus", "Ledger"]),
        .target(
            name: "Node",
            dependencies: [
                "Ledger", "Contracts", "Consensus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "NodeCLI",
            dependencies: [
                "Ledger", "Contracts", "Consensus", "Node",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Contracts"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "Ledger", "ConsensusSimulator"]),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts", "Ledger"]),
        .testTarget(
            name: "NodeCLITests",
            dependencies: [
                "NodeCLI", "Node", "Ledger", "Contracts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
