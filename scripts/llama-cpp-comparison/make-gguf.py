#!/usr/bin/env python3
"""Writes an F32 GGUF file with the shapes of wattprint's `gpt2-124m` or `llama-124m` preset, for llama.cpp's
`llama-bench`, so both engines run the same model shape side by side (see README.md beside this file).

The weights are drawn at random (N(0, 0.02), norms 1, biases 0): speed depends on shapes only, and no checkpoint or
tokenizer needs to be downloaded. The vocabulary is synthetic for the same reason: 256 byte symbols and then pairs of
them (each with its merge), so llama.cpp's BPE loader accepts the file; `llama-bench` feeds random token ids.

Needs numpy and the `gguf` package (pip install gguf, or PYTHONPATH=<llama.cpp>/gguf-py).

Tensor names and metadata keys follow llama.cpp's converter (convert_hf_to_gguf.py, GPT2Model and LlamaModel):
matrices are stored [out, in] (ggml's ne0 = in).
"""

import argparse
import sys

gguf = None
np = None

PRESETS = {
    # wattprint's presets (`wattprint model bench --help`).
    "gpt2-124m": dict(arch="gpt2", layers=12, channels=768, heads=12, kv_heads=12, mlp=3072, vocab=50257, context=1024),
    "llama-124m": dict(arch="llama", layers=12, channels=768, heads=12, kv_heads=4, mlp=2048, vocab=32000, context=1024),
}


def byte_symbols():
    """GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to code points from 256 up."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    symbols, extra = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def synthetic_vocabulary(size, end_token):
    base = byte_symbols()
    tokens, merges = list(base), []
    for a in base:
        for b in base:
            if len(tokens) >= size - 1:
                break
            tokens.append(a + b)
            merges.append(f"{a} {b}")
    tokens.append(end_token)
    return tokens, merges


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="gpt2-124m")
    parser.add_argument("--out", required=True, help="the .gguf file to write")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    global gguf, np
    try:
        import gguf
        import numpy as np
    except ImportError as missing:
        sys.exit(f"make-gguf.py: {missing.name} is missing; run `pip install gguf numpy` (or set PYTHONPATH to llama.cpp's gguf-py)")
    p = PRESETS[args.preset]
    rng = np.random.default_rng(args.seed)
    C, L, H, NKV, F, V = p["channels"], p["layers"], p["heads"], p["kv_heads"], p["mlp"], p["vocab"]
    hs = C // H

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)).astype(np.float32)

    ones, zeros = (lambda n: np.ones(n, np.float32)), (lambda n: np.zeros(n, np.float32))
    arch = p["arch"]
    writer = gguf.GGUFWriter(args.out, arch)
    writer.add_name(f"wattprint {args.preset} (random weights, for speed comparisons only)")
    writer.add_block_count(L)
    writer.add_context_length(p["context"])
    writer.add_embedding_length(C)
    writer.add_feed_forward_length(F)
    writer.add_head_count(H)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    if arch == "gpt2":
        writer.add_layer_norm_eps(1e-5)
        tokens, merges = synthetic_vocabulary(V, "<|endoftext|>")
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_bos_token_id(V - 1)
        writer.add_eos_token_id(V - 1)
    else:
        writer.add_head_count_kv(NKV)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_rope_freq_base(10000.0)
        writer.add_rope_dimension_count(hs)
        writer.add_vocab_size(V)
        tokens, merges = synthetic_vocabulary(V, "</s>")
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("default")
        writer.add_bos_token_id(V - 1)
        writer.add_eos_token_id(V - 1)
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.NORMAL] * (len(tokens) - 1) + [gguf.TokenType.CONTROL])
    writer.add_token_merges(merges)

    writer.add_tensor("token_embd.weight", normal(V, C))
    if arch == "gpt2":
        writer.add_tensor("position_embd.weight", normal(p["context"], C))
    for l in range(L):
        prefix = f"blk.{l}."
        if arch == "gpt2":
            writer.add_tensor(prefix + "attn_norm.weight", ones(C))
            writer.add_tensor(prefix + "attn_norm.bias", zeros(C))
            writer.add_tensor(prefix + "attn_qkv.weight", normal(3 * C, C))
            writer.add_tensor(prefix + "attn_qkv.bias", zeros(3 * C))
            writer.add_tensor(prefix + "attn_output.weight", normal(C, C))
            writer.add_tensor(prefix + "attn_output.bias", zeros(C))
            writer.add_tensor(prefix + "ffn_norm.weight", ones(C))
            writer.add_tensor(prefix + "ffn_norm.bias", zeros(C))
            writer.add_tensor(prefix + "ffn_up.weight", normal(F, C))
            writer.add_tensor(prefix + "ffn_up.bias", zeros(F))
            writer.add_tensor(prefix + "ffn_down.weight", normal(C, F))
            writer.add_tensor(prefix + "ffn_down.bias", zeros(C))
        else:
            writer.add_tensor(prefix + "attn_norm.weight", ones(C))
            writer.add_tensor(prefix + "attn_q.weight", normal(C, C))
            writer.add_tensor(prefix + "attn_k.weight", normal(NKV * hs, C))
            writer.add_tensor(prefix + "attn_v.weight", normal(NKV * hs, C))
            writer.add_tensor(prefix + "attn_output.weight", normal(C, C))
            writer.add_tensor(prefix + "ffn_norm.weight", ones(C))
            writer.add_tensor(prefix + "ffn_gate.weight", normal(F, C))
            writer.add_tensor(prefix + "ffn_up.weight", normal(F, C))
            writer.add_tensor(prefix + "ffn_down.weight", normal(C, F))
    writer.add_tensor("output_norm.weight", ones(C))
    if arch == "gpt2":
        writer.add_tensor("output_norm.bias", zeros(C))
    else:
        writer.add_tensor("output.weight", normal(V, C))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {args.out}: {args.preset}, {sum(1 for _ in tokens)} tokens, F32")


if __name__ == "__main__":
    main()
