// swift-tools-version:6.1
import PackageDescription

/// wattprint: one module per concern, dependencies pointing one way:
///
///     wattprint (CLI) ─► Reports ─► Benchmarks ─┬─► Accounting ─┬─► Ledger ─┬─► Measures
///            │                                  │                ├─► Meters ─┤
///            │                                  │                └─► Carbon ─┘
///            ├─► Exporter ─► Meters (Prometheus metrics of the sampler's readings, served on /metrics)
///            └──────────────────────────────────┴─► Engine (a leaf: its own kernels on OpenBLAS)
///
/// Measures holds what the others share: channel kinds, roles, modes and device classes, energy and its units, the
/// monotonic clock and number formatting.
let package = Package(
    name: "wattprint",
    products: [
        .executable(name: "wattprint", targets: ["wattprint"]),
        .library(name: "Meters", targets: ["Meters"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Carbon", targets: ["Carbon"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    // Exact versions pin what the executable is built with. Package.resolved is not committed: the machines this
    // project builds on resolve packages from a mirror whose commit ids are not GitHub's, so a resolved file from one
    // would not resolve on another.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
        // The exporter: Prometheus's text format from swift-prometheus, served by FlyingFox (no SwiftNIO: a small
        // build for one endpoint).
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSensors",
            pkgConfig: nil,
            providers: [.apt(["libsensors-dev"])]),
        .target(name: "Measures"),
        .target(
            name: "Ledger",
            dependencies: [
                "Measures",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API beside GRDB, for the few loops over millions of rows (samples) that step statements directly.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // OpenBLAS's header at build time (libopenblas-dev); the library itself is opened on first use.
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // Reduced-precision decode products (bf16, Q8_0): one C function per x86 ISA, chosen at run time. Optimised
        // even in debug builds, as the peak probe is, so tests exercise the code that ships.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "Engine", dependencies: ["CBLAS", "CKernels", "CPeaks"]),
        // The FMA-peak microbenchmark: one vector multiply-add loop per x86 ISA, chosen at run time.
        // Optimised even in debug builds: an unoptimised probe would understate the peak many times over.
        .target(name: "CPeaks", cSettings: [.unsafeFlags(["-O2"])]),
        .target(
            name: "Meters", dependencies: ["Measures", "CSensors"], exclude: ["Data/build_cpu_tdp.py"],
            resources: [.copy("Data/cpu_tdp.csv")]),
        .target(name: "Carbon", dependencies: ["Measures"], exclude: ["Data/build_tables.py"], resources: [.copy("Data")]),
        .target(name: "Accounting", dependencies: ["Measures", "Carbon", "Ledger", "Meters"]),
        // Beyond one machine: the sampler's readings as Prometheus metrics on /metrics.
        .target(
            name: "Exporter",
            dependencies: [
                "Meters", "Measures", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]),
        .target(
            name: "Benchmarks",
            dependencies: [
                "Accounting", "Measures", "Carbon", "Ledger", "Meters", "Engine", "CPeaks",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "Reports",
            dependencies: [
                "Benchmarks", "Accounting", "Measures", "Carbon", "Ledger", "Meters", "Engine",
                .product(name: "Plot", package: "Plot"), .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "wattprint",
            dependencies: [
                "Reports", "Benchmarks", "Accounting", "Measures", "Carbon", "Ledger", "Meters", "Engine", "Exporter",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Measures", "TestSupport"]),
        // What every test target shares: fake /sys and /proc trees, a scripted meter, a manual clock, the stand-in
        // libnvidia-ml.so.1 (built from C at test time), the seeded generator and self-removing scratch folders.
        .target(
            name: "TestSupport", dependencies: ["Meters", "Engine", "Ledger", "Accounting", "Benchmarks"], path: "Tests/TestSupport",
            exclude: ["fake-nvml"]),
        .testTarget(name: "MetersTests", dependencies: ["Meters", "Measures", "TestSupport"]),
        .testTarget(name: "CarbonTests", dependencies: ["Carbon", "Measures", "TestSupport"]),
        .testTarget(name: "ExporterTests", dependencies: ["Exporter", "Meters", "Measures", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "AccountingTests", dependencies: ["Accounting", "Measures", "Carbon", "Ledger", "Meters", "TestSupport"]),
        .testTarget(
            name: "ReportsTests", dependencies: ["Reports", "Benchmarks", "Accounting", "Carbon", "Ledger", "Measures", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "BenchmarksTests", dependencies: ["Benchmarks", "Accounting", "Carbon", "Ledger", "Meters", "Measures", "TestSupport"]),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "wattprint", "TestSupport", "Ledger", "Meters", "Measures", "Accounting", "Engine", "Reports",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v5]
)
