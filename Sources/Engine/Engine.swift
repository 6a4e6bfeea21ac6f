/// Engine is wattprint's own fp32 model engine.
///
/// It trains and runs GPT-2-family models on the CPU so that energy per token is measured on work
/// whose every FLOP is known (see `FLOPCount`). Matrix products go through OpenBLAS (`cblas_sgemm`,
/// `cblas_sgemv` for single-row decode); element-wise kernels are SIMD loops spread over cores.
/// Layers are llm.c-style explicit forward/backward pairs (`Kernels/`), each with a naive generic
/// sibling in `Kernels/Reference/` used by the tests. Library code never reads the environment or
/// the wall clock and never prints: callers pass paths, clocks and callbacks.
public enum EngineInfo {
    /// Version of the checkpoint metadata this engine writes (`wattprint.format` in `__metadata__`).
    public static let checkpointFormatVersion = 1
}
