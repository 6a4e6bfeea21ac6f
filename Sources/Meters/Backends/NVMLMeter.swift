import CSensors
import Foundation

/// NVIDIA's management library, loaded at run time with `dlopen("libnvidia-ml.so.1")` so wattprint has no build
/// dependency on CUDA and reports "no NVIDIA driver" cleanly where it is absent.
public final class NVMLLibrary: @unchecked Sendable {
    typealias InitFn = @convention(c) () -> Int32
    typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias StringFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias U64Fn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32
    typealias U32Fn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    typealias FieldsFn = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer) -> Int32
    typealias UtilFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    typealias MemFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32

    let handle: UnsafeMutableRawPointer
    let deviceCount: CountFn
    let handleByIndex: HandleFn
    let name: StringFn
    let uuid: StringFn
    let totalEnergy: U64Fn?
    let powerUsage: U32Fn?
    let powerLimit: U32Fn?
    let fieldValues: FieldsFn?
    let utilization: UtilFn?
    let memoryInfo: MemFn?
    let shutdown: InitFn?
    let errorString: (@convention(c) (Int32) -> UnsafePointer<CChar>?)?

    /// Why loading failed: the library is absent, a symbol is missing, or `nvmlInit_v2` returned an error.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case libraryAbsent(String)
        case symbolMissing(String)
        case initFailed(Int32)
        public var description: String {
            switch self {
            case let .libraryAbsent(why): return "no NVIDIA driver: libnvidia-ml.so.1 could not be loaded (\(why))"
            case let .symbolMissing(s): return "libnvidia-ml.so.1 lacks \(s); the driver is too old"
            case let .initFailed(rc): return "nvmlInit_v2 failed with NVML error \(rc)\(rc == 9 ? " (driver not loaded)" : "")"
            }
        }
    }

    /// - Parameter path: the library to open; the soname by default. Tests pass a path that does not exist.
    public init(path: String = "libnvidia-ml.so.1") throws {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError.libraryAbsent(dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        handle = h
        func sym<T>(_ name: String, _: T.Type) -> T? { dlsym(h, name).map { unsafeBitCast($0, to: T.self) } }
        guard let initFn = sym("nvmlInit_v2", InitFn.self) else { dlclose(h); throw LoadError.symbolMissing("nvmlInit_v2") }
        guard let count = sym("nvmlDeviceGetCount_v2", CountFn.self),
            let byIndex = sym("nvmlDeviceGetHandleByIndex_v2", HandleFn.self),
            let nameFn = sym("nvmlDeviceGetName", StringFn.self),
            let uuidFn = sym("nvmlDeviceGetUUID", StringFn.self)
        else {
            dlclose(h); throw LoadError.symbolMissing("nvmlDeviceGetCount_v2/HandleByIndex_v2/GetName/GetUUID")
        }
        let rc = initFn()
        if rc != 0 { dlclose(h); throw LoadError.initFailed(rc) }
        deviceCount = count; handleByIndex = byIndex; name = nameFn; uuid = uuidFn
        totalEnergy = sym("nvmlDeviceGetTotalEnergyConsumption", U64Fn.self)
        powerUsage = sym("nvmlDeviceGetPowerUsage", U32Fn.self)
        powerLimit = sym("nvmlDeviceGetPowerManagementLimit", U32Fn.self)
        fieldValues = sym("nvmlDeviceGetFieldValues", FieldsFn.self)
        utilization = sym("nvmlDeviceGetUtilizationRates", UtilFn.self)
        memoryInfo = sym("nvmlDeviceGetMemoryInfo", MemFn.self)
        shutdown = sym("nvmlShutdown", InitFn.self)
        errorString = sym("nvmlErrorString", (@convention(c) (Int32) -> UnsafePointer<CChar>?).self)
    }

    /// `NVML_ERROR_NOT_SUPPORTED`: the GPU lacks the reading; any other error is a refusal worth reporting.
    static let notSupported: Int32 = 3

    /// "NVML error 4 (Insufficient Permissions)", in the driver's own words where it offers them.
    func describe(_ rc: Int32) -> String {
        let text = errorString?(rc).map { String(cString: $0) }
        return "NVML error \(rc)" + (text.map { " (\($0))" } ?? "")
    }

    /// Reads `method` once: 0 when it works, else the NVML error that stopped it.
    func probe(_ method: NVMLMeter.Method, _ device: OpaquePointer?) -> Int32 {
        switch method {
        case .energyCounter:
            var e: UInt64 = 0
            return totalEnergy.map { $0(device, &e) } ?? Self.notSupported
        case .powerInstant:
            return instantPower(device).rc
        case .powerUsage:
            var p: UInt32 = 0
            return powerUsage.map { $0(device, &p) } ?? Self.notSupported
        }
    }

    deinit {
        _ = shutdown?()
        dlclose(handle)
    }

    /// `nvmlFieldValue_t`: fieldId u32, scopeId u32, timestamp i64, latencyUsec i64, valueType u32, nvmlReturn u32, value (8-byte union).
    static let fieldValueSize = 40
    /// `NVML_FI_DEV_POWER_INSTANT`, milliwatts.
    static let powerInstantField: UInt32 = 186

    func instantPowerMilliwatts(_ device: OpaquePointer?) -> Double? { instantPower(device).milliwatts }

    /// The POWER_INSTANT field, or the error that kept it: the call's own, else the field's.
    func instantPower(_ device: OpaquePointer?) -> (milliwatts: Double?, rc: Int32) {
        guard let fieldValues else { return (nil, Self.notSupported) }
        return withUnsafeTemporaryAllocation(byteCount: Self.fieldValueSize, alignment: 8) { raw -> (Double?, Int32) in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.storeBytes(of: Self.powerInstantField, toByteOffset: 0, as: UInt32.self)
            let rc = fieldValues(device, 1, raw.baseAddress!)
            guard rc == 0 else { return (nil, rc) }
            let fieldRC = Int32(bitPattern: raw.load(fromByteOffset: 28, as: UInt32.self))
            guard fieldRC == 0 else { return (nil, fieldRC) }
            switch raw.load(fromByteOffset: 24, as: UInt32.self) {
            case 0: return (raw.load(fromByteOffset: 32, as: Double.self), 0)
            case 1, 5: return (Double(raw.load(fromByteOffset: 32, as: UInt32.self)), 0)
            case 2, 3: return (Double(raw.load(fromByteOffset: 32, as: UInt64.self)), 0)
            case 4: return (Double(raw.load(fromByteOffset: 32, as: Int64.self)), 0)
            default: return (nil, Self.notSupported)
            }
        }
    }
}

