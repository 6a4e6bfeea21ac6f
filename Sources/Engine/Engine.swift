/// Engine is wattprint's own fp32 model engine.
///
/// It trains and runs GPT-2, Llama and Mixtral-style mixture-of-experts models on the CPU, all behind one protocol
/// (`TrainableModel`, `DecodingModel`), so that energy per token is measured on work whose every FLOP is known (see
/// `ModelConfiguration`). Matrix products of 16 rows or more run the engine's AVX-512F kernel (`PanelKernel`,
/// `WeightPanels`) where the CPU has it, the rest OpenBLAS's `cblas_sgemm`; single-row (decode) products and GELU run
/// the C kernels of `CKernels` (AVX-512 chosen at run time, portable C otherwise) on a pool of spinning workers; the
/// other element-wise kernels are SIMD loops spread over cores.
/// Layers are llm.c-style explicit forward/backward pairs (`Kernels/`), each with a naive generic
/// sibling in `Kernels/Reference/` used by the tests. Library code never reads the environment or
/// the wall clock and never prints: callers pass paths, clocks and callbacks.
public enum EngineInfo {
    /// Version of the checkpoint metadata this engine writes (`wattprint.format` in `__metadata__`). 2: the
    /// configuration carries its `architecture` (files of version 1, untagged, are GPT-2).
    public static let checkpointFormatVersion = 2
}
