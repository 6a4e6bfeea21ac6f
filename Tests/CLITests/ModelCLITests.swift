import Crypto
import Foundation
import XCTest

/// The engine's own work is recorded like any run: corpus identity, steps, tokens, and J/token.
final class ModelCLITests: XCTestCase {
    func testTrainingRecordsTheCorpusHashStepsAndTokens() throws {
        let dir = try scratchDirectory()
        let corpus = dir.appendingPathComponent("corpus.txt")
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60)
        try text.write(to: corpus, atomically: false, encoding: .utf8)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "train", "--corpus", corpus.path, "--layers", "1", "--width", "32", "--heads", "2", "--seq", "16",
            "--batch", "2", "--steps", "3", "--ledger", ledger, "--region", "FR", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let expected = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(report["corpusSHA256"] as? String, expected)
        let runID = try XCTUnwrap(report["runID"] as? Int)
        let show = try XCTUnwrap(try json(try CLI.run(["show", "\(runID)", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        XCTAssertEqual(show["tokens"] as? Double, 3 * 2 * 16, "three steps of B×T = 2×16 tokens")
        XCTAssertGreaterThan(show["joulesPerToken"] as? Double ?? 0, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testBenchRecordsItsTimedStepsAsAMeasurementWindow() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "bench", "--layers", "1", "--width", "64", "--heads", "1", "--vocab", "256", "--context", "32",
            "--seq", "16", "--batch", "2", "--steps", "2", "--ledger", ledger, "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let record = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let energy = try XCTUnwrap(record["energy"] as? [String: Any])
        XCTAssertEqual(energy["tokens"] as? Int, 2 * 2 * 16)
        XCTAssertNotNil((energy["window"] as? [String: Any])?["totalJoules"])
        let bench = try XCTUnwrap(record["bench"] as? [String: Any])
        XCTAssertGreaterThan(bench["modelFLOPsUtilization"] as? Double ?? 0, 0)
        // The optimizer is timed inside each step: more than nothing, less than the whole step.
        let optimizer = try XCTUnwrap(bench["medianOptimizerSeconds"] as? Double),
            step = try XCTUnwrap(bench["medianStepSeconds"] as? Double)
        XCTAssertGreaterThan(optimizer, 0)
        XCTAssertLessThan(optimizer, step)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    /// The bench ends with the timed steps' carbon at the region's grid, and says loudly when no region was given.
    func testBenchPrintsTheTimedStepsCarbonAndWarnsOfADefaultedRegion() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let args = [
            "model", "bench", "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "64", "--context", "16", "--seq", "8",
            "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--ledger", ledger,
        ]
        let france = try CLI.run(args + ["--region", "FR"])
        XCTAssertEqual(france.status, 0, france.stderr)
        let carbon = try XCTUnwrap(france.stdout.split(separator: "\n").first { $0.hasPrefix("carbon ") }, france.stdout)
        XCTAssertTrue(carbon.contains("g CO2e/token") && carbon.contains("grid FR (France)"), String(carbon))
        XCTAssertFalse(france.stdout.contains("REGION DEFAULTED"))
        let world = try CLI.run(args + ["--json"])
        XCTAssertEqual(world.status, 0, world.stderr)
        let record = try XCTUnwrap(try json(world.stdout) as? [String: Any])
        let printed = try XCTUnwrap(record["carbon"] as? [String: Any])
        let energy = try XCTUnwrap((record["energy"] as? [String: Any])?["window"] as? [String: Any])
        // The timed steps' grams are their IT energy × PUE × intensity (no hourly series, no embodied share here).
        let joules = try XCTUnwrap(energy["totalJoules"] as? Double)
        let expected = joules / 3.6e6 * (printed["pue"] as? Double ?? 0) * (printed["gramsPerKilowattHour"] as? Double ?? 0)
        XCTAssertEqual(printed["timedGrams"] as? Double ?? 0, expected, accuracy: expected * 1e-9)
        XCTAssertTrue((printed["warnings"] as? [String])?.first?.contains("REGION DEFAULTED TO WORLD AVERAGE") == true, "\(printed)")
        XCTAssertTrue(world.stderr.contains("WARNING: REGION DEFAULTED TO WORLD AVERAGE"), "JSON on stdout, the warning on the terminal")
        XCTAssertEqual(printed["pueAssumed"] as? Bool, true)
        XCTAssertTrue(carbon.contains("PUE 1.56, assumed on-premises (another PUE P scales it by P/1.56)"), String(carbon))
        // Empty kernel variables count as unset, as OpenBLAS's and the C kernels' own do.
        let empty = try CLI.run(["runs", "--ledger", ledger], env: ["WATTPRINT_MATMUL_KERNEL": "", "WATTPRINT_QUANT_KERNEL": ""])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        // The recorded benchmark is the measurement only; the carbon is recomputed by `show` from the ledger.
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    /// A forced narrower OpenBLAS kernel than the CPU's vectors is named, with the fix, as `bench` does.
    func testBenchNamesForcedNarrowBLASKernels() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let args = [
            "model", "bench", "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "64", "--context", "16", "--seq", "8",
            "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--ledger", ledger, "--region", "FR",
        ]
        let r = try CLI.run(args + ["--json"], env: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bench = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["bench"] as? [String: Any])
        XCTAssertEqual(bench["blasCoreOverride"] as? String, "Haswell")
        let text = try CLI.run(args, env: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(text.status, 0, text.stderr)
        if bench["blasCore"] as? String == "Haswell", bench["fmaVectorBits"] as? Int == 512 {
            XCTAssertTrue(
                text.stdout.contains(
                    "narrow kernels: OpenBLAS runs its Haswell kernels (256-bit vectors) on a CPU with AVX-512F (512-bit)"),
                text.stdout)
            XCTAssertTrue(
                text.stdout.contains(
                    "OPENBLAS_CORETYPE=Haswell in the environment forces them; fix: unset OPENBLAS_CORETYPE or set OPENBLAS_CORETYPE=SkylakeX"
                ), text.stdout)
        } else {
            // A CPU without AVX-512 (or an OpenBLAS that ignores the variable) runs no narrower kernel than it has.
            XCTAssertFalse(text.stdout.contains("narrow kernels"), text.stdout)
        }
    }

    /// A misspelt kernel variable fails before anything runs (no ledger, no run), naming the values it takes.
    func testMisspeltKernelVariablesAreRefused() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let bench = [
            "model", "bench", "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "64", "--context", "16", "--seq", "8",
            "--phase", "prefill", "--steps", "1", "--warmup", "0", "--threads", "1", "--ledger", ledger, "--region", "FR",
        ]
        let matmul = try CLI.run(bench, env: ["WATTPRINT_MATMUL_KERNEL": "sgem"])
        XCTAssertEqual(matmul.status, 1)
        XCTAssertTrue(matmul.stderr.contains("WATTPRINT_MATMUL_KERNEL=sgem is not a matrix kernel; set it to sgemm"), matmul.stderr)
        let former = try CLI.run(bench, env: ["WATTPRINT_PREFILL_KERNEL": "sgemm"])
        XCTAssertEqual(former.status, 1)
        XCTAssertTrue(former.stderr.contains("unset it and set WATTPRINT_MATMUL_KERNEL=sgemm instead"), former.stderr)
        let quant = try CLI.run(bench, env: ["WATTPRINT_QUANT_KERNEL": "avx2"])
        XCTAssertEqual(quant.status, 1)
        XCTAssertTrue(quant.stderr.contains("WATTPRINT_QUANT_KERNEL=avx2 is not a kernel level"), quant.stderr)
        let backoff = try CLI.run(bench, env: ["WATTPRINT_POOL_BACKOFF": "0"])
        XCTAssertEqual(backoff.status, 1)
        XCTAssertTrue(backoff.stderr.contains("WATTPRINT_POOL_BACKOFF=0 is not a setting; set it to off"), backoff.stderr)
        let layout = try CLI.run(bench, env: ["WATTPRINT_DECODE_LAYOUT": "transposed"])
        XCTAssertEqual(layout.status, 1)
        XCTAssertTrue(layout.stderr.contains("WATTPRINT_DECODE_LAYOUT=transposed is not a layout; set it to stored"), layout.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing ran, so no ledger was created")
        let fine = try CLI.run(bench + ["--json"], env: ["WATTPRINT_MATMUL_KERNEL": "sgemm", "WATTPRINT_QUANT_KERNEL": "2"])
        XCTAssertEqual(fine.status, 0, fine.stderr)
        let kernel = try XCTUnwrap(((try json(fine.stdout) as? [String: Any])?["bench"] as? [String: Any])?["prefillKernel"] as? String)
        XCTAssertTrue(kernel.hasPrefix("OpenBLAS sgemm"), kernel)
        XCTAssertEqual(try CLI.run(["runs", "--ledger", ledger], env: ["WATTPRINT_MATMUL_KERNEL": "engine"]).status, 0)
        // Every bad variable at once, and help still prints (it explains them).
        let both = try CLI.run(bench, env: ["WATTPRINT_MATMUL_KERNEL": "x", "WATTPRINT_QUANT_KERNEL": "9"])
        XCTAssertEqual(both.status, 1)
        XCTAssertTrue(both.stderr.contains("WATTPRINT_MATMUL_KERNEL=x") && both.stderr.contains("WATTPRINT_QUANT_KERNEL=9"), both.stderr)
        let help = try CLI.run(["model", "bench", "--help"], env: ["WATTPRINT_MATMUL_KERNEL": "x"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("WATTPRINT_MATMUL_KERNEL=sgemm"), help.stdout)
    }

    /// OpenBLAS is opened by the engine on first use, not linked: with the library hidden (a private mount
    /// namespace binds /dev/null over it), measuring still works and a model command says what to install.
    func testOpenBLASIsNeededOnlyByTheEngineAndItsAbsenceIsNamed() throws {
        try XCTSkipUnless(geteuid() == 0, "hiding a system library in a private mount namespace needs root (CI runs as root)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "unshare (util-linux) is not installed")
        let library = URL(fileURLWithPath: "/usr/lib/x86_64-linux-gnu/libopenblas.so.0").resolvingSymlinksInPath().path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: library), "OpenBLAS is not at the Debian path here")
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let script =
            "mount --bind /dev/null \(library) || { echo WATTPRINT-MOUNT-REFUSED >&2; exit 99; }\n"
            + "\"$1\" sensors --json > /dev/null || exit 10\n"
            + "\"$1\" run --ledger \(ledger) --region FR -- true 2> /dev/null || exit 11\n"
            + "exec \"$1\" model bench --layers 1 --width 64 --heads 1 --vocab 256 --context 32 --seq 16 --batch 2 --steps 1 --ledger \(ledger) --region FR\n"
        let r = try CLI.run(["-m", "sh", "-c", script, "sh", CLI.binary.path], executable: URL(fileURLWithPath: "/usr/bin/unshare"))
        if r.stderr.contains("WATTPRINT-MOUNT-REFUSED") { throw XCTSkip("a private mount namespace was refused here: \(r.stderr)") }
        XCTAssertNotEqual(r.status, 10, "sensors needs no OpenBLAS")
        XCTAssertNotEqual(r.status, 11, "run needs no OpenBLAS")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OpenBLAS could not be loaded") && r.stderr.contains("apt install libopenblas0"), r.stderr)
        let runs = try XCTUnwrap(try json(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout) as? [[String: Any]])
        XCTAssertEqual(runs.last?["status"] as? String, "complete", "the failed bench is a closed run")
        XCTAssertEqual(runs.last?["exitCode"] as? Int, 1)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }
}
