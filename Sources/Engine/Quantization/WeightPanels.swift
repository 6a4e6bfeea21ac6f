import CKernels
import Dispatch
import Glibc

// Legend: M rows, K inputs, N outputs.

/// A decode state that holds its session's copies of the weights: packed for prefill (`panels`) and laid out in rows for
/// decoding (`rows`).
protocol PackingDecodeState: DecodeState {
    var panels: WeightPanels { get }
    var rows: DecodeRows { get }
}

/// One inference session's fp32 weights packed for the engine's AVX-512F matrix kernel (`wp_f32_gemm`, groups of 48
/// outputs × K): prefill multiplies many rows by weights that stay fixed while the session lasts, so each matrix is
/// packed once where sgemm packs it again on every call. A matrix is packed on its second call with at least
/// `minimumRows` rows (the first runs `MatMul`: the engine's kernel packing as it goes, or sgemm for inputs wider than
/// `PanelKernel.maximumUnpackedInputs`), so a session that prefills one prompt and then only decodes holds no
/// second copy; from then on each packed matrix costs 4 bytes a weight more (`bytes`), freed with the session. A
/// session made before the weights change (training) keeps the old values: make a new one.
/// `WATTPRINT_MATMUL_KERNEL=sgemm` turns it off.
final class WeightPanels {
    private struct Entry {
        let panels: UnsafeMutablePointer<Float>
        let K: Int, N: Int, layout: WeightLayout
    }
    private var packed: [UnsafeMutablePointer<Float>: Entry] = [:]
    /// Many-row calls each matrix not yet packed has had.
    private var calls: [UnsafeMutablePointer<Float>: Int] = [:]
    /// The many-row call (1-based) on which a matrix is packed (below 1: the first).
    var packingCall: Int
    /// Bytes of the packed copies made so far.
    private(set) var bytes = 0

    /// - Parameter packingCall: the many-row call on which each matrix is packed (earlier calls return false).
    init(packingCall: Int = 2) { self.packingCall = packingCall }

    /// Rows from which a call runs the packed kernel (`PanelKernel.minimumRows`).
    static var minimumRows: Int { PanelKernel.minimumRows }

    /// Whether the kernel runs here (`PanelKernel.available`).
    static var available: Bool { PanelKernel.available }

    deinit { for entry in packed.values { UnsafeMutableRawPointer(entry.panels).deallocate() } }

    /// out[M, N] = inp[M, K]·W (+ bias) (+ residual), W [K, N] input-major or [N, K] output-major, groups of 48 outputs
    /// spread over the threads OpenBLAS would use. `out` may alias `residual`. One caller at a time (inference is one
    /// thread). - Precondition: `weight` was packed, if at all, with the same K, N and layout.
    /// - Returns: false, having written nothing, when the kernel does not run here or `weight` is not packed yet (the
    ///   caller runs sgemm).
    func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?,
        residual: UnsafeMutablePointer<Float>?, M: Int, K: Int, N: Int, layout: WeightLayout
    ) -> Bool {
        guard Self.available else { return false }
        let entry: Entry
        if let known = packed[weight] {
            entry = known
        } else {
            let call = calls[weight, default: 0] + 1
            guard call >= max(1, packingCall) else {
                calls[weight] = call
                return false
            }
            calls[weight] = nil
            entry = pack(weight, K: K, N: N, layout: layout)
        }
        precondition(entry.K == K && entry.N == N && entry.layout == layout, "a weight matrix packed with another shape")
        // Bias and residual are added as each tile is stored (no pass writing them into `out` first).
        let panels = entry.panels, b = bias.map { UnsafePointer($0) }, r = residual.map { UnsafePointer($0) }
        PanelKernel.spread(groups: wp_f32_gemm_groups(N), flops: 2 * M * N * K) { first, count in
            _ = wp_f32_gemm(inp, M, K, panels, N, first, count, out, N, b, r)
        }
        return true
    }

    private func pack(_ weight: UnsafeMutablePointer<Float>, K: Int, N: Int, layout: WeightLayout) -> Entry {
        let groups = wp_f32_gemm_groups(N), floats = wp_f32_panel_floats(N, K)
        // Cache-line aligned, so each 16-float load of a group stays within one line.
        let panels = UnsafeMutableRawPointer.allocate(byteCount: floats * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: floats)
        Parallel.forEachChunk(groups, minChunk: 1) { _, range in
            wp_f32_pack_panels(weight, N, K, layout == .inputMajor ? 1 : 0, range.lowerBound, range.count, panels)
        }
        let entry = Entry(panels: panels, K: K, N: N, layout: layout)
        packed[weight] = entry
        bytes += floats * MemoryLayout<Float>.stride
        return entry
    }
}
