"""Compares, per load, the GPU energy wattprint counted (NVML's energy counter) with the same energy from integrated
POWER_INSTANT and GetPowerUsage (wattprint's cross-check channels) and from nvidia-smi's power readings integrated
over the run's wall-clock span. Prints Markdown.

    python3 compare.py OUT_DIR      (the folder on-device wrote)
"""
import csv
import datetime
import json
import pathlib
import sys


def parse_time(text):
    text = text.strip().replace("Z", "+00:00")
    for fmt in ("%Y/%m/%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            t = datetime.datetime.strptime(text, fmt)
            return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            pass
    raise ValueError(f"unrecognised time {text!r}")


def mean_power(points, start, end):
    """Mean watts of the (time, watts) points between start and end: the trapezoid integral over the span they cover."""
    inside = [(t, w) for t, w in points if start <= t <= end]
    if len(inside) < 2:
        return None
    joules = sum((t1 - t0).total_seconds() * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(inside, inside[1:]))
    return joules / (inside[-1][0] - inside[0][0]).total_seconds()


def smi_series(path):
    columns = {}
    for row in csv.reader(path.open()):
        if len(row) < 2:
            continue
        t = parse_time(row[0])
        for i, value in enumerate(row[1:]):
            try:
                columns.setdefault(i, []).append((t, float(value)))
            except ValueError:
                pass
    return columns


def main(out):
    print("| load | counter (J) | mean power | POWER_INSTANT | GetPowerUsage | nvidia-smi power.draw | nvidia-smi power.draw.instant | sampler CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for pattern in ("steady", "bursty"):
        run_file = out / f"run-{pattern}.json"
        if not run_file.exists():
            print(f"| {pattern} | no run | | | | | | |")
            continue
        text = run_file.read_text()
        energy = json.loads(text[text.index("{"):])["energy"]
        gpu = [c for c in energy["channels"] if c["device"] == "gpu-0"]
        counted = next((c for c in gpu if c["role"] == "total"), None)
        if counted is None or counted["joules"] <= 0:
            print(f"| {pattern} | no GPU energy recorded (see run-{pattern}.err) | | | | | | |")
            continue
        checks = {c["checkSource"].split(" (")[0].removeprefix("nvml "): c["relativeDifference"] for c in energy["crossChecks"]
                  if c["device"] == "gpu-0"}
        if not energy.get("endedAt"):
            print(f"| {pattern} | run did not end cleanly (see run-{pattern}.err) | | | | | | |")
            continue
        start, end = parse_time(energy["startedAt"]), parse_time(energy["endedAt"])
        smi = smi_series(out / f"smi-{pattern}.csv")
        smi_cells = []
        for i in (0, 1):
            watts = mean_power(smi.get(i, []), start, end)
            smi_cells.append(f"{(watts - counted['meanWatts']) / counted['meanWatts'] * 100:+.2f} %" if watts else "n/a")
        overhead = energy.get("samplerOverhead") or {}
        cpu = overhead.get("cpuSeconds", 0) / overhead["wallSeconds"] * 100 if overhead.get("wallSeconds") else float("nan")
        cell = lambda k: f"{checks[k] * 100:+.2f} %" if k in checks else "n/a"
        print(f"| {pattern} | {counted['joules']:,.1f} | {counted['meanWatts']:.1f} W | {cell('POWER_INSTANT field')} | "
              f"{cell('GetPowerUsage')} | {smi_cells[0]} | {smi_cells[1]} | {cpu:.3f} % of a core |")
    print()
    print("Differences are relative to the energy counter. NVML columns compare energy over the same readings; "
          "nvidia-smi columns compare mean power: its own 100 ms samples inside the run's wall-clock span, trapezoid.")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
