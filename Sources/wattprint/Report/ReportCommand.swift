import Accounting
import ArgumentParser
import Foundation
import Ledger
import Reports

/// `wattprint report`: a sustainability report of a run, several runs compared, or a period, in Markdown, HTML, JSON
/// and CSV, signed with this host's key, written to Reports/ (or --output).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a signed, verifiable sustainability report (Markdown, HTML with charts, JSON, CodeCarbon CSV).",
        discussion: """
            The content follows the Green Software Foundation's SCI report template (functional unit, boundary, E, I and M \
            with their basis, coefficients, SCI per unit), with location- and market-based Scope 2, embodied emissions, \
            90 % intervals, the methodology, a sentence a paper can quote and, for training runs, the Hugging Face \
            model-card co2_eq_emissions block. Every figure comes from the ledger; `wattprint verify --report FILE.json` \
            recomputes them and checks the signature.

            Examples:
              wattprint report last
              wattprint report --compare 12 15 17
              wattprint report --since 2026-11-01 --until 2026-12-01 --group-by model
            """)

    @Argument(help: ArgumentHelp("The run to report (an id or `last`).", valueName: "run")) var subject: String?
    @Option(parsing: .upToNextOption, help: "Runs to report side by side (ids, or last).") var compare: [String] = []
    @Option(help: "A period's first day (YYYY-MM-DD or a time with Z or a UTC offset).") var since: String?
    @Option(help: "The period's end, exclusive: a day (its UTC midnight) or a time, as --since.") var until: String?
    @Option(
        help: """
            Group a period by workload (a benchmark's workloads by name, other runs by command; the default), model, \
            host or region.
            """)
    var groupBy: String?
    @Option(
        help: ArgumentHelp(
            "Formats to write, comma-separated: md (or markdown), html, json, csv. md and html point to the signed JSON, so it is written with them.",
            valueName: "formats"))
    var formats = "md,html,json,csv"
    @Option(help: "Folder to write into (made if missing).") var output = "Reports"
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        let modes = [subject != nil, !compare.isEmpty, since != nil || until != nil].filter { $0 }.count
        if modes == 0 { throw ValidationError("give one of: a run (or last), --compare RUN…, or --since/--until") }
        if modes > 1 {
            throw ValidationError(
                "a run, --compare RUN… and --since/--until each make a report of their own: give only one (a run's report: wattprint report \(subject ?? "RUN"))"
            )
        }
        if let groupBy, !["workload", "model", "host", "region"].contains(groupBy) {
            throw ValidationError("--group-by takes workload, model, host or region")
        }
        if groupBy != nil && since == nil && until == nil { throw ValidationError("--group-by applies to a period (--since/--until)") }
        if let bad = compare.first(where: { $0 != "last" && Int64($0) == nil }) {
            throw ValidationError("--compare takes run ids from `wattprint runs`, or last; '\(bad)' is neither")
        }
        if compare.count == 1 {
            throw ValidationError("--compare needs two runs or more; for one run, name it alone: wattprint report \(compare[0])")
        }
        try Self.checkPeriod(since: since, until: until)
        let unknown = formatList.filter { !["md", "html", "json", "csv"].contains($0) }
        if !unknown.isEmpty { throw ValidationError("unknown format \(unknown.joined(separator: ", ")); use md, html, json, csv") }
        try ReportWriter.checkFolderName(output, option: "--output")
    }

    /// The asked formats in order, lower-cased, `markdown` read as `md`, each once; the signed JSON added after md or
    /// html when not asked for, since they tell the reader to verify and quote it.
    var formatList: [String] {
        var list: [String] = []
        for name in formats.split(separator: ",") {
            let format = name.trimmingCharacters(in: .whitespaces).lowercased()
            let canonical = format == "markdown" ? "md" : format
            if !list.contains(canonical) { list.append(canonical) }
        }
        if !list.contains("json"), list.contains("md") || list.contains("html") { list.append("json") }
        return list
    }

    func run() throws {
        let store = try ledger.open(create: false)
        let request: SustainabilityReport.Request
        let stem: String
        /// A run id, or the ledger's last run for `last`.
        func resolve(_ run: String) throws -> Int64 {
            if run == "last" {
                guard let last = try store.runs().last?.id else {
                    throw CLIError("the ledger has no runs yet; measure one with `wattprint run` or `wattprint bench`")
                }
                return last
            }
            guard let given = Int64(run) else { throw CLIError("'\(run)' is not a run id; pass a number from `wattprint runs`, or last") }
            return given
        }
        if let run = subject {
            let id = try resolve(run)
            request = .init(kind: .run, runs: [id])
            stem = "run-\(id)"
        } else if !compare.isEmpty {
            let ids = try compare.map(resolve)
            if let repeated = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
                throw CLIError(
                    "--compare names run \(repeated) twice\(compare.contains("last") ? " (last is run \(try resolve("last")))" : ""); "
                        + "a run compared with itself would be counted twice: name each run once")
            }
            request = .init(kind: .comparison, runs: ids)
            stem = "compare-" + ids.map(String.init).joined(separator: "-")
        } else {
            // Without --until the period ends now, recorded so that runs made later do not change the report.
            request = .init(kind: .period, since: since, until: until ?? LedgerClock.utcString(), groupBy: groupBy ?? "workload")
            // The grouping is in the name, so a period's report by model does not replace its report by workload.
            stem = "period-\(since ?? "start")-\(until ?? "now")-by-\(groupBy ?? "workload")".replacingOccurrences(of: ":", with: "")
        }
        for path in try ReportWriter.write(request, stem: stem, ledger: store, output: output, formats: formatList) { print(path) }
    }
}

