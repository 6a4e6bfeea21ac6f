"""What the side-by-side comparison scripts share: running `wattprint model bench` on a temporary ledger, the options
every comparison takes, and the median [min–max] cells of their tables. Standard library only."""

import json
import os
import statistics
import subprocess
import sys


def run(command, env=None):
    """Runs a command and returns its standard output; exits naming the command and its error when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def add_wattprint_arguments(parser, repository):
    """The wattprint binary (default: the repository's release build) and --native-blas."""
    parser.add_argument(
        "--wattprint", default=os.path.join(repository, ".build/release/wattprint"),
        help="the wattprint binary (default: this repository's release build)")
    parser.add_argument(
        "--native-blas", action="store_true",
        help="run wattprint without OPENBLAS_CORETYPE, so OpenBLAS picks its own kernels (the environment may force older ones)")


def check_wattprint(parser, binary):
    if not os.access(binary, os.X_OK):
        parser.error(f"{binary} is not an executable; build it (swift build -c release) or pass --wattprint")


def model_bench(binary, preset, phase, threads, ledger, native_blas, shape, precision="fp32"):
    """`wattprint model bench --json` recorded in `ledger` (never the user's); returns the bench object and the
    environment it ran in."""
    command = [binary, "model", "bench", "--preset", preset, "--phase", phase, "--threads", str(threads), "--json", *shape]
    if precision != "fp32":
        command += ["--precision", precision]
    env = dict(os.environ, WATTPRINT_LEDGER=ledger)
    if native_blas:
        env.pop("OPENBLAS_CORETYPE", None)
    return json.loads(run(command, env=env))["bench"], env


def coretype_label(native_blas):
    """wattprint's OPENBLAS_CORETYPE as the comparison ran it."""
    return "unset" if native_blas else os.environ.get("OPENBLAS_CORETYPE", "unset")


def span(values, width=7):
    """median [min–max] of tokens/s."""
    return f"{statistics.median(values):{width}.1f} [{min(values):.0f}–{max(values):.0f}]"


def ratio_span(ours, theirs):
    """The median of the per-round ratios [min–max]: rounds are paired, each ran back to back."""
    ratios = [a / b for a, b in zip(ours, theirs)]
    return f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"


def write_json(path, measurements):
    if path:
        with open(path, "w") as file:
            json.dump(measurements, file, indent=1)
