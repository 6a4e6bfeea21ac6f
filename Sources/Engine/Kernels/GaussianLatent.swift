import Foundation

// Legend: B rows, Z latent width; `moments` rows are μ (Z) | log σ² (Z).

/// A VAE's latent layer (Kingma & Welling 2014): the reparameterised sample z = μ + exp(½·log σ²)·ε and the closed-form
/// KL divergence of N(μ, σ²) from N(0, 1), KL = −½ Σ (1 + log σ² − μ² − σ²).
public enum GaussianLatent {
    /// z[B, Z] from the moments and the noise ε[B, Z]; returns Σ_rows KL.
    @discardableResult
    public static func forward(z: UnsafeMutablePointer<Float>, moments: UnsafePointer<Float>, noise: UnsafePointer<Float>, B: Int, Z: Int)
        -> Double
    {
        var kl = 0.0
        for b in 0..<B {
            let mu = moments + b * 2 * Z, logVariance = mu + Z
            for j in 0..<Z {
                let variance = Foundation.expf(logVariance[j])
                z[b * Z + j] = mu[j] + Foundation.expf(0.5 * logVariance[j]) * noise[b * Z + j]
                kl += -0.5 * Double(1 + logVariance[j] - mu[j] * mu[j] - variance)
            }
        }
        return kl
    }

    /// dmoments[B, 2Z] (overwritten) from dz and `klScale` × the KL term's own gradient (dμ = μ, dlog σ² = ½(σ² − 1)).
    public static func backward(
        dmoments: UnsafeMutablePointer<Float>, dz: UnsafePointer<Float>, moments: UnsafePointer<Float>, noise: UnsafePointer<Float>,
        klScale: Float, B: Int, Z: Int
    ) {
        for b in 0..<B {
            let mu = moments + b * 2 * Z, logVariance = mu + Z, dmu = dmoments + b * 2 * Z, dlog = dmu + Z
            for j in 0..<Z {
                let sigma = Foundation.expf(0.5 * logVariance[j]), g = dz[b * Z + j]
                dmu[j] = g + klScale * mu[j]
                dlog[j] = g * noise[b * Z + j] * 0.5 * sigma + klScale * 0.5 * (sigma * sigma - 1)
            }
        }
    }
}
