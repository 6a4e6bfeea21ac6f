import CKernels

/// How a model's matrices are stored for inference. Activations and accumulation stay fp32 in every case.
public enum WeightPrecision: String, Codable, Sendable, CaseIterable {
    /// fp32, as trained.
    case fp32
    /// bfloat16: each weight rounded (to nearest even) to fp32's upper 16 bits; 2 bytes a weight.
    case bf16
    /// int8 weight-only in groups of 32 with one fp32 scale each (llama.cpp's Q8_0 layout): 1.125 bytes a weight.
    case int8

    /// Weights per scale (int8).
    public static let groupSize = 32

    /// Bytes one weight takes, scales included.
    public var bytesPerWeight: Double {
        switch self {
        case .fp32: return 4
        case .bf16: return 2
        case .int8: return 1 + 4.0 / Double(Self.groupSize)
        }
    }
}

/// Which reduced-precision decode kernel runs on this CPU (`wp_quant_kernel`), for reports.
public enum QuantizedKernel {
    /// What multiplies a prefill's many rows of a GPT-2's or Llama's matrices (`MatrixProducts`): BF16 or VNNI int8 dot
    /// products for bf16 or int8 weights where the CPU has them (`QuantizedMatrix.forwardMany`), else the engine's
    /// AVX-512F fp32 kernel on weights packed once per session (`WeightPanels`; int8: the dequantised values), else
    /// sgemm. Other architectures (`packs` false: T5's decoder) run the engine's kernel packing each call's weights as it
    /// goes (`PanelKernel`), else sgemm.
    public static func prefillName(_ precision: WeightPrecision, packs: Bool = true) -> String {
        if precision == .bf16 && wp_quant_kernel() == 3 && packs { return "AVX-512 BF16 matrix products (activations rounded to bf16)" }
        if precision == .int8 && wp_quant_kernel() == 3 && packs {
            return "AVX-512 VNNI int8 matrix products (activations quantised per 32)"
        }
        let values = precision == .fp32 ? "" : " on the dequantised fp32 weights"
        if packs && WeightPanels.available {
            return "engine AVX-512F fp32 kernel on \(precision == .fp32 ? "the" : "the dequantised") weights, packed once"
        }
        if PanelKernel.available { return unpackedName + values }
        return "OpenBLAS sgemm\(values)"
    }

    /// What multiplies training's products (`gradients` true) or an encoder's: from `PanelKernel.minimumRows` rows, the
    /// forward products, training's input gradients (input-major weights in slices of `PanelKernel.maximumUnpackedInputs`
    /// inputs, output-major ones up to that many) and its overwritten weight gradients (over up to that many rows) on
    /// the engine's AVX-512F kernel packing the weights as it goes; the rest, accumulated weight gradients among them,
    /// on sgemm; else sgemm throughout.
    public static func productsName(gradients: Bool) -> String {
        guard PanelKernel.available else { return "OpenBLAS sgemm" }
        let rows = "\(PanelKernel.minimumRows) rows or more"
        return gradients
            ? "\(unpackedName) (forward products, input gradients and weight gradients of \(rows), up to "
                + "\(PanelKernel.maximumUnpackedInputs) rows a weight gradient); weight gradients added to earlier micro-batches', "
                + "output-major products over more than \(PanelKernel.maximumUnpackedInputs) inputs and the rest: OpenBLAS sgemm"
            : "\(unpackedName) (products of \(rows)); the rest: OpenBLAS sgemm"
    }

    static let unpackedName = "engine AVX-512F fp32 kernel, weights packed as it goes"

    /// "portable C", "AVX2 widening", "AVX-512 widening", "AVX-512 BF16 / VNNI dot products"; for fp32, the one-row
    /// products' kernels (`PooledProducts`: output-major rows with 256-bit AVX2 loads, input-major with AVX-512F).
    public static func name(_ precision: WeightPrecision) -> String {
        guard precision != .fp32 else {
            switch wp_quant_kernel() {
            case 2...: return "fp32 products: AVX2 output-major, AVX-512F input-major"
            case 1: return "fp32 products: AVX2 output-major, portable C input-major"
            default: return "portable C fp32 products"
            }
        }
        switch wp_quant_kernel() {
        case 3:
            return precision == .bf16
                ? "AVX-512 BF16 dot products (activations rounded to bf16)"
                : "AVX-512 VNNI int8 dot products (activations quantised per 32)"
        case 2: return "AVX-512 widening to fp32"
        case 1: return "AVX2 widening to fp32"
        default: return "portable C"
        }
    }
}