/// Per-GPU energy from NVML: the total-energy counter (mJ, Volta and later) when supported, else the
/// POWER_INSTANT field (id 186), else `nvmlDeviceGetPowerUsage` (a 1 s average on Ampere and later), integrated.
///
/// Measured on an H100 (`shared/data/hardware/nvml_notes.md`): the counter steps every 100 ms; integrating
/// GetPowerUsage under-counts by 1.3–3.9 %, POWER_INSTANT by under 0.5 %. Hence that order of preference.
public final class NVMLMeter: Meter {
    public let name = "nvml"
    public private(set) var channels: [MeterChannel] = []
    public private(set) var blocked: [BlockedChannel] = []
    public private(set) var gpus: [GPUInfo] = []
    public let loadError: NVMLLibrary.LoadError?
    private let library: NVMLLibrary?
    private enum Reading { case energy(Method), utilisation, memoryUsed }
    private var readers: [(device: OpaquePointer?, reading: Reading)] = []

    /// How a GPU's energy is read, best first.
    public enum Method: String, Sendable, Codable, CaseIterable {
        case energyCounter = "energy counter", powerInstant = "POWER_INSTANT field", powerUsage = "GetPowerUsage"
        /// Suffix of the channel key for a cross-check channel.
        var keySuffix: String {
            switch self {
            case .energyCounter: return "counter";
            case .powerInstant: return "instant";
            case .powerUsage: return "average"
            }
        }
    }

