#!/usr/bin/env python3
"""Runs wattprint's engine and llama.cpp's `llama-bench` side by side on one model shape, in interleaved rounds on the
same machine, and prints tokens/s for decode and prefill per weight format with medians and per-round ratios.

Pairs: wattprint fp32 / llama.cpp F32, bf16 / BF16 and F16, int8 (groups of 32) / Q8_0 (groups of 32).
Decode: wattprint `--seq 16 --steps 128` (batch 1) against llama-bench `tg128` (128 tokens from an empty context).
Prefill: wattprint `--seq 256` against llama-bench `pp256`. Both on the same thread count.

wattprint records each bench in a ledger: a temporary one here, so the comparison never touches the user's.
Standard library only. See README.md beside this file for building llama-bench and writing the GGUF files.
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from side_by_side import add_wattprint_arguments, check_wattprint, coretype_label, model_bench, ratio_span, run, span, write_json  # noqa: E402

# wattprint precision → the GGUF files (suffixes) compared with it.
PAIRS = {"fp32": ["f32"], "bf16": ["bf16", "f16"], "int8": ["q8_0"]}


def wattprint_bench(binary, preset, phase, precision, threads, ledger, native_blas):
    shape = ["--seq", "16", "--steps", "128", "--warmup", "4"] if phase == "decode" else ["--seq", "256", "--steps", "3"]
    result, env = model_bench(binary, preset, phase, threads, ledger, native_blas, shape, precision)
    # The kernel wattprint reports: a reduced-precision one, prefill's (records from before it was kept: sgemm).
    blas = f"OpenBLAS sgemm ({env.get('OPENBLAS_CORETYPE', 'its own kernel choice')})"
    prefill = result.get("prefillKernel", blas)
    if prefill.startswith("OpenBLAS sgemm") and prefill != blas:
        prefill = blas
    return {
        "tokens_per_second": result["tokensPerSecond"],
        "fraction_of_bandwidth_bound": result.get("fractionOfBandwidthBound"),
        "gflops": result["achievedGFLOPs"],
        "kernel": result.get("quantizedKernel", "fp32 pooled products" if phase == "decode" else prefill),
    }


def llama_bench(binary, model, phase, threads, repetitions):
    test = ["-p", "0", "-n", "128"] if phase == "decode" else ["-p", "256", "-n", "0"]
    rows = json.loads(run([binary, "-m", model, "-t", str(threads), "-r", str(repetitions), "-o", "json", *test]))
    if not rows:
        sys.exit(f"compare.py: llama-bench reported no results for {model}; run it by hand to see why")
    return {"tokens_per_second": rows[0]["avg_ts"], "build": rows[0].get("build_commit")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    add_wattprint_arguments(parser, repository)
    parser.add_argument("--llama-bench", required=True, help="llama.cpp's llama-bench binary")
    parser.add_argument("--models", required=True, help="folder with PRESET-{f32,bf16,f16,q8_0}.gguf (make-gguf.py, llama-quantize)")
    parser.add_argument("--preset", default="gpt2-124m", choices=["gpt2-124m", "llama-124m"])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3); medians are over them")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both engines (default: all CPUs)")
    parser.add_argument("--phases", default="decode,prefill", help="comma-separated: decode, prefill (default both)")
    parser.add_argument(
        "--precisions", default="fp32,bf16,int8", help="comma-separated wattprint formats: fp32, bf16, int8 (default all three)")
    parser.add_argument("--llama-repetitions", type=int, default=2, help="llama-bench -r (it reports their mean)")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    if args.rounds < 1 or args.threads < 1 or args.llama_repetitions < 1:
        parser.error("--rounds, --threads and --llama-repetitions must be at least 1")
    for phase in args.phases.split(","):
        if phase not in ("decode", "prefill"):
            parser.error(f"unknown phase '{phase}': use decode, prefill or both")
    for precision in args.precisions.split(","):
        if precision not in PAIRS:
            parser.error(f"unknown precision '{precision}': use {', '.join(PAIRS)}")
    check_wattprint(parser, args.wattprint)
    if not os.access(args.llama_bench, os.X_OK):
        parser.error(f"{args.llama_bench} is not an executable; build llama-bench (README.md beside this script)")
    for precision in args.precisions.split(","):
        for suffix in PAIRS[precision]:
            path = os.path.join(args.models, f"{args.preset}-{suffix}.gguf")
            if not os.path.exists(path):
                sys.exit(f"compare.py: {path} is missing; write it with make-gguf.py and llama-quantize (README.md)")

    measurements = []
    with tempfile.TemporaryDirectory() as folder:
        ledger = os.path.join(folder, "ledger.sqlite")
        for round_index in range(args.rounds):
            for phase in args.phases.split(","):
                for precision in args.precisions.split(","):
                    ours = wattprint_bench(args.wattprint, args.preset, phase, precision, args.threads, ledger, args.native_blas)
                    measurements.append(dict(round=round_index, phase=phase, engine="wattprint", format=precision, **ours))
                    for suffix in PAIRS[precision]:
                        model = os.path.join(args.models, f"{args.preset}-{suffix}.gguf")
                        theirs = llama_bench(args.llama_bench, model, phase, args.threads, args.llama_repetitions)
                        measurements.append(dict(round=round_index, phase=phase, engine="llama.cpp", format=suffix.upper(), **theirs))
                        print(
                            f"round {round_index + 1} {phase:7} wattprint {precision:4} {ours['tokens_per_second']:8.1f} t/s"
                            f" | llama.cpp {suffix.upper():4} {theirs['tokens_per_second']:8.1f} t/s",
                            file=sys.stderr, flush=True)

    print(f"\n{args.preset}, {args.threads} thread(s), {args.rounds} interleaved round(s), wattprint's OPENBLAS_CORETYPE"
          f" {coretype_label(args.native_blas)};"
          " tokens/s median [min–max]")
    print(f"{'phase':8} {'wattprint':22} {'llama.cpp':22} {'ratio (per round)':28} wattprint kernel")
    for phase in args.phases.split(","):
        for precision in args.precisions.split(","):
            ours = [m for m in measurements if m["phase"] == phase and m["engine"] == "wattprint" and m["format"] == precision]
            for suffix in PAIRS[precision]:
                theirs = [m for m in measurements if m["phase"] == phase and m["engine"] == "llama.cpp" and m["format"] == suffix.upper()]
                a, b = [m["tokens_per_second"] for m in ours], [m["tokens_per_second"] for m in theirs]
                print(f"{phase:8} {precision:4} {span(a):17} {suffix.upper():4} {span(b):17} {ratio_span(a, b):28} {ours[0]['kernel']}")
    write_json(args.json, measurements)


if __name__ == "__main__":
    main()