/// Builds, signs and writes a report in the asked formats; returns the paths written.
enum ReportWriter {
    /// A report is several files, so its option names a folder: a new one named like a file (`report.md`) is refused
    /// before anything runs, instead of becoming a folder of that name. An existing folder of any name is used.
    static func checkFolderName(_ output: String, option: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), isFolder.boolValue { return }
        let suffix = (output as NSString).pathExtension.lowercased()
        guard ["md", "markdown", "html", "htm", "json", "csv", "txt", "pdf"].contains(suffix) else { return }
        let parent = (output as NSString).deletingLastPathComponent
        throw ValidationError(
            "\(option) \(output) looks like a file name, but a report is several files (Markdown, HTML, the signed JSON, CSV), so \(option) names a folder: pass one, e.g. \(option) \(parent.isEmpty ? "" : parent + "/")reports"
        )
    }

    static func write(_ request: SustainabilityReport.Request, stem: String, ledger store: Ledger, output: String, formats: [String]) throws
        -> [String]
    {
        var report = try CLIError.wrapping {
            try SustainabilityReportBuilder(ledger: store, carbon: try CarbonTables.load(), toolVersion: Wattprint.version).build(request)
        }
        if let broken = try CLIError.wrapping({ try ReportVerification.firstBrokenChain(runs: report.runs.map(\.id), ledger: store) }) {
            throw CLIError(
                "\(broken); a report would sign figures the ledger no longer vouches for. Check it with `wattprint verify`, "
                    + "restore it from a backup, or report runs or a period without that run")
        }
        report.verification.command =
            "wattprint verify --report \((output as NSString).appendingPathComponent(stem + ".json")) --ledger \(store.path)"
        report = try ReportSignature.sign(report, with: try HostKey.load(create: true)!)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), !isFolder.boolValue {
            throw CLIError("--output \(output) is a file; a report is several files, so --output names a folder (made if missing)")
        }
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
            throw CLIError(
                "cannot create the folder \(output) (\(OutputOptions.reason(error))); check its parent's permissions or pass another --output"
            )
        }
        var paths: [String] = []
        for format in formats {
            let text: String
            switch format {
            case "md": text = SustainabilityMarkdown.render(report)
            case "html": text = SustainabilityHTML.render(report)
            case "json": text = try SustainabilityJSON.render(report)
            default: text = try CodeCarbonCSV.render(report)
            }
            let path = (output as NSString).appendingPathComponent("\(stem).\(format)")
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
                throw CLIError("cannot write \(path) (\(error)); check that \(output) is writable")
            }
            paths.append(path)
        }
        return paths
    }
}
