import CKernels
import Glibc

// Legend: K inputs, N outputs.

/// One inference session's fp32 matrices laid out for one-row products (decoding): output-major rows, rows of more than
/// 1,024 inputs cut into blocks of at most 768 (`wp_rows_block`, `wp_pack_rows_blocked`), read block after block by the
/// pool (`wp_gemv_rows_blocked_into`). Only matrices stored otherwise are copied (`needsCopy`): every input-major one
/// (GPT-2's `Conv1D` block matrices) and output-major ones with rows over 1,024 inputs (Llama's down projection at
/// 124M; every Llama matrix and GPT-2's tied LM head from 1,280 channels: the rule, measured at 2,048 and 3,072 inputs
/// only). Each is copied on its first one-row call and kept for the session's lifetime, 4 bytes a weight (`bytes`), while
/// the copies stay within `budgetBytes`; beyond it a matrix is read as stored. One caller at a time (inference is one
/// thread).
///
/// Why: decoding streams every weight once a token, so its speed is the rate at which the products read memory. On this
/// project's Zen 5 VM, while it had 55–65 GB/s to give, GPT-2 124M's products (blocks and LM head) read at 83 % of the
/// streaming-read probe as stored and at 94 % laid out this way in a C loop over one allocation (443 rounds), 75 and 87 %
/// in `scripts/kernel-harness/run-decode` (102 rounds), and whole decode steps of `model bench` at 80–83 and 89–91 % of
/// the probe around them; at about 34 GB/s, 92–93 and 95–97 % (README, "Decode copies laid out in rows").
/// `WATTPRINT_DECODE_LAYOUT=stored` reads the weights as stored instead.
///
/// A session made before the weights change (training) keeps the old values: make a new one.
final class DecodeRows {
    private struct Entry {
        let rows: UnsafeMutablePointer<Float>
        let K: Int, N: Int, layout: WeightLayout, block: Int
    }
    private var copyOf: [UnsafeMutablePointer<Float>: Entry] = [:]
    /// Slabs the copies are cut from, 2 MiB aligned and advised as huge pages (as `FloatStorage` backs the parameters), so
    /// a model's many matrices do not each round up to a page. Not zeroed: pages past the last copy are never touched, so
    /// they take no memory.
    private var slabs: [(start: UnsafeMutableRawPointer, floats: Int)] = []
    /// Floats of the last slab taken by copies.
    private var slabUsed = 0
    /// Bytes of the copies made so far.
    private(set) var bytes = 0
    /// Bytes the copies may take; nil until the first copy sets it (`init`).
    private var budget: Int?
    private let budgetOverride: Int?

    /// Floats a slab holds at least (64 MiB).
    static let slabFloats = 16 << 20
    static let hugePage = 2 << 20

    /// Whether one-row products read copies (`WATTPRINT_DECODE_LAYOUT` unset or `rows`); `stored` turns it off.
    static let enabled = getenv(KernelEnvironment.decodeLayout).map { String(cString: $0) } != "stored"

    /// - Parameter budgetBytes: the most the copies may take; by default half the host's `MemAvailable` when the first copy
    ///   is made (no limit where it cannot be read), so a model that fits in memory is not pushed out of it by its copies.
    init(budgetBytes: Int? = nil) { budgetOverride = budgetBytes }

    deinit { for slab in slabs { slab.start.deallocate() } }

    /// Whether a matrix of K inputs stored in `layout` is read from a copy: not when it already is output-major rows of at
    /// most 1,024 inputs.
    static func needsCopy(K: Int, layout: WeightLayout) -> Bool { layout == .inputMajor || wp_rows_block(K) < K }

    /// out[N] = inp[K]·W (+ bias) (+ residual) for one row, W [K, N] input-major or [N, K] output-major, from the copy
    /// (made here on the first call). `out` may alias `residual`.
    /// - Returns: false, having written nothing, when the layout is turned off, W needs no copy, or its copy would pass
    ///   the budget (the caller reads W as stored). - Precondition: `weight` was copied, if at all, with the same K, N and
    ///   layout.
    func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>?, residual: UnsafeMutablePointer<Float>?, K: Int, N: Int, layout: WeightLayout
    ) -> Bool {
        guard Self.enabled, Self.needsCopy(K: K, layout: layout) else { return false }
        guard let entry = copyOf[weight] ?? copy(weight, K: K, N: N, layout: layout) else { return false }
        precondition(entry.K == K && entry.N == N && entry.layout == layout, "a weight matrix copied with another shape")
        if bias != nil || residual != nil { MatMul.initialise(out: out, bias: bias, residual: residual, M: 1, N: N) }
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(2 * N * K, ordering: .relaxed) }
        let threads = N * K >= PooledProducts.minimumParallelWeights ? Parallel.workers : 1
        wp_gemv_rows_blocked_into(entry.rows, inp, out, N, K, entry.block, Int32(threads), bias != nil || residual != nil ? 1 : 0)
        return true
    }

    /// W's copy, or nil when it would pass the budget.
    private func copy(_ weight: UnsafeMutablePointer<Float>, K: Int, N: Int, layout: WeightLayout) -> Entry? {
        let floats = N * K, block = wp_rows_block(K)
        if budget == nil { budget = budgetOverride ?? ProcessMemory.availableBytes().map { $0 / 2 } ?? .max }
        guard bytes + floats * MemoryLayout<Float>.stride <= budget! else { return nil }
        // Each copy starts on a cache line.
        var offset = (slabUsed + 15) / 16 * 16
        if slabs.isEmpty || offset + floats > slabs[slabs.count - 1].floats {
            let slabFloats = max(Self.slabFloats, floats)
            let start = UnsafeMutableRawPointer.allocate(byteCount: slabFloats * MemoryLayout<Float>.stride, alignment: Self.hugePage)
            _ = madvise(start, slabFloats * MemoryLayout<Float>.stride / Self.hugePage * Self.hugePage, MADV_HUGEPAGE)
            slabs.append((start, slabFloats))
            offset = 0
        }
        // Every float of the copy is written before it is read.
        let rows = slabs[slabs.count - 1].start.bindMemory(to: Float.self, capacity: slabs[slabs.count - 1].floats) + offset
        slabUsed = offset + floats
        Parallel.forEachChunk(N, minChunk: 16) { _, range in
            wp_pack_rows_blocked(weight, layout == .inputMajor ? 1 : 0, N, K, block, range.lowerBound, range.count, rows)
        }
        let entry = Entry(rows: rows, K: K, N: N, layout: layout, block: block)
        copyOf[weight] = entry
        bytes += floats * MemoryLayout<Float>.stride
        return entry
    }
}
