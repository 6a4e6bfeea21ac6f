#!/usr/bin/env python3
"""Runs wattprint's engine and PyTorch (CPU, Hugging Face `transformers` models) side by side on one model shape, in
interleaved rounds on the same machine: a training step, a prefill and batch-1 decoding, tokens/s with medians and the
ratio of each round.

Shapes: wattprint's `gpt2-124m` (GPT2LMHeadModel, GPT-2 small) or `llama-124m` (LlamaForCausalLM: 12 × 768, 12 heads,
4 key/value heads, SwiGLU 2048, vocabulary 32000, its own LM head), random weights (speed depends on shapes only).
Phases, as `wattprint model bench` runs them:
  train    one optimizer step on a batch × seq of random tokens: forward, backward, gradient clipping to norm 1, AdamW;
  prefill  a prompt of `--prefill-seq` tokens into an empty KV cache, logits of its last position only;
  decode   after a 16-token prompt, 128 steps of one token with the KV cache (batch 1), timed per step.
Both take the same thread count. PyTorch runs in this process (loaded once); wattprint runs as a subprocess and records
each bench in a temporary ledger, never the user's.

Needs torch and transformers (a CPU venv: pip install torch transformers).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from side_by_side import add_wattprint_arguments, check_wattprint, coretype_label, model_bench, ratio_span, span, write_json  # noqa: E402


def wattprint_bench(binary, preset, phase, threads, ledger, native_blas, batch, seq, precision):
    shape = {
        "train": ["--batch", str(batch), "--seq", str(seq), "--steps", "3"],
        "prefill": ["--seq", str(seq), "--steps", "5"],
        "decode": ["--seq", "16", "--steps", "128", "--warmup", "4"],
    }[phase]
    return model_bench(binary, preset, phase, threads, ledger, native_blas, shape, precision)[0]["tokensPerSecond"]


class TorchModel:
    def __init__(self, preset, precision):
        import torch
        import transformers

        self.torch = torch
        if preset == "gpt2-124m":
            config = transformers.GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
            config.attn_pdrop = config.resid_pdrop = config.embd_pdrop = 0.0
            self.model = transformers.GPT2LMHeadModel(config)
        else:
            config = transformers.LlamaConfig(
                num_hidden_layers=12, hidden_size=768, num_attention_heads=12, num_key_value_heads=4, intermediate_size=2048,
                vocab_size=32000, max_position_embeddings=1024, tie_word_embeddings=False)
            self.model = transformers.LlamaForCausalLM(config)
        self.vocabulary = config.vocab_size
        self.dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        self.model.to(self.dtype)

    def tokens(self, batch, seq):
        return self.torch.randint(0, self.vocabulary, (batch, seq))

    def train(self, batch, seq, steps=3):
        torch = self.torch
        self.model.train()
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        inputs = self.tokens(batch, seq)
        times = []
        for step in range(steps + 1):
            start = time.perf_counter()
            loss = self.model(input_ids=inputs, labels=inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if step > 0:
                times.append(time.perf_counter() - start)
        return batch * seq / statistics.median(times)

    def prefill(self, seq, steps=5):
        torch = self.torch
        self.model.eval()
        prompt = self.tokens(1, seq)
        times = []
        with torch.inference_mode():
            for step in range(steps + 1):
                start = time.perf_counter()
                self.model(input_ids=prompt, use_cache=True, logits_to_keep=1)
                if step > 0:
                    times.append(time.perf_counter() - start)
        return seq / statistics.median(times)

    def decode(self, prompt_length=16, steps=128, warmup=4):
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            out = self.model(input_ids=self.tokens(1, prompt_length), use_cache=True, logits_to_keep=1)
            cache = out.past_key_values
            token = out.logits[:, -1:].argmax(-1)
            times = []
            for step in range(warmup + steps):
                start = time.perf_counter()
                out = self.model(input_ids=token, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                token = out.logits[:, -1:].argmax(-1)
                if step >= warmup:
                    times.append(time.perf_counter() - start)
        return 1 / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    add_wattprint_arguments(parser, repository)
    parser.add_argument("--preset", default="gpt2-124m", choices=["gpt2-124m", "llama-124m"])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3); medians are over them")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all CPUs)")
    parser.add_argument("--phases", default="train,prefill,decode", help="comma-separated: train, prefill, decode")
    parser.add_argument("--precisions", default="fp32", help="comma-separated: fp32, bf16 (bf16: inference phases only)")
    parser.add_argument("--batch", type=int, default=4, help="training batch (default 4)")
    parser.add_argument("--seq", type=int, default=64, help="training sequence (default 64)")
    parser.add_argument("--prefill-seq", type=int, default=256, help="prefill prompt (default 256)")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    phases, precisions = args.phases.split(","), args.precisions.split(",")
    if min(args.rounds, args.threads, args.batch, args.seq, args.prefill_seq) < 1:
        parser.error("--rounds, --threads, --batch, --seq and --prefill-seq must be at least 1")
    for phase in phases:
        if phase not in ("train", "prefill", "decode"):
            parser.error(f"unknown phase '{phase}': use train, prefill, decode (comma-separated)")
    for precision in precisions:
        if precision not in ("fp32", "bf16"):
            parser.error(f"unknown precision '{precision}': use fp32, bf16")
    if phases == ["train"] and "fp32" not in precisions:
        parser.error("training runs in fp32 only: add fp32 to --precisions or another phase to --phases")
    check_wattprint(parser, args.wattprint)
    # transformers warns, once per step, that past_key_values will be renamed; the argument works in the versions this runs on.
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        import torch
    except ImportError:
        sys.exit("compare.py: torch is missing; pip install torch transformers (a CPU venv)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    models = {p: TorchModel(args.preset, p) for p in precisions}

    rows = [(phase, precision) for phase in phases for precision in precisions if not (phase == "train" and precision != "fp32")]
    measurements = []
    with tempfile.TemporaryDirectory() as folder:
        ledger = os.path.join(folder, "ledger.sqlite")
        for round_index in range(args.rounds):
            for phase, precision in rows:
                seq = args.seq if phase == "train" else args.prefill_seq
                ours = wattprint_bench(args.wattprint, args.preset, phase, args.threads, ledger, args.native_blas, args.batch, seq, precision)
                model = models[precision]
                theirs = {"train": lambda: model.train(args.batch, args.seq), "prefill": lambda: model.prefill(args.prefill_seq),
                          "decode": lambda: model.decode()}[phase]()
                measurements.append(dict(round=round_index, phase=phase, precision=precision, wattprint=ours, pytorch=theirs))
                print(f"round {round_index + 1} {phase:7} {precision:4} wattprint {ours:8.1f} t/s | PyTorch {theirs:8.1f} t/s",
                      file=sys.stderr, flush=True)

    print(f"\n{args.preset}, {args.threads} thread(s), {args.rounds} interleaved round(s), PyTorch {torch.__version__}, "
          f"wattprint's OPENBLAS_CORETYPE {coretype_label(args.native_blas)}; tokens/s median [min–max]")
    print(f"{'phase':8} {'weights':8} {'wattprint':22} {'PyTorch':22} ratio (per round)")
    for phase, precision in rows:
        found = [m for m in measurements if m["phase"] == phase and m["precision"] == precision]
        ours, theirs = [m["wattprint"] for m in found], [m["pytorch"] for m in found]
        print(f"{phase:8} {precision:8} {span(ours, 8):22} {span(theirs, 8):22} {ratio_span(ours, theirs)}")
    write_json(args.json, measurements)


if __name__ == "__main__":
    main()
