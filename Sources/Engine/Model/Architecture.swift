/// The model families the engine builds, each behind `TrainableModel` and `DecodingModel`.
public enum Architecture: String, Codable, Sendable, CaseIterable {
    /// GPT-2: learned positions, LayerNorm, fused multi-head attention, GELU MLP, LM head tied to the embedding.
    case gpt2
    /// Llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, no biases, an untied LM head.
    case llama
    /// A Mixtral-style mixture of experts: Llama with each MLP replaced by top-k routed SwiGLU experts.
    case moe
    /// BERT: a bidirectional post-LayerNorm encoder with learned positions and segments, GELU, and a masked-language-model
    /// head tied to the word embeddings.
    case bert
    /// T5 v1.1: an encoder and a causal decoder with cross-attention, relative position buckets, RMS layer norms,
    /// gated-GELU feed-forward and no biases; trained by span corruption.
    case t5
    /// An Elman recurrent network (tanh), PyTorch's `nn.RNN`, as a language model.
    case rnn
    /// An LSTM language model (PyTorch's `nn.LSTM`).
    case lstm
    /// A GRU language model (PyTorch's `nn.GRU`).
    case gru
    /// An MLP autoencoder over fixed windows of tokens (bytes): embedding, encoder, bottleneck, decoder, per-token
    /// cross-entropy.
    case ae
    /// The same as a variational autoencoder (Kingma & Welling 2014): a Gaussian latent, reparameterised, with the
    /// closed-form KL term; trained on the negative ELBO.
    case vae
    /// A GAN (Goodfellow et al. 2014): MLP generator and discriminator over vectors built from the corpus, trained
    /// alternately with the non-saturating generator loss.
    case gan

    /// Whether the model reads windows of exactly its context (the autoencoders and the GAN).
    public var readsFixedWindows: Bool { [.ae, .vae, .gan].contains(self) }

    /// The known architectures, for messages: "gpt2, llama, moe".
    public static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
