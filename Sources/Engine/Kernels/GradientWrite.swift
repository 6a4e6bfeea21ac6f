/// How a backward kernel writes a gradient: overwrite, or add to what is there.
///
/// Overwriting on the first micro-batch replaces a separate zeroing pass over 0.5 GB of
/// gradients (124M model); accumulating serves later micro-batches and shared residual streams.
public enum GradientWrite: Sendable {
    case overwrite
    case accumulate

    /// The BLAS `beta` that implements this write.
    @inline(__always) var beta: Float { self == .overwrite ? 0 : 1 }
}
