/// The environment variables that choose the engine's kernels, checked up front so a misspelt value fails with its fix
/// instead of silently running the default kernel.
public enum KernelEnvironment {
    /// `sgemm`: products of many rows go through OpenBLAS; `engine` (the default where AVX-512F runs): the engine's kernel
    /// (`PanelKernel`) on weights packed once per inference session, and packed as it goes for training's forward and
    /// input gradients.
    public static let matmulKernel = "WATTPRINT_MATMUL_KERNEL"
    /// The name `matmulKernel` had while it chose prefill's kernel only; refused with the new name.
    static let formerPrefillKernel = "WATTPRINT_PREFILL_KERNEL"
    /// `0`…`3` caps the reduced-precision and elementwise kernels at the portable (0), AVX2 (1), AVX-512F (2) or
    /// AVX-512 BF16/VNNI (3) variant, clamped to what the CPU runs (`gemv_quantized.c`); below 2 it also keeps products of
    /// many rows on sgemm, as the engine's fp32 kernel is AVX-512F.
    public static let quantKernel = "WATTPRINT_QUANT_KERNEL"
    /// `off` keeps every thread of the engine's pool taking part whatever else runs; `on` (the default) lets it back off to
    /// one thread while other threads hold the cores (`PoolBackoff`, `gemv_pool.c`).
    public static let poolBackoff = "WATTPRINT_POOL_BACKOFF"
    /// `stored` has one-row products (decoding) read the weights as stored; `rows` (the default) reads a copy laid out as
    /// output-major rows in blocks (`DecodeRows`) of the matrices stored otherwise, made once per inference session.
    public static let decodeLayout = "WATTPRINT_DECODE_LAYOUT"

    static let matmulChoices = ["engine", "sgemm"]
    static let poolBackoffChoices = ["on", "off"]
    static let decodeLayoutChoices = ["rows", "stored"]
    static let quantChoices = ["0", "1", "2", "3"]

    /// What is wrong with the variables in `environment`, one line each with its fix; empty when all are unset (or empty,
    /// which counts as unset) or valid.
    public static func problems(in environment: [String: String]) -> [String] {
        let environment = environment.filter { !$0.value.isEmpty }
        var found: [String] = []
        if let value = environment[formerPrefillKernel] {
            let choice = matmulChoices.contains(value) ? "\(matmulKernel)=\(value)" : "\(matmulKernel) to sgemm or engine"
            found.append(
                "\(formerPrefillKernel) is now \(matmulKernel) (it chooses training's products too); unset it and set \(choice) instead")
        }
        if let value = environment[matmulKernel], !matmulChoices.contains(value) {
            found.append(
                "\(matmulKernel)=\(value) is not a matrix kernel; set it to sgemm (OpenBLAS) or engine (the default, the engine's AVX-512F kernel), or unset it"
            )
        }
        if let value = environment[quantKernel], !quantChoices.contains(value) {
            found.append(
                "\(quantKernel)=\(value) is not a kernel level; set it to 0 (portable), 1 (AVX2), 2 (AVX-512F) or 3 (AVX-512 BF16/VNNI), or unset it"
            )
        }
        if let value = environment[poolBackoff], !poolBackoffChoices.contains(value) {
            found.append(
                "\(poolBackoff)=\(value) is not a setting; set it to off (every pool thread always takes part) or on (the default: back off while other threads hold the cores), or unset it"
            )
        }
        if let value = environment[decodeLayout], !decodeLayoutChoices.contains(value) {
            found.append(
                "\(decodeLayout)=\(value) is not a layout; set it to stored (decoding reads the weights as stored) or rows (the default: a copy laid out for one-row products), or unset it"
            )
        }
        return found
    }
}
