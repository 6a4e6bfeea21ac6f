import Foundation

/// Reads the CSV tables shipped in the module's `Data/` resource folder.
enum BundledData {
    /// The text of `Data/<name>.csv`.
    ///
    /// - Throws: `CarbonError.missingData` when the file is not in the bundle (a packaging error).
    static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Data") else {
            throw CarbonError(.missingData, "bundled table Data/\(name).csv is missing; rebuild the package so its resources are copied")
        }
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CarbonError(.missingData, "bundled table \(url.path) could not be read (\(error)); reinstall wattprint")
        }
    }
}
