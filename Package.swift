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
    ],
    targets: [
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLevelDB", path: "Sources/CLevelDB", providers: [.apt(["libleveldb-dev"])]),
        .target(name: "Ledger", dependencies: ["CSecp256k1", "COpenSSL", "CLevelDB"]),
        .target(name: "Contracts", dependencies: ["Ledger"]),
        .target(name: "Consensus", dependencies: ["Ledger"]),
        .target(name: "ConsensusSimulator", dependencies: ["Consensus", "Ledger"]),
        .executableTarget(
            name: "NodeCLI",
            dependencies: [
                "Ledger", "Contracts", "Consensus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Contracts"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "Ledger", "ConsensusSimulator"]),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts", "Ledger"]),
        .testTarget(name: "NodeCLITests", dependencies: ["NodeCLI", "Ledger", "Contracts"]),
    ],
    swiftLanguageModes: [.v6]
)
