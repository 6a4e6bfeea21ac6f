import ArgumentParser
import Foundation
import Reports

extension OutputFormat: ExpressibleByArgument {}

/// `--format`, `--json` and `--output`, shared by every command that prints a report.
struct OutputOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("The report's format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Same as --format json.")
    var json = false

    @Option(help: ArgumentHelp("Write the report to this file instead of standard output.", valueName: "path"))
    var output: String?

    var resolved: OutputFormat { json ? .json : format }
    var isJSON: Bool { resolved == .json }

    /// Writes `report` in the chosen format to `--output`, else standard output.
    /// - Throws: `CLIError` when the file cannot be written; what rendering throws.
    func emit(_ report: Report) throws {
        try write(try resolved.renderer.render(report))
    }

    /// Writes any value as JSON, the way reports are (for commands whose output is data only).
    func emitJSON<T: Encodable>(_ value: T) throws { try write(try JSONRenderer.string(value)) }

    func write(_ text: String) throws {
        guard let output else { return print(text) }
        do { try (text + "\n").write(toFile: output, atomically: false, encoding: .utf8) } catch {
            throw CLIError(
                "cannot write the report to \(output) (\((error as NSError).localizedDescription)); choose another --output path")
        }
    }
}
