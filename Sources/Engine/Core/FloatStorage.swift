/// One owned, zeroed, 64-byte-aligned allocation of `Float`s.
///
/// The engine keeps parameters, gradients, optimizer moments and activations each in one of these
/// (llm.c's single-malloc layout) and hands out views into it, so a training step never allocates.
public final class FloatStorage: @unchecked Sendable {
    /// The whole allocation. Valid for the lifetime of this object.
    public let buffer: UnsafeMutableBufferPointer<Float>

    /// Allocates `count` floats set to zero. 64-byte alignment keeps SIMD rows and BLAS panels on cache lines.
    public init(count: Int) {
        precondition(count >= 0, "negative storage size")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        let typed = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        typed.initialize(repeating: 0, count: max(count, 1))
        buffer = UnsafeMutableBufferPointer(start: typed, count: count)
    }

    /// A view of `count` floats starting at `offset`.
    public func view(offset: Int, count: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(offset >= 0 && offset + count <= buffer.count, "view out of storage bounds")
        return UnsafeMutableBufferPointer(start: buffer.baseAddress! + offset, count: count)
    }

    deinit {
        UnsafeMutableRawPointer(buffer.baseAddress!).deallocate()
    }
}
