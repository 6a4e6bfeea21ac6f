/// The environment variables that choose the engine's kernels, checked up front so a misspelt value fails with its fix
/// instead of silently running the default kernel.
public enum KernelEnvironment {
    /// `sgemm`: prefill's products go through OpenBLAS; `engine` (the default where AVX-512F runs): the engine's kernel on
    /// weights packed once per session (`WeightPanels`).
    public static let prefillKernel = "WATTPRINT_PREFILL_KERNEL"
    /// `0`…`3` caps the reduced-precision and elementwise kernels at the portable (0), AVX2 (1), AVX-512F (2) or
    /// AVX-512 BF16/VNNI (3) variant, clamped to what the CPU runs (`gemv_quantized.c`).
    public static let quantKernel = "WATTPRINT_QUANT_KERNEL"

    static let prefillChoices = ["engine", "sgemm"]
    static let quantChoices = ["0", "1", "2", "3"]

    /// What is wrong with either variable in `environment`, with the fix; nil when both are unset or valid.
    public static func problem(in environment: [String: String]) -> String? {
        if let value = environment[prefillKernel], !prefillChoices.contains(value) {
            return
                "\(prefillKernel)=\(value) is not a prefill kernel; set it to sgemm (OpenBLAS) or engine (the default, the engine's packed-weight kernel), or unset it"
        }
        if let value = environment[quantKernel], !quantChoices.contains(value) {
            return
                "\(quantKernel)=\(value) is not a kernel level; set it to 0 (portable), 1 (AVX2), 2 (AVX-512F) or 3 (AVX-512 BF16/VNNI), or unset it"
        }
        return nil
    }
}
