import CKernels

// Legend: M rows, K inputs, N outputs.

/// One inference session's fp32 weights packed for the engine's AVX-512F matrix kernel (`wp_f32_gemm`, groups of 48
/// outputs × K): prefill multiplies many rows by weights that stay fixed while the session lasts, so each matrix is
/// packed once, on its first prefill call, where sgemm packs it again on every call. Costs a second copy of each packed
/// matrix (4 bytes a weight, `bytes`), freed with the session. A session made before the weights change (training)
/// keeps the old values: make a new one.
final class WeightPanels {
    private var packed: [UnsafeMutablePointer<Float>: UnsafeMutablePointer<Float>] = [:]
    /// Bytes of the packed copies made so far.
    private(set) var bytes = 0

    /// Whether the kernel runs here: the CPU has AVX-512F and `WATTPRINT_QUANT_KERNEL` does not force a narrower kernel.
    static var available: Bool { wp_quant_kernel() >= 2 }

    deinit { for panels in packed.values { panels.deallocate() } }

    /// out[M, N] = inp[M, K]·W (+ bias) (+ residual), W [K, N] input-major or [N, K] output-major, groups of 48 outputs
    /// spread over cores. `out` may alias `residual`. One caller at a time (inference is one thread).
    /// - Returns: false, having written nothing, when the kernel does not run here (the caller runs sgemm).
    func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?,
        residual: UnsafeMutablePointer<Float>?, M: Int, K: Int, N: Int, layout: WeightLayout
    ) -> Bool {
        guard Self.available else { return false }
        let panels = packed[weight] ?? pack(weight, K: K, N: N, layout: layout)
        let accumulate = bias != nil || residual != nil
        if accumulate { MatMul.initialise(out: out, bias: bias, residual: residual, M: M, N: N) }
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * M * N * K, ordering: .relaxed) }
        Parallel.forEachChunk(wp_f32_gemm_groups(N), minChunk: 1) { _, groups in
            _ = wp_f32_gemm(inp, M, K, panels, N, groups.lowerBound, groups.count, out, N, accumulate ? 1 : 0)
        }
        return true
    }

    private func pack(_ weight: UnsafeMutablePointer<Float>, K: Int, N: Int, layout: WeightLayout) -> UnsafeMutablePointer<Float> {
        let groups = wp_f32_gemm_groups(N), floats = wp_f32_panel_floats(N, K)
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        Parallel.forEachChunk(groups, minChunk: 1) { _, range in
            wp_f32_pack_panels(weight, N, K, layout == .inputMajor ? 1 : 0, range.lowerBound, range.count, panels)
        }
        packed[weight] = panels
        bytes += floats * MemoryLayout<Float>.stride
        return panels
    }
}
