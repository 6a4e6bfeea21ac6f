import Foundation

/// Status lines go to stderr so stdout stays the command's result.
enum FileHandleOutput {
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
