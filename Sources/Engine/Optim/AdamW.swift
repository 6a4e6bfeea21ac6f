/// Hyper-parameters of AdamW (Loshchilov & Hutter), with GPT-2-style defaults.
public struct AdamWOptions: Codable, Sendable, Hashable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay, applied only to tensors whose `TensorSpec.decays` is true.
    public var weightDecay: Float = 0.1

    public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// AdamW with decoupled weight decay, as one vectorised, multithreaded pass over the flat buffers.
///
/// The pass reads parameters, gradients and both moments once and writes parameters and moments
/// once, with gradient clipping folded in as a scale, so the optimizer costs 7 streams of the
/// parameter buffer per step and nothing more.
public final class AdamW {
    public let options: AdamWOptions
    /// First and second moments, laid out like the parameters.
    public let m: TensorBuffer
    public let v: TensorBuffer
    /// Steps taken so far (bias correction uses step + 1 during an update).
    public private(set) var step = 0
    /// Pieces of the flat buffer of at most `pieceFloats`, each within one run of tensors that all decay or all do not.
    private let pieces: [(range: Range<Int>, decays: Bool)]
    /// Floats in a piece (4 MiB): the pass runs as one job whose threads take pieces as they free up, not as halves of
    /// each run of tensors (GPT-2 124M has 99 such runs, small bias and norm vectors between the weight matrices), where
    /// a thread that got less of the memory's bandwidth kept the other waiting.
    static let pieceFloats = 1 << 20

    public init(layout: TensorLayout, options: AdamWOptions = AdamWOptions()) {
        self.options = options
        m = TensorBuffer(layout: layout)
        v = TensorBuffer(layout: layout)
        var segments: [(range: Range<Int>, decays: Bool)] = []
        for (i, spec) in layout.specs.enumerated() {
            let start = layout.offsets[i]
            let end = i + 1 < layout.specs.count ? layout.offsets[i + 1] : layout.count
            if let last = segments.last, last.decays == spec.decays, last.range.upperBound == start {
                segments[segments.count - 1].range = last.range.lowerBound..<end
            } else {
                segments.append((start..<end, spec.decays))
            }
        }
        pieces = segments.flatMap { segment in
            stride(from: segment.range.lowerBound, to: segment.range.upperBound, by: Self.pieceFloats).map {
                ($0..<min($0 + Self.pieceFloats, segment.range.upperBound), segment.decays)
            }
        }
    }

    /// p ← p − lr·(m̂/(√v̂ + ε) + λ·p) with g = gradientScale·grad; λ = 0 for non-decaying tensors.
    public func update(parameters: TensorBuffer, gradients: TensorBuffer, learningRate: Float, gradientScale: Float = 1) {
        step += 1
        let b1 = options.beta1, b2 = options.beta2
        let correction1 = 1 - Float(_pow(Double(b1), Double(step)))
        let correction2 = 1 - Float(_pow(Double(b2), Double(step)))
        let p = parameters.flat.baseAddress!, g = gradients.flat.baseAddress!
        let mp = m.flat.baseAddress!, vp = v.flat.baseAddress!
        WorkerPool.run(parts: pieces.count, threads: Parallel.workers) { index in
            let piece = pieces[index]
            Self.kernel(
                p: p, g: g, m: mp, v: vp, range: piece.range,
                lr: learningRate, b1: b1, b2: b2, c1: correction1, c2: correction2,
                eps: options.epsilon, decay: piece.decays ? options.weightDecay : 0, scale: gradientScale)
        }
    }

    @inline(__always)
    private static func kernel(
        p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, range: Range<Int>, lr: Float, b1: Float, b2: Float,
        c1: Float, c2: Float, eps: Float, decay: Float, scale: Float
    ) {
        let vb1 = Float8(repeating: b1), vb2 = Float8(repeating: b2)
        let va1 = Float8(repeating: 1 - b1), va2 = Float8(repeating: 1 - b2)
        let vscale = Float8(repeating: scale), vlr = Float8(repeating: lr), vdecay = Float8(repeating: decay)
        let vc1 = Float8(repeating: 1 / c1), vc2 = Float8(repeating: 1 / c2), veps = Float8(repeating: eps)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let grad: Float8 = load8(g + i) * vscale
            let mNew: Float8 = vb1 * load8(m + i) + va1 * grad
            let vNew: Float8 = vb2 * load8(v + i) + va2 * grad * grad
            let denominator: Float8 = vsqrt(vNew * vc2) + veps
            let param = load8(p + i)
            let step: Float8 = (mNew * vc1) / denominator + vdecay * param
            store8(mNew, m + i)
            store8(vNew, v + i)
            store8(param - vlr * step, p + i)
            i += 8
        }
        while i < range.upperBound {
            let grad = g[i] * scale
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            p[i] -= lr * ((m[i] / c1) / ((v[i] / c2).squareRoot() + eps) + decay * p[i])
            i += 1
        }
    }
}