    public struct GPUInfo: Sendable, Codable, Equatable {
        public var index: Int
        public var name: String
        public var uuid: String
        public var powerLimitWatts: Double?
        /// The method that counts.
        public var method: Method
        /// The other methods this GPU supports, recorded as detail channels.
        public var crossChecks: [Method]
        /// Methods that failed for a reason other than "not supported" (permission, a lost GPU), with NVML's error.
        public var refusals: [String]
    }

    /// What to do about the NVML errors that kept a GPU from being read.
    static func fixes(for codes: [Int32]) -> [String] {
        var out: [String] = []
        if codes.contains(4) {
            out.append("run as a user the driver lets query this GPU (in a container: expose it with --gpus or the NVIDIA device plugin)")
        }
        if codes.contains(15) {
            out.append("the GPU is lost (fell off the bus): see dmesg and nvidia-smi; it usually needs a reset or a reboot")
        }
        if codes.contains(where: { $0 != 4 && $0 != 15 }) { out.append("check the driver with nvidia-smi") }
        return out
    }

    static func energyChannel(_ gpu: GPUInfo, method: Method, counts: Bool) -> MeterChannel {
        let isCounter = method == .energyCounter
        let source = "nvml \(method.rawValue) (\(gpu.uuid))"
        return MeterChannel(
            key: counts ? "nvml:\(gpu.uuid)" : "nvml:\(gpu.uuid):\(method.keySuffix)", device: "gpu-\(gpu.index)",
            domain: counts ? gpu.name : method.rawValue, kind: isCounter ? .energy : .power, unit: isCounter ? "mJ" : "mW",
            resolution: 1, wrapRange: nil, source: source, mode: .measured, role: counts ? .total : .detail,
            uncertainty: method == .powerUsage ? averagedUncertainty : counterUncertainty,
            uncertaintyNote: counts ? "NVML \(method.rawValue)" : "NVML \(method.rawValue); cross-check of the \(gpu.method.rawValue)",
            deviceClass: .gpu, maxWatts: PowerBound.gpu(limitWatts: gpu.powerLimitWatts))
    }

    /// NVIDIA documents GetPowerUsage as ±5 % of draw on Fermi/Kepler and states no figure for newer parts; we use
    /// ±5 % for the counter and instant field and add the measured 1.3–3.9 % under-count to the averaged reading.
    static let counterUncertainty = 0.05
    static let averagedUncertainty = 0.08

