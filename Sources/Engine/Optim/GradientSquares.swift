/// Sums of squares of gradient tensors taken as the backward pass stored them, so clipping's norm
/// (`GradientClipping.globalNorm(_:recorded:)`) reads only the tensors nobody recorded.
///
/// The engine's weight-gradient kernel squares each value as it stores it (`MatMul.backward` returns the sum); the
/// separate read of the 0.5 GB of gradients this spares took 7–10 ms of a GPT-2 124M training step (perf). A model
/// calls `reset()` before each backward pass and records a tensor only after its last write in that pass (GPT-2's tied
/// embedding after the token scatter, its squares corrected for the rows the scatter changed), never an accumulated
/// micro-batch (sgemm computes those, and `MatMul.backward` returns nil for them).
public final class GradientSquares {
    /// The buffer whose tensors are recorded.
    public let gradients: TensorBuffer
    private var squares: [Double?]
    private let positionAtOffset: [Int: Int]

    init(gradients: TensorBuffer) {
        self.gradients = gradients
        squares = Array(repeating: nil, count: gradients.layout.specs.count)
        // An empty tensor shares its offset with the next one: a span starting there starts at the first of them.
        positionAtOffset = Dictionary(gradients.layout.offsets.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Forgets every record: the next backward pass writes the gradients anew.
    func reset() {
        for position in squares.indices { squares[position] = nil }
    }

    /// Records `span`'s sum of squares, or forgets it when `sum` is nil. `span` must run from the start of one tensor of
    /// `gradients` to the end of the same or a later one (a fused view such as Llama's q, k and v projections; only
    /// zero padding between them), a programmer error otherwise. The sum is kept at its first tensor, the others covered.
    func record(_ span: UnsafeMutableBufferPointer<Float>, _ sum: Double?) {
        let layout = gradients.layout, offset = gradients.flat.baseAddress!.distance(to: span.baseAddress!)
        guard let first = positionAtOffset[offset] else {
            preconditionFailure("a recorded gradient must start where a tensor of the gradient buffer starts")
        }
        var last = first
        while layout.offsets[last] + layout.specs[last].count < offset + span.count, last + 1 < layout.specs.count { last += 1 }
        precondition(
            layout.offsets[last] + layout.specs[last].count == offset + span.count,
            "a recorded gradient must end where a tensor of the gradient buffer ends")
        squares[first] = sum
        for position in (first + 1)..<(last + 1) { squares[position] = sum.map { _ in 0 } }
    }

    /// The recorded sum of squares of the span starting with the tensor at `position` (0 for a tensor a span starting
    /// earlier covers), or nil.
    public func sum(at position: Int) -> Double? { squares[position] }

    /// The distinct tokens of a batch in ascending order (so sums over their rows add in the same order every run): the
    /// embedding rows a token scatter writes.
    static func distinctTokens(_ tokens: UnsafeMutableBufferPointer<Int32>) -> [Int] {
        Set(tokens).sorted().map(Int.init)
    }

    /// Σ x² over rows `rows` (each `width` floats) of `table`, in the rows' order.
    static func sumOfSquares(rows: [Int], in table: UnsafeMutableBufferPointer<Float>, width: Int) -> Double {
        rows.reduce(0) { sum, row in
            (row * width..<(row + 1) * width).reduce(sum) { $0 + Double(table[$1]) * Double(table[$1]) }
        }
    }

    /// Tensors recorded since the last reset, those inside spans included.
    public var recordedCount: Int { squares.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}
