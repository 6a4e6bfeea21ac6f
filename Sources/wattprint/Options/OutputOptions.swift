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
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), isFolder.boolValue {
            throw CLIError(
                "--output \(output) is a folder; pass a file path in it, e.g. \((output as NSString).appendingPathComponent("report.txt"))")
        }
        let folder = (output as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            throw CLIError("the folder \(folder) for --output does not exist; create it (mkdir -p \(folder)) or pass another path")
        }
        do { try (text + "\n").write(toFile: output, atomically: false, encoding: .utf8) } catch {
            throw CLIError(
                "cannot write the report to \(output) (\(Self.reason(error))); check its folder's permissions or pass another --output")
        }
    }

    /// The system's reason for a failed write, without Foundation's error domain and user-info dump.
    static func reason(_ error: Error) -> String {
        let e = error as NSError
        if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if e.domain == NSCocoaErrorDomain {
            switch e.code {
            case NSFileWriteNoPermissionError: return "permission denied"
            case NSFileWriteOutOfSpaceError: return "no space left on the device"
            case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
            case NSFileWriteFileExistsError: return "a file of that name is in the way"
            case NSFileNoSuchFileError, NSFileWriteInvalidFileNameError: return "no such file or folder"
            default: return "the system refused the write"
            }
        }
        return e.localizedFailureReason ?? e.localizedDescription
    }
}
