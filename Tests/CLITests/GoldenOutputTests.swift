import Foundation
import XCTest

/// Text and JSON of the commands users read, pinned word for word (as swift-argument-parser pins its examples), so
/// moving the rendering cannot change what is printed. Outputs that depend on the machine (kernel, hostname) or on
/// timing (benchmarks) are normalised first. Run with WATTPRINT_RECORD_GOLDEN=1 to write the files after an
/// intended change, and review the diff.
final class GoldenOutputTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    private func assertGolden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["WATTPRINT_RECORD_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: false, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if expected != actual {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false),
                e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
            XCTFail(
                "\(name) differs from its golden file at line \(first + 1):\n  expected: \(first < e.count ? e[first] : "<end>")\n  actual:   \(first < a.count ? a[first] : "<end>")\n(WATTPRINT_RECORD_GOLDEN=1 rewrites it)",
                file: file, line: line)
        }
    }

    /// Replaces every match of each pattern with its label.
    private func masked(_ text: String, _ patterns: [(String, String)]) -> String {
        patterns.reduce(text) { t, p in t.replacingOccurrences(of: p.0, with: p.1, options: .regularExpression) }
    }

    private lazy var ledger: String = {
        let path = (try? scratchDirectory("golden"))!.appendingPathComponent("golden.sqlite").path
        try? FixedLedger.make(at: path)
        return path
    }()

    func testShowAndTheRunSummary() throws {
        let text = try CLI.run(["show", "1", "--ledger", ledger])
        XCTAssertEqual(text.status, 0, text.stderr)
        try assertGolden("show.txt", text.stdout)
        let json = try CLI.run(["show", "1", "--ledger", ledger, "--json"])
        try assertGolden("show.json", json.stdout)
        let runs = try CLI.run(["runs", "--ledger", ledger, "--json"])
        try assertGolden("runs.json", masked(runs.stdout, [(#""batches" : \d+"#, #""batches" : N"#)]))
    }

    func testVerify() throws {
        let text = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(text.status, 0, text.stdout)
        try assertGolden("verify.txt", masked(text.stdout, [(#"\(\d+ batches, \d+ rows\)"#, "(N batches, M rows)")]))
        let json = try CLI.run(["verify", "--ledger", ledger, "--json"])
        try assertGolden("verify.json", masked(json.stdout, [(#""(batches|rows)" : \d+"#, #""$1" : N"#)]))
    }

    func testEstimate() throws {
        let args = [
            "estimate", "--energy", "1287MWh", "--region", "US", "--pue", "1.1", "--hardware", "h100", "--count", "8",
            "--hours", "24", "--covered-share", "0.5", "--usage-year", "2025",
        ]
        let text = try CLI.run(args)
        XCTAssertEqual(text.status, 0, text.stderr)
        try assertGolden("estimate.txt", text.stdout)
        try assertGolden("estimate.json", try CLI.run(args + ["--json"]).stdout)
    }

    func testGridShow() throws {
        try assertGolden("grid-show.txt", try CLI.run(["grid", "show", "aws:eu-west-3"]).stdout)
        try assertGolden("grid-show.json", try CLI.run(["grid", "show", "US-CAL-CISO", "--json"]).stdout)
    }

    func testSensorsOnAFakeTwoSocketHost() throws {
        let dir = try scratchDirectory()
        func write(_ rel: String, _ s: String) throws {
            let u = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try s.write(to: u, atomically: false, encoding: .utf8)
        }
        for (zone, name) in [
            ("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "dram"), ("intel-rapl:1", "package-1"), ("intel-rapl:1:0", "dram"),
            ("intel-rapl:2", "psys"),
        ] {
            try write("sys/class/powercap/\(zone)/name", name + "\n")
            try write("sys/class/powercap/\(zone)/energy_uj", "1000\n")
            try write("sys/class/powercap/\(zone)/max_energy_range_uj", "262143328850\n")
        }
        try write("proc/stat", "cpu  100 0 100 1000 0 0 0 0 0 0\n")
        try write("proc/meminfo", "MemTotal: 1000000 kB\nMemFree: 400000 kB\nMemAvailable: 500000 kB\n")
        try write(
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz\nphysical id\t: 0\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz\nphysical id\t: 1\n"
        )
        let env = [
            "WATTPRINT_SYSFS_ROOT": dir.appendingPathComponent("sys").path,
            "WATTPRINT_PROCFS_ROOT": dir.appendingPathComponent("proc").path,
        ]
        let machine: [(String, String)] = [
            (dir.path, "<tree>"), (#""hostname" : "[^"]*""#, #""hostname" : "<hostname>""#),
            (#"kernel [^\n"]+"#, "kernel <kernel>"), (#""kernel" : "[^"]*""#, #""kernel" : "<kernel>""#),
        ]
        let text = try CLI.run(["sensors"], env: env)
        XCTAssertEqual(text.status, 0, text.stderr)
        try assertGolden("sensors.txt", masked(text.stdout, machine))
        try assertGolden("sensors.json", masked(try CLI.run(["sensors", "--json"], env: env).stdout, machine))
    }

    /// A tiny model so the bench runs in seconds; every measured number is masked, the shape and words are pinned.
    func testModelBench() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let args = [
            "model", "bench", "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "64", "--context", "16", "--seq", "8",
            "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--ledger", ledger, "--region", "FR",
        ]
        let text = try CLI.run(args)
        XCTAssertEqual(text.status, 0, text.stderr)
        // OpenBLAS's core, the FMA probe's vector ISA and the products' kernel are the machine's, and so is whether the
        // core is narrower than the CPU's vectors (its line is pinned in ModelCLITests).
        let machine = [
            (#", [A-Za-z0-9_]+ kernels,"#, ", CORE kernels,"), (#"independent [A-Za-z0-9+-]+ multiply"#, "independent ISA multiply"),
            (#"\n  narrow kernels: [^\n]*"#, ""), (#"products     train: [^\n]*"#, "products     train: KERNEL"),
        ]
        try assertGolden("model-bench.txt", masked(text.stdout, machine + [(#"[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?"#, "#")]))
        let json = try CLI.run(args + ["--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let keys = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        // `blasCoreOverride` is there only where the environment sets OPENBLAS_CORETYPE.
        let paths = Self.keyPaths(keys).filter { $0 != "bench.blasCoreOverride" }
        try assertGolden("model-bench-keys.txt", paths.joined(separator: "\n") + "\n")
    }

    /// Every key path of a JSON object, sorted: the shape of a report whose numbers vary.
    static func keyPaths(_ value: Any, prefix: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return object.keys.sorted().flatMap { keyPaths(object[$0]!, prefix: prefix.isEmpty ? $0 : prefix + "." + $0) }
        }
        if let array = value as? [Any] { return array.first.map { keyPaths($0, prefix: prefix + "[]") } ?? [prefix + "[]"] }
        return [prefix]
    }
}
