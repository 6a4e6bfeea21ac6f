"""Builds cpu_tdp.csv, the CPU model -> TDP table the estimation model ships with.

Run from the repository root with the reference data beside it:  python3 Sources/Meters/Data/build_cpu_tdp.py
Input: ../shared/data/hardware/cpu_tdp.csv (three public datasets, see its SOURCES.md). Rows are kept per
model name; where datasets disagree the row with core/thread counts wins, then Boavizta, then Green Algorithms,
then CodeCarbon. Each output row keeps its dataset as the source.
"""
import csv, pathlib, unicodedata

src = pathlib.Path("../shared/data/hardware/cpu_tdp.csv")
out = pathlib.Path("Sources/Meters/Data/cpu_tdp.csv")
rank = {"Boavizta": 0, "GreenAlgorithms": 1, "mlco2/codecarbon": 2}

def dataset_rank(d):
    for k, v in rank.items():
        if k.lower() in d.lower():
            return v
    return 3

best = {}
for row in csv.DictReader(src.open()):
    # Drop invisible format characters (two CodeCarbon rows end in a zero-width space) before folding spaces.
    model = " ".join("".join(c for c in row["model"] if unicodedata.category(c) != "Cf").split())
    if not model or not row["tdp_w"]:
        continue
    key = model.lower()
    score = (0 if row["threads"] else 1, dataset_rank(row["dataset"]))
    if key not in best or score < best[key][0]:
        best[key] = (score, model, row)

with out.open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["model", "tdp_w", "cores", "threads", "source"])
    for _, (_, model, row) in sorted(best.items()):
        w.writerow([model, row["tdp_w"], row["cores"], row["threads"], row["dataset"].split("@")[0]])
