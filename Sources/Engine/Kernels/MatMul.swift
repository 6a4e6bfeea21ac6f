// Legend: M rows (B·T), K input channels, N output channels.

/// How a weight matrix is stored.
public enum WeightLayout: Sendable {
    /// [K, N], input-major: Hugging Face GPT-2 `Conv1D` (`y = x·W + b`). Used by every block matmul.
    case inputMajor
    /// [N, K], output-major: PyTorch `Linear` and the tied token embedding used as LM head.
    case outputMajor
}

/// Dense layer out = inp·W (+ bias) (+ residual): many rows on the engine's AVX-512F kernel where it runs
/// (`PanelKernel`), one row on `PooledProducts`, the rest through OpenBLAS with transposes as flags.
public enum MatMul {
    /// out[M,N] = inp[M,K]·W (+ bias[N]) (+ residual[M,N]). Caches nothing beyond `inp`.
    ///
    /// From `PanelKernel.minimumRows` rows the engine's kernel adds bias and residual as it stores each tile. On sgemm,
    /// bias and residual are written into `out` first and the product is added with beta = 1, which fuses GPT-2's
    /// residual add into the projection. A single row (decode) runs on `PooledProducts`.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>,
        weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?,
        residual: UnsafeMutableBufferPointer<Float>? = nil,
        M: Int, K: Int, N: Int, layout: WeightLayout = .inputMajor
    ) {
        precondition(out.count >= M * N && inp.count >= M * K && weight.count >= K * N)
        let o = out.baseAddress!
        if PanelKernel.multiply(
            out: o, inp: inp.baseAddress!, weight: weight.baseAddress!, layout: layout, bias: bias.map { UnsafePointer($0.baseAddress!) },
            residual: residual.map { UnsafePointer($0.baseAddress!) }, M: M, K: K, N: N)
        {
            return
        }
        var beta: Float = 0
        if bias != nil || residual != nil {
            initialise(out: o, bias: bias?.baseAddress, residual: residual?.baseAddress, M: M, N: N)
            beta = 1
        }
        let x = UnsafePointer(inp.baseAddress!), w = UnsafePointer(weight.baseAddress!)
        switch layout {
        case .inputMajor:
            if M == 1 {
                PooledProducts.gemv(weight: w, layout: .inputMajor, x: x, y: o, N: N, K: K, accumulate: beta == 1)
            } else {
                BLAS.gemm(transA: false, transB: false, m: M, n: N, k: K, a: x, lda: K, b: w, ldb: N, beta: beta, c: o, ldc: N)
            }
        case .outputMajor:
            if M == 1 {
                PooledProducts.gemv(weight: w, layout: .outputMajor, x: x, y: o, N: N, K: K, accumulate: beta == 1)
            } else {
                BLAS.gemm(transA: false, transB: true, m: M, n: N, k: K, a: x, lda: K, b: w, ldb: K, beta: beta, c: o, ldc: N)
            }
        }
    }

    /// dinp[M,K] (=|+=) dout·Wᵀ; dweight (=|+=) inpᵀ·dout (or doutᵀ·inp for output-major); dbias (=|+=) Σ_rows dout.
    ///
    /// `dinp` is optional because nothing upstream of the first layer needs it. dinp is a product with K outputs and N
    /// inputs, so from `PanelKernel.minimumRows` rows it runs the engine's kernel on W read the other way round
    /// (input-major W [K, N] is output-major for it). Overwritten weight gradients
    /// (`PanelKernel.multiplyTransposed`) run it too, reading the activations transposed; accumulated ones stay on sgemm.
    /// - Returns: dweight's sum of squares, taken as the engine's kernel stored it (for `GradientSquares`), or nil when
    ///   sgemm computed it.
    @discardableResult
    public static func backward(
        dinp: UnsafeMutableBufferPointer<Float>?, dweight: UnsafeMutableBufferPointer<Float>, dbias: UnsafeMutableBufferPointer<Float>?,
        dout: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>,
        M: Int, K: Int, N: Int, layout: WeightLayout = .inputMajor,
        inputWrite: GradientWrite = .overwrite, parameterWrite: GradientWrite
    ) -> Double? {
        precondition(dout.count >= M * N && inp.count >= M * K && dweight.count >= K * N)
        let dy = UnsafePointer(dout.baseAddress!), x = UnsafePointer(inp.baseAddress!), w = UnsafePointer(weight.baseAddress!)
        let dw = dweight.baseAddress!
        var dinp = dinp, weightSquares: Double? = nil
        // The weight gradient's A side is stored [M, R]: x for input-major W (dW = xᵀ·dy), dy for output-major.
        let (a, other, R, NW) = layout == .inputMajor ? (x, dy, K, N) : (dy, x, N, K)
        if let d = dinp?.baseAddress, parameterWrite == .overwrite,
            let squares = PanelKernel.inputAndWeightGradients(
                dinp: d, accumulateInput: inputWrite == .accumulate, dout: dy, weight: w, layout: layout, M: M, K: K, N: N,
                dweight: dw, transposed: a, other: other, R: R, NW: NW)
        {
            dinp = nil
            weightSquares = squares
        } else {
            if let d = dinp?.baseAddress,
                PanelKernel.multiply(
                    out: d, inp: dy, weight: w, layout: layout == .inputMajor ? .outputMajor : .inputMajor, bias: nil,
                    residual: inputWrite == .accumulate ? UnsafePointer(d) : nil, M: M, K: N, N: K)
            {
                dinp = nil
            }
            if parameterWrite == .overwrite {
                weightSquares = PanelKernel.multiplyTransposed(out: dw, transposed: a, weight: other, M: M, R: R, N: NW)
            }
        }
        let weightGradientDone = weightSquares != nil
        switch layout {
        case .inputMajor:
            if let dinp {
                BLAS.gemm(
                    transA: false, transB: true, m: M, n: K, k: N, a: dy, lda: N, b: w, ldb: N,
                    beta: inputWrite.beta, c: dinp.baseAddress!, ldc: K)
            }
            if !weightGradientDone {
                BLAS.gemm(
                    transA: true, transB: false, m: K, n: N, k: M, a: x, lda: K, b: dy, ldb: N,
                    beta: parameterWrite.beta, c: dw, ldc: N)
            }
        case .outputMajor:
            if let dinp {
                BLAS.gemm(
                    transA: false, transB: false, m: M, n: K, k: N, a: dy, lda: N, b: w, ldb: K,
                    beta: inputWrite.beta, c: dinp.baseAddress!, ldc: K)
            }
            if !weightGradientDone {
                BLAS.gemm(
                    transA: true, transB: false, m: N, n: K, k: M, a: dy, lda: N, b: x, ldb: K,
                    beta: parameterWrite.beta, c: dw, ldc: K)
            }
        }
        if let dbias {
            columnSum(into: dbias.baseAddress!, from: dout.baseAddress!, M: M, N: N, write: parameterWrite)
        }
        return weightSquares
    }

    /// out rows = bias (+ residual row); one write pass so the product can follow with beta = 1.
    static func initialise(
        out: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?,
        residual: UnsafeMutablePointer<Float>?, M: Int, N: Int
    ) {
        Parallel.forEachChunk(M, minChunk: 8) { _, rows in
            for row in rows {
                let o = out + row * N
                if let residual {
                    let r = residual + row * N
                    if let bias {
                        var i = 0
                        while i + 8 <= N { store8(load8(r + i) + load8(bias + i), o + i); i += 8 }
                        while i < N { o[i] = r[i] + bias[i]; i += 1 }
                    } else {
                        o.update(from: r, count: N)
                    }
                } else if let bias {
                    o.update(from: bias, count: N)
                }
            }
        }
    }

    /// dbias[N] (=|+=) Σ_m dout[m, :], split over column blocks so each block stays in L1.
    static func columnSum(
        into dbias: UnsafeMutablePointer<Float>, from dout: UnsafeMutablePointer<Float>,
        M: Int, N: Int, write: GradientWrite
    ) {
        let blocks = (N + 63) / 64
        Parallel.forEachChunk(blocks, minChunk: 1) { _, blockRange in
            let lo = blockRange.lowerBound * 64, hi = min(N, blockRange.upperBound * 64)
            if write == .overwrite { (dbias + lo).update(repeating: 0, count: hi - lo) }
            for row in 0..<M {
                let src = dout + row * N
                var i = lo
                while i + 8 <= hi { store8(load8(dbias + i) + load8(src + i), dbias + i); i += 8 }
                while i < hi { dbias[i] += src[i]; i += 1 }
            }
        }
    }
}
