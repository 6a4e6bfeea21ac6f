import Foundation

/// A fake `libnvidia-ml.so.1` (see `fake-nvml/fake_nvml.c`), compiled once per test process, so the NVML meter's
/// real `dlopen`/`dlsym` path runs where no NVIDIA driver is installed. Its GPUs draw a known power; the
/// `FAKE_NVML_*` environment variables set by a test choose what each GPU supports and when it is lost.
public enum FakeNVML {
    public enum BuildError: Error, CustomStringConvertible {
        case failed(String)
        public var description: String {
            switch self {
            case let .failed(why): return "could not build the fake NVML library: \(why)"
            }
        }
    }

    /// Path of the built library.
    public static func library() throws -> String { try built.get() }

    /// A copy of the library at a path of its own: `dlopen` loads it afresh, so its state (settings read at the
    /// first `nvmlInit_v2`, the clock it started) is not shared with any other test in this process.
    public static func freshCopy() throws -> String {
        let dir = try TestScratch.folder("nvml")
        let copy = dir.appendingPathComponent("libnvidia-ml.so.1")
        try FileManager.default.copyItem(atPath: try library(), toPath: copy.path)
        return copy.path
    }

    private static let built: Result<String, BuildError> = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fake-nvml")
        let out = TestScratch.root.appendingPathComponent("fake-nvml-build")
        let p = Process()
        p.executableURL = source.appendingPathComponent("build")
        p.arguments = [out.path]
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { return .failure(.failed("\(error)")) }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return .failure(.failed(message)) }
        return .success(out.appendingPathComponent("libnvidia-ml.so.1").path)
    }()

    /// Power each fake GPU draws by default (GPU i draws `(i + 1) ×` this), watts.
    public static let defaultWatts = 300.0
    public static let uuid0 = "GPU-fa4e0000-0000-0000-0000-000000000000"
}
