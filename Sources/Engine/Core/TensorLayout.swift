/// Name, shape and optimizer treatment of one tensor in a flat buffer.
public struct TensorSpec: Sendable, Hashable, Codable {
    public var name: String
    public var shape: [Int]
    /// Whether AdamW applies decoupled weight decay to it (matrices and embeddings yes; biases and norms no).
    public var decays: Bool

    public init(name: String, shape: [Int], decays: Bool) {
        self.name = name
        self.shape = shape
        self.decays = decays
    }

    public var count: Int { shape.reduce(1, *) }
}

/// Offsets of named tensors inside one flat allocation, built from a size table.
///
/// Each tensor starts on a 16-float (64-byte) boundary so SIMD loops and BLAS see aligned rows.
/// The padding between tensors stays zero and is harmless to AdamW and the gradient norm.
public struct TensorLayout: Sendable {
    public let specs: [TensorSpec]
    public let offsets: [Int]
    /// Total floats, padding included.
    public let count: Int
    private let index: [String: Int]

    public init(_ specs: [TensorSpec]) {
        var offsets: [Int] = []
        var index: [String: Int] = [:]
        var cursor = 0
        for (i, spec) in specs.enumerated() {
            precondition(index[spec.name] == nil, "duplicate tensor name \(spec.name)")
            index[spec.name] = i
            offsets.append(cursor)
            cursor += (spec.count + 15) / 16 * 16
        }
        self.specs = specs
        self.offsets = offsets
        self.count = cursor
        self.index = index
    }

    /// Position of `name` in `specs`, or nil.
    public func position(of name: String) -> Int? { index[name] }

    /// Floats that belong to tensors (padding excluded).
    public var elementCount: Int { specs.reduce(0) { $0 + $1.count } }
}

/// A flat buffer laid out by a `TensorLayout`: parameters, their gradients, or an optimizer moment.
public final class TensorBuffer: @unchecked Sendable {
    public let layout: TensorLayout
    public let storage: FloatStorage

    public init(layout: TensorLayout) {
        self.layout = layout
        self.storage = FloatStorage(count: layout.count)
    }

    /// The whole buffer, padding included.
    public var flat: UnsafeMutableBufferPointer<Float> { storage.buffer }

    /// View of the tensor at `position` in the layout.
    public func view(_ position: Int) -> UnsafeMutableBufferPointer<Float> {
        storage.view(offset: layout.offsets[position], count: layout.specs[position].count)
    }

    /// View of the tensor called `name`; traps on an unknown name (a programmer error).
    public subscript(name: String) -> UnsafeMutableBufferPointer<Float> {
        guard let position = layout.position(of: name) else { preconditionFailure("no tensor named \(name)") }
        return view(position)
    }

    /// Copies every float (padding included) from a buffer with the same layout.
    public func copy(from other: TensorBuffer) {
        precondition(other.layout.count == layout.count, "layout mismatch")
        flat.baseAddress!.update(from: other.flat.baseAddress!, count: layout.count)
    }
}
