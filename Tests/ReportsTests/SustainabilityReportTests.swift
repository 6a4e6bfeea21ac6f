import Accounting
import Benchmarks
import Carbon
import Crypto
import Foundation
import Ledger
import Reports
import TestSupport
import XCTest

/// Sustainability reports from a ledger: the SCI template's content adding up, every format, the JSON schema, the
/// CodeCarbon header, signatures, verification naming the figure that differs, and bad requests.
final class SustainabilityReportTests: XCTestCase {
    /// Records a run in FR with no phases for `seconds`, finished and (unless `close` is false) closed as complete.
    @discardableResult
    func recordBareRun(in ledger: Ledger, seconds: Double, close: Bool = true) throws -> LedgerPhaseRecorder {
        let recorder = try LedgerPhaseRecorder(
            ledger: ledger,
            settings: FootprintSettings(
                region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil))
        Thread.sleep(forTimeInterval: seconds)
        try recorder.finish()
        if close { try recorder.run.close(status: .complete, exitCode: 0) }
        return recorder
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schemas/sustainability-report.schema.json")

    var ledger: Ledger!
    var dir = ""

    /// Two closed runs at 20 W of work and 5 W idle: a training run (model, steps with learning rates, tokens, phases)
    /// and a plain one.
    override func setUpWithError() throws {
        dir = try TestScratch.folder(name).path
        ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        for training in [true, false] {
            let r = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
            if training {
                r.record(.workload(WorkloadDescription(architecture: "llama", parameters: 1000, configuration: .object([:]))))
            }
            r.begin(PhaseMark(name: "train"))
            Thread.sleep(forTimeInterval: 0.05)
            for step in 1...3 {
                r.record(.step(StepRecord(index: step, tokens: 100, loss: 3, learningRate: training ? 1e-3 : nil)))
                r.record(.tokens(TokenCount(count: 100, phase: "train")))
            }
            r.end(PhaseMark(name: "train"))
            try r.finish()
            r.run.record(RecordedResult(try RunEnergy.compute(ledger: ledger, run: r.run.runID)).event)
            try r.run.close(status: .complete, exitCode: 0)
        }
    }

    func builder() throws -> SustainabilityReportBuilder {
        SustainabilityReportBuilder(ledger: ledger, carbon: try CarbonData.bundled(), toolVersion: "test")
    }

    func testRunReportAddsUpInEveryFormat() throws {
        let r = try builder().build(.init(kind: .run, runs: [1]))
        let s = try XCTUnwrap(r.runs.first)
        XCTAssertEqual(s.sci.functionalUnit, "token")
        XCTAssertEqual(s.sci.functionalUnits, 300)
        XCTAssertEqual(s.sci.operationalGrams + s.sci.embodiedGrams, s.sci.totalGrams, accuracy: 1e-12)
        XCTAssertEqual(s.sci.perUnitGrams, s.sci.totalGrams / 300, accuracy: 1e-15)
        XCTAssertEqual(s.sci.energy.basis, .measured)
        XCTAssertEqual(s.sci.intensity.basis, .sourced)
        XCTAssertEqual(s.sci.embodied.basis, .excluded)
        XCTAssertTrue(s.sci.excluded.contains { $0.contains("embodied") })
        let grid = try XCTUnwrap(s.coefficients.first { $0.name.hasPrefix("grid intensity") })
        XCTAssertNotNil(grid.year)
        XCTAssertFalse(grid.licence.isEmpty)
        XCTAssertEqual(s.sci.energy.value, s.kWh * (s.coefficients.first { $0.name.hasPrefix("PUE") }?.value ?? 0), accuracy: 1e-12)
        XCTAssertNil(s.marketBasedGrams, "no contractual data: no market-based figure")
        XCTAssertEqual(s.modelCard?.trainingType, "pre-training")
        XCTAssertEqual(s.modelCard?.emissions ?? 0, s.totalGrams, accuracy: 1e-12)
        XCTAssertTrue(s.quotable.hasPrefix("Training run 1") && s.quotable.contains("kWh") && s.quotable.contains("France"), s.quotable)
        XCTAssertEqual(s.phases.map(\.name), ["train"])
        XCTAssertEqual(s.phases.first?.tokens, 300)
        XCTAssertFalse(s.power.isEmpty)
        let markdown = SustainabilityMarkdown.render(r)
        for heading in [
            "## Summary", "### Software Carbon Intensity (SCI)", "### Coefficients", "### Model card", "## Methodology", "## Verification",
        ] {
            XCTAssertTrue(markdown.contains(heading), heading)
        }
        // No hardware was given: its embodied emissions are left out, not a measured 0 g.
        XCTAssertTrue(markdown.contains("| embodied | not included (no hardware was recorded"), markdown)
        XCTAssertTrue(markdown.contains("- embodied: not included (no hardware was recorded"), markdown)
        // A run with phases says its J/token is the whole run's, and what a phase's J/token pools.
        let scoped = " J/token over the whole run (idle baselines, probes and set-up included; per phase below)"
        XCTAssertTrue(markdown.contains("- 300 tokens, ") && markdown.contains(scoped), markdown)
        XCTAssertTrue(markdown.contains("| phase | seconds | kWh | tokens | J/token (all windows) |"), markdown)
        XCTAssertTrue(markdown.contains("all its windows (a benchmark's repeats) together; `wattprint bench`"), markdown)
        let html = SustainabilityHTML.render(r)
        XCTAssertTrue(html.contains(scoped) && html.contains("J/token (all windows)"), html)
        XCTAssertTrue(html.contains("embodied: not included (no hardware was recorded"))
        for chart in ["power", "channels", "phases"] { XCTAssertTrue(html.contains("data-chart=\"\(chart)\""), chart) }
        XCTAssertFalse(
            html.contains("<script") || html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"), "nothing to fetch or run")
        XCTAssertNil(
            try builder().build(.init(kind: .run, runs: [2])).runs[0].modelCard, "a run without a model and optimizer steps is not training"
        )
    }

    func testCSVHeaderIsCodeCarbons() throws {
        let fixture = try String(contentsOf: Self.fixtures.appendingPathComponent("codecarbon-3.3.2-emissions.csv"), encoding: .utf8)
        let theirs = fixture.split(separator: "\n")[0].split(separator: ",").map(String.init)
        XCTAssertEqual(theirs.count, 38)
        let csv = try CodeCarbonCSV.render(try builder().build(.init(kind: .comparison, runs: [1, 2])))
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, "a header and one row per run")
        let ours = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(ours.prefix(38)), theirs, "CodeCarbon 3.3.2's columns, in its order")
        XCTAssertEqual(Array(ours.dropFirst(38)), CodeCarbonCSV.wattprintColumns)
        // CodeCarbon names the country and gives its ISO 3166-1 alpha-3 code ("France", "FRA" in its own file).
        let row = Dictionary(
            uniqueKeysWithValues: zip(ours, lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        XCTAssertEqual([row["country_name"], row["country_iso_code"], row["region"]], ["France", "FRA", ""])
        let grid = try CarbonData.bundled().grid
        let california = CodeCarbonCSV.country(of: "US-CAL-CISO", grid: grid)
        XCTAssertEqual(california.iso3, "USA")
        XCTAssertEqual(california.region, try grid.resolve("US-CAL-CISO").zone.name)
        XCTAssertEqual(CodeCarbonCSV.country(of: "aws:eu-west-3", grid: grid).iso3, "FRA")
        XCTAssertTrue(CodeCarbonCSV.country(of: "WORLD", grid: grid) == ("", "", ""), "the world average is no country")
    }

    func testEveryKindOfJSONReportMatchesTheSchema() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import jsonschema"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        try XCTSkipUnless(check.terminationStatus == 0, "python3's jsonschema is not installed (Debian: python3-jsonschema)")
        let requests: [SustainabilityReport.Request] = [
            .init(kind: .run, runs: [1]), .init(kind: .comparison, runs: [1, 2]),
            .init(kind: .period, since: "2000-01-01", groupBy: "model"),
        ]
        for (i, request) in requests.enumerated() {
            let key = Curve25519.Signing.PrivateKey()
            let path = dir + "/report-\(i).json"
            try SustainabilityJSON.render(try ReportSignature.sign(try builder().build(request), with: key)).write(
                toFile: path, atomically: false, encoding: .utf8)
            let validate = Process()
            validate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            validate.arguments = [
                "python3", "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))", path,
                Self.schema.path,
            ]
            let errors = Pipe()
            validate.standardError = errors
            try validate.run()
            validate.waitUntilExit()
            XCTAssertEqual(
                validate.terminationStatus, 0,
                "\(request.kind): \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
    }

    func testSignatureAndVerificationNameWhatChanged() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try ReportSignature.sign(try builder().build(.init(kind: .run, runs: [1])), with: key)
        XCTAssertEqual(try ReportSignature.check(signed).rawRepresentation, key.publicKey.rawRepresentation)
        var edited = signed
        edited.runs[0].kWh *= 0.5
        XCTAssertThrowsError(try ReportSignature.check(edited)) { XCTAssertTrue("\($0)".contains("edited after signing"), "\($0)") }
        var unsigned = signed
        unsigned.verification.signature = nil
        XCTAssertThrowsError(try ReportSignature.check(unsigned)) { XCTAssertTrue("\($0)".contains("not signed"), "\($0)") }
        // Signed again after the edit: the signature holds, so only the recomputation can tell.
        let resigned = try ReportSignature.sign(edited, with: key)
        let path = dir + "/edited.json"
        try SustainabilityJSON.render(resigned).write(toFile: path, atomically: false, encoding: .utf8)
        let carbon = try CarbonData.bundled()
        let outcome = try ReportVerification.verify(file: path, ledger: ledger, carbon: carbon, toolVersion: "test", hostKey: nil)
        XCTAssertFalse(outcome.signedByThisHost)
        XCTAssertTrue(outcome.firstDifference?.hasPrefix("runs[0].kWh") == true, outcome.firstDifference ?? "no difference")
        let honest = dir + "/honest.json"
        try SustainabilityJSON.render(signed).write(toFile: honest, atomically: false, encoding: .utf8)
        let ok = try ReportVerification.verify(file: honest, ledger: ledger, carbon: carbon, toolVersion: "other", hostKey: key.publicKey)
        XCTAssertNil(ok.firstDifference)
        XCTAssertTrue(ok.matches, ok.brokenChain ?? "")
        XCTAssertNil(ok.otherLedger)
        XCTAssertTrue(ok.signedByThisHost)
        XCTAssertNil(outcome.otherLedger, "an edited figure in a report of this ledger is not another ledger's")
        // Against another ledger whose run 1 is another run: the figures differ, and the report's source is named.
        let other = try Ledger(path: dir + "/other.sqlite")
        try recordBareRun(in: other, seconds: 0.02)
        let elsewhere = try ReportVerification.verify(file: honest, ledger: other, carbon: carbon, toolVersion: "other", hostKey: nil)
        XCTAssertNotNil(elsewhere.firstDifference)
        XCTAssertTrue(
            elsewhere.otherLedger?.hasSuffix("the report was made from \(ledger.path); pass --ledger \(ledger.path)") == true,
            elsewhere.otherLedger ?? "no ledger named")
        // Merged into that ledger, the report's run is there under another id: it is named.
        try other.merge(from: [ledger.path])
        let merged = try ReportVerification.verify(file: honest, ledger: other, carbon: carbon, toolVersion: "other", hostKey: nil)
        XCTAssertTrue(
            merged.otherLedger?.hasSuffix("this ledger holds that run as run 2 (merged from another ledger?)") == true,
            merged.otherLedger ?? "no run named")
        // A ledger made again at the report's own path: it no longer holds the run, whatever --ledger says.
        let replacedPath = dir + "/replaced.sqlite"
        var first: Ledger? = try Ledger(path: replacedPath)
        for attempt in 0..<2 {
            try recordBareRun(in: first!, seconds: 0.01 * Double(attempt + 1))
            if attempt == 0 {
                let made = try ReportSignature.sign(
                    try SustainabilityReportBuilder(ledger: first!, carbon: carbon, toolVersion: "test").build(
                        .init(kind: .run, runs: [1])),
                    with: key)
                try SustainabilityJSON.render(made).write(toFile: dir + "/replaced.json", atomically: false, encoding: .utf8)
                first = nil
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: replacedPath + suffix) {
                    try FileManager.default.removeItem(atPath: replacedPath + suffix)
                }
                first = try Ledger(path: replacedPath)
            }
        }
        let replaced = try ReportVerification.verify(
            file: dir + "/replaced.json", ledger: first!, carbon: carbon, toolVersion: "test", hostKey: nil)
        XCTAssertTrue(
            replaced.otherLedger?.hasSuffix(
                "the ledger at this path no longer holds the run the report was made from (replaced or rebuilt since)")
                == true, replaced.otherLedger ?? "nothing said")
        try "{\"schema\": 1}".write(toFile: dir + "/junk.json", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(
            try ReportVerification.verify(file: dir + "/junk.json", ledger: ledger, carbon: carbon, toolVersion: "t", hostKey: nil)
        ) {
            XCTAssertTrue("\($0)".contains("is not a wattprint JSON report"), "\($0)")
        }
    }

    /// A report made from rows altered after they were recorded rebuilds to the same figures, so `verify --report`
    /// fails it on the runs' hash chains, naming the run and where its chain breaks.
    func testAReportOfAlteredRowsFailsOnTheirHashChain() throws {
        let key = Curve25519.Signing.PrivateKey(), carbon = try CarbonData.bundled()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", ledger.path, "UPDATE sample SET value = value * 0.5 WHERE run_id = 1"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let report = try ReportSignature.sign(try builder().build(.init(kind: .run, runs: [1])), with: key)
        let path = dir + "/altered.json"
        try SustainabilityJSON.render(report).write(toFile: path, atomically: false, encoding: .utf8)
        let outcome = try ReportVerification.verify(file: path, ledger: ledger, carbon: carbon, toolVersion: "test", hostKey: nil)
        XCTAssertNil(outcome.firstDifference, "figures rebuilt from the altered rows match the report made from them")
        XCTAssertFalse(outcome.matches)
        let broken = try XCTUnwrap(outcome.brokenChain)
        XCTAssertTrue(broken.hasPrefix("run 1 of \(ledger.path) does not verify against its hash chain (batch "), broken)
        XCTAssertTrue(broken.hasSuffix("): the ledger was changed after it was recorded"), broken)
        XCTAssertNil(try ReportVerification.firstBrokenChain(runs: [2], ledger: ledger), "run 2 was not touched")
        // A run still being recorded (never closed) holds up to its last batch: no broken chain.
        let open = try recordBareRun(in: ledger, seconds: 0.05, close: false)
        XCTAssertNil(try ReportVerification.firstBrokenChain(runs: [open.run.runID], ledger: ledger), "an unclosed run is intact")
    }

    /// A period report from before wattprint recorded a period's end (no `until`) covers the runs it lists: a run
    /// recorded after it does not make it fail.
    func testAPeriodReportWithoutAnEndCoversTheRunsItLists() throws {
        let key = Curve25519.Signing.PrivateKey(), carbon = try CarbonData.bundled()
        let request = SustainabilityReport.Request(kind: .period, since: "2000-01-01", groupBy: "model")
        let report = try ReportSignature.sign(try builder().build(request), with: key)
        XCTAssertEqual(report.runs.count, 2)
        let path = dir + "/period.json"
        try SustainabilityJSON.render(report).write(toFile: path, atomically: false, encoding: .utf8)
        try recordBareRun(in: ledger, seconds: 0.05)
        XCTAssertEqual(try builder().build(request).runs.count, 3, "the open-ended period now holds the later run")
        let outcome = try ReportVerification.verify(file: path, ledger: ledger, carbon: carbon, toolVersion: "test", hostKey: nil)
        XCTAssertNil(outcome.firstDifference, outcome.firstDifference ?? "")
        XCTAssertTrue(outcome.matches, outcome.brokenChain ?? "")
    }

    /// A report of schema 1 (made before schema 2 changed how some content is worded) verifies under its own rules, while
    /// a new one follows schema 2's: its headline says how the energy was known and counts runs in words. A schema
    /// this wattprint does not know is refused by name.
    func testSchemaOneReportsStillVerifyUnderTheirRules() throws {
        let key = Curve25519.Signing.PrivateKey(), carbon = try CarbonData.bundled()
        let request = SustainabilityReport.Request(kind: .comparison, runs: [1, 2])
        let old = try ReportSignature.sign(try builder().build(request, schema: 1), with: key)
        let new = try builder().build(request)
        XCTAssertEqual(old.schema, 1)
        XCTAssertEqual(new.schema, SustainabilityReport.schemaVersion)
        XCTAssertTrue(old.quotable.hasPrefix("2 run(s) used "), old.quotable)
        XCTAssertFalse(old.quotable.contains("estimated"), old.quotable)
        XCTAssertTrue(new.quotable.hasPrefix("2 runs used "), new.quotable)
        XCTAssertTrue(new.quotable.contains(" kWh of IT energy (90 % interval "), new.quotable)
        XCTAssertTrue(new.quotable.contains("; measured) in "), "both runs' energy was measured: \(new.quotable)")
        XCTAssertTrue(new.quotable.contains("(location-based, each run's PUE included), measured with wattprint test."), new.quotable)
        let single = try builder().build(.init(kind: .run, runs: [1]))
        XCTAssertTrue(single.quotable.contains(" g CO2e/kWh × PUE "), "a run's headline names its PUE: \(single.quotable)")
        XCTAssertFalse(old.quotable.contains("PUE"), "schema 1's headline did not")
        let path = dir + "/schema1.json"
        try SustainabilityJSON.render(old).write(toFile: path, atomically: false, encoding: .utf8)
        let outcome = try ReportVerification.verify(file: path, ledger: ledger, carbon: carbon, toolVersion: "test", hostKey: nil)
        XCTAssertNil(outcome.firstDifference, outcome.firstDifference ?? "")
        XCTAssertTrue(outcome.matches, outcome.brokenChain ?? "")
        let future = try SustainabilityJSON.render(old).replacingOccurrences(of: "\"schema\" : 1", with: "\"schema\" : 9")
        XCTAssertNotEqual(future, try SustainabilityJSON.render(old))
        try future.write(toFile: dir + "/schema9.json", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(
            try ReportVerification.verify(file: dir + "/schema9.json", ledger: ledger, carbon: carbon, toolVersion: "t", hostKey: nil)
        ) {
            XCTAssertTrue("\($0)".contains("is a report of schema 9; this wattprint reads schemas 1 to 4"), "\($0)")
        }
        XCTAssertThrowsError(try builder().build(request, schema: 5)) { XCTAssertTrue("\($0)".contains("schema 5"), "\($0)") }
    }

    /// A period report the previous wattprint (3ad4f1f, schema 1) wrote over two `bench tiny` runs, with the ledger it was
    /// made from (`Fixtures/schema1`): today's verification rebuilds it under schema 1's rules and finds every figure.
    func testAReportTheSchemaOneWattprintWroteStillVerifies() throws {
        let folder = Self.fixtures.appendingPathComponent("schema1")
        let ledgerCopy = dir + "/schema1.sqlite"
        try FileManager.default.copyItem(atPath: folder.appendingPathComponent("ledger.sqlite").path, toPath: ledgerCopy)
        let path = folder.appendingPathComponent("period.json").path
        let report = try SustainabilityJSON.read(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        XCTAssertEqual(report.schema, 1)
        XCTAssertEqual(report.groups.map(\.name), ["wattprint bench"], "schema 1 grouped every benchmark together")
        let outcome = try ReportVerification.verify(
            file: path, ledger: try Ledger(path: ledgerCopy), carbon: try CarbonData.bundled(), toolVersion: "test", hostKey: nil)
        XCTAssertNil(outcome.firstDifference, outcome.firstDifference ?? "")
        XCTAssertTrue(outcome.matches, outcome.brokenChain ?? "")
        XCTAssertFalse(outcome.signedByThisHost)
    }

    func testPeriodsAndBadRequests() throws {
        let period = try builder().build(.init(kind: .period, since: "2000-01-01", until: "2999-01-01", groupBy: "model"))
        XCTAssertEqual(period.totals.runs, 2)
        XCTAssertEqual(period.groups.map(\.name).sorted(), ["llama 1,000", "no model recorded"])
        XCTAssertEqual(period.trend.count, 1)
        XCTAssertEqual(period.totals.kWh, period.runs.reduce(0) { $0 + $1.kWh }, accuracy: 1e-15)
        XCTAssertTrue(period.runs.allSatisfy(\.power.isEmpty), "a period leaves power curves to the run reports")
        func fails(_ request: SustainabilityReport.Request, _ words: String) {
            XCTAssertThrowsError(try builder().build(request)) { XCTAssertTrue("\($0)".contains(words), "\($0)") }
        }
        fails(.init(kind: .run, runs: [99]), "run 99 is not in the ledger")
        fails(.init(kind: .period, since: "1990-01-01", until: "1990-02-01"), "no run started between 1990-01-01 and 1990-02-01")
        fails(.init(kind: .period, since: "last tuesday"), "'last tuesday' is not a date")
        // A bound with a UTC offset or without fractional seconds selects as its UTC time does.
        let offset = try builder().build(.init(kind: .period, since: "2000-01-01T01:00:00+01:00", until: "2999-01-01T00:00:00Z"))
        XCTAssertEqual(offset.totals.runs, 2)
    }

    /// Period bounds: a day as given; a time with `Z` or an offset, with or without fractional seconds, as the ledger
    /// writes times; anything else refused with the forms it takes.
    func testPeriodBoundsTakeDaysAndTimesWithOffsets() throws {
        for (text, bound) in [
            ("2026-11-30", "2026-11-30"), ("2026-11-30T08:00:00Z", "2026-11-30T08:00:00.000Z"),
            ("2026-11-30T08:00:00.118Z", "2026-11-30T08:00:00.118Z"), ("2026-11-30T09:00:00+01:00", "2026-11-30T08:00:00.000Z"),
            ("2026-11-30T09:00:00.250+01:00", "2026-11-30T08:00:00.250Z"), ("2026-11-30T00:30:00-05:00", "2026-11-30T05:30:00.000Z"),
        ] {
            XCTAssertEqual(try SustainabilityReportBuilder.instant(text), bound, text)
        }
        for bad in ["2026-13-01", "30/11/2026", "2026-11-30T08:00", "2026-11-30 08:00:00Z", "yesterday"] {
            XCTAssertThrowsError(try SustainabilityReportBuilder.instant(bad), bad) {
                XCTAssertTrue("\($0)".contains("'\(bad)' is not a date; use YYYY-MM-DD, or a time such as"), "\($0)")
            }
        }
    }

    /// The HTML in a real browser: every chart has geometry, the page fetches nothing and logs no error, and a
    /// screenshot comes out. Runs where Debian's chromium is installed (CI installs it).
    func testHTMLRendersInHeadlessChromium() throws {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(browser == nil, "chromium is not installed")
        let html = SustainabilityHTML.render(try builder().build(.init(kind: .comparison, runs: [1, 2])))
        // The check runs after the page, in a copy: the report itself carries no script.
        let probe = """
            <script>
            window.addEventListener('error', e => document.documentElement.dataset.errors = (document.documentElement.dataset.errors || '') + e.message + ';');
            window.addEventListener('load', () => {
              const charts = [...document.querySelectorAll('svg.chart')].map(s => { const b = s.getBBox(); return s.dataset.chart + ':' + (b.width > 0 && b.height > 0 && s.querySelectorAll('rect,polygon,polyline,line').length > 0); });
              document.documentElement.dataset.charts = charts.join(',');
              document.documentElement.dataset.requests = performance.getEntriesByType('resource').length;
            });
            </script>
            """
        let page = dir + "/page.html", shot = dir + "/page.png"
        try html.replacingOccurrences(of: "</body>", with: probe + "</body>").write(toFile: page, atomically: false, encoding: .utf8)
        func chromium(_ extra: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: browser!)
            p.arguments =
                ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,3000"] + extra + ["file://" + page]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let dom = try chromium(["--virtual-time-budget=3000", "--dump-dom"])
        let charts = try XCTUnwrap(
            dom.range(of: #"data-charts="([^"]*)""#, options: .regularExpression).map { String(dom[$0]) }, dom.prefix(400).description)
        XCTAssertTrue(
            charts.contains("comparison-energy:true") && charts.contains("power:true") && charts.contains("channels:true"), charts)
        XCTAssertFalse(charts.contains(":false"), charts)
        XCTAssertTrue(dom.contains(#"data-requests="0""#), "the page fetched something")
        XCTAssertFalse(dom.contains("data-errors="), "the page logged errors")
        _ = try chromium(["--screenshot=\(shot)"])
        let size = (try FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 20_000, "a blank page compresses to much less")
    }
}

/// Offsets are a contribution beside the emissions: whatever the plan, the emissions it starts from are the report's,
/// and nothing recorded or recomputed changes.
final class OffsetAdviceTests: XCTestCase {
    func testOffsetsNeverChangeEmissionsOrSCI() throws {
        let dir = try TestScratch.folder(name).path
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "US-CAL-CISO", environment: [:], configValue: nil)
        let r = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
        r.begin(PhaseMark(name: "work"))
        Thread.sleep(forTimeInterval: 0.05)
        r.record(.tokens(TokenCount(count: 1000)))
        r.end(PhaseMark(name: "work"))
        try r.finish()
        try r.run.close(status: .complete, exitCode: 0)
        let carbon = try CarbonData.bundled()
        let before = try RunFootprint.compute(ledger: ledger, run: 1, data: carbon)
        let report = try SustainabilityReportBuilder(ledger: ledger, carbon: carbon, toolVersion: "t").build(.init(kind: .run, runs: [1]))
        XCTAssertEqual(report.offsets?.emissionsGrams ?? -1, report.totals.totalGrams, accuracy: 1e-15)
        XCTAssertNotNil(report.offsets?.timeShift, "a CISO run is shifted against the shipped 2022 year")
        var rng = SplitMix(seed: 7)
        for _ in 0..<20 {
            let options = OffsetAdvice.Options(
                deadlineHours: Double(1 + rng.nextInt(below: 48)), regions: ["FR", "US-TEX-ERCO"], planYears: 1 + rng.nextInt(below: 20),
                runsPerYear: Double(1 + rng.nextInt(below: 1000)))
            let advice = try OffsetAdvice.build(ledger: ledger, runs: [1], data: carbon, options: options)
            XCTAssertEqual(advice.emissionsGrams, before.carbon.total.grams, accuracy: 1e-15)
            XCTAssertEqual(advice.plan.residualTonnesPerYear, before.carbon.total.grams * options.runsPerYear / 1e6, accuracy: 1e-18)
            XCTAssertEqual(advice.regions.count, 2)
        }
        let after = try RunFootprint.compute(ledger: ledger, run: 1, data: carbon)
        XCTAssertEqual(after.carbon.total, before.carbon.total)
        let rebuilt = try SustainabilityReportBuilder(ledger: ledger, carbon: carbon, toolVersion: "t").build(.init(kind: .run, runs: [1]))
        XCTAssertEqual(rebuilt.runs[0].sci, report.runs[0].sci, "the SCI is the same with any plan")
        XCTAssertTrue(SustainabilityMarkdown.render(report).contains("## Reductions and offsets"))
    }

    func testBadOffsetRequests() throws {
        let dir = try TestScratch.folder(name).path
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        let r = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
        try r.finish()
        try r.run.close(status: .complete, exitCode: 0)
        let carbon = try CarbonData.bundled()
        XCTAssertThrowsError(try OffsetAdvice.build(ledger: ledger, runs: [1], data: carbon, options: .init(deadlineHours: 12))) {
            XCTAssertTrue("\($0)".contains("has no hourly intensity data") && "\($0)".contains("--hourly"), "\($0)")
        }
        XCTAssertThrowsError(try OffsetAdvice.build(ledger: ledger, runs: [1], data: carbon, options: .init(cleanest: 2))) {
            XCTAssertTrue("\($0)".contains("--cleanest needs a cloud provider"), "\($0)")
        }
        let advice = try OffsetAdvice.build(ledger: ledger, runs: [1], data: carbon, options: .init())
        XCTAssertNil(advice.timeShift)
        XCTAssertTrue(advice.notes.contains { $0.contains("time shift not computed") })
        XCTAssertTrue(advice.notes.contains { $0.contains("none is invented here") })
    }
}