    public init(libraryPath: String = "libnvidia-ml.so.1") {
        do {
            let lib = try NVMLLibrary(path: libraryPath)
            library = lib
            loadError = nil
            var count: UInt32 = 0
            let rc = lib.deviceCount(&count)
            guard rc == 0 else {
                blocked.append(
                    BlockedChannel(
                        device: "gpu", source: "nvml", reason: "nvmlDeviceGetCount_v2 failed with NVML error \(rc)",
                        fixes: ["run nvidia-smi to see whether the driver sees the GPUs"]))
                return
            }
            for i in 0..<count {
                var dev: OpaquePointer?
                guard lib.handleByIndex(i, &dev) == 0 else {
                    blocked.append(BlockedChannel(device: "gpu-\(i)", source: "nvml", reason: "no handle for GPU \(i)", fixes: []))
                    continue
                }
                var nameBuf = [CChar](repeating: 0, count: 96), uuidBuf = [CChar](repeating: 0, count: 96)
                _ = lib.name(dev, &nameBuf, 96); _ = lib.uuid(dev, &uuidBuf, 96)
                var limit: UInt32 = 0
                let limitW = lib.powerLimit.flatMap { $0(dev, &limit) == 0 ? Double(limit) / 1000 : nil }
                var supported: [Method] = [], refusals: [String] = [], codes: [Int32] = []
                for m in Method.allCases {
                    let rc = lib.probe(m, dev)
                    if rc == 0 {
                        supported.append(m)
                    } else if rc != NVMLLibrary.notSupported {
                        refusals.append("\(m.rawValue): \(lib.describe(rc))")
                        codes.append(rc)
                    }
                }
                guard let method = supported.first else {
                    let reason =
                        refusals.isEmpty
                        ? "GPU \(i) reports neither energy nor power"
                        : "GPU \(i) refused every reading: " + refusals.joined(separator: "; ")
                    blocked.append(BlockedChannel(device: "gpu-\(i)", source: "nvml", reason: reason, fixes: Self.fixes(for: codes)))
                    continue
                }
                let info = GPUInfo(
                    index: Int(i), name: String(cString: nameBuf), uuid: String(cString: uuidBuf), powerLimitWatts: limitW,
                    method: method, crossChecks: Array(supported.dropFirst()), refusals: refusals)
                gpus.append(info)
                // The best method counts; the others are read beside it as detail, so every run shows how far
                // integrated power strays from the counter on this GPU.
                for m in supported {
                    readers.append((dev, .energy(m)))
                    channels.append(Self.energyChannel(info, method: m, counts: m == method))
                }
                // Utilisation and memory in use are context for reports (how busy the GPU was), never energy.
                if lib.utilization != nil {
                    readers.append((dev, .utilisation))
                    channels.append(
                        MeterChannel(
                            key: "nvml:\(info.uuid):utilisation", device: "gpu-\(i)", domain: "utilisation",
                            kind: .context, unit: "%", source: "nvmlDeviceGetUtilizationRates", mode: .measured,
                            role: .context, uncertainty: 0, uncertaintyNote: "context only",
                            deviceClass: .gpu, maxWatts: PowerBound.gpu(limitWatts: limitW)))
                }
                if lib.memoryInfo != nil {
                    readers.append((dev, .memoryUsed))
                    channels.append(
                        MeterChannel(
                            key: "nvml:\(info.uuid):memory", device: "gpu-\(i)", domain: "memory-used",
                            kind: .context, unit: "B", source: "nvmlDeviceGetMemoryInfo", mode: .measured,
                            role: .context, uncertainty: 0, uncertaintyNote: "context only",
                            deviceClass: .gpu, maxWatts: PowerBound.gpu(limitWatts: limitW)))
                }
            }
        } catch let error as NVMLLibrary.LoadError {
            library = nil
            loadError = error
        } catch {
            library = nil
            loadError = .libraryAbsent("\(error)")
        }
    }

    public func read(into values: inout [Double?], at offset: Int) { read(into: &values, at: offset, context: true) }

    public func read(into values: inout [Double?], at offset: Int, context: Bool) {
        guard let lib = library else { return }
        for (i, r) in readers.enumerated() {
            if case .energy = r.reading {} else if !context { continue }
            switch r.reading {
            case .utilisation:
                var rates: (UInt32, UInt32) = (0, 0)
                values[offset + i] =
                    withUnsafeMutableBytes(of: &rates) { raw in
                        lib.utilization?(r.device, raw.baseAddress!.assumingMemoryBound(to: UInt32.self)) == 0
                    } ? Double(rates.0) : nil
            case .memoryUsed:
                var memory: (UInt64, UInt64, UInt64) = (0, 0, 0) // nvmlMemory_t: total, free, used
                values[offset + i] =
                    withUnsafeMutableBytes(of: &memory) { raw in
                        lib.memoryInfo?(r.device, raw.baseAddress!.assumingMemoryBound(to: UInt64.self)) == 0
                    } ? Double(memory.2) : nil
            case .energy(.energyCounter):
                var e: UInt64 = 0
                values[offset + i] = lib.totalEnergy.flatMap { $0(r.device, &e) == 0 ? Double(e) : nil }
            case .energy(.powerInstant):
                values[offset + i] = lib.instantPowerMilliwatts(r.device)
            case .energy(.powerUsage):
                var p: UInt32 = 0
                values[offset + i] = lib.powerUsage.flatMap { $0(r.device, &p) == 0 ? Double(p) : nil }
            }
        }
    }
}
