"""Training on small labelled sets of one's own: the hybrid (model chosen on validation) against
1-NN, 5-NN and PCA, on beats cut from MIT-BIH DS1.

Each set is a labelled beat file as a user would write one (label first: the AAMI class
N, S, V or F of the record's .atr annotation), with 50, 100 or 300 training beats (25%
abnormal where the pool has enough), and a test file the training never sees:

* per record, disjoint time: the training file from a record's first 15 minutes, the
  test from its last 15 (records 119 N/V, 208 N/V/F, 209 N/S, 223 N/V/S);
* across records: training from DS1 records 101-122, test from the other DS1 records
  124-230 (other patients: the hard case).

Beats are found by the project's R-peak detector (``ecgad.data.rpeaks``) on the MLII lead
and cut as the beat models see them (``ecgad.data.beats.beat_windows``: one RR interval,
R peak near the start); a detected beat takes the label of the annotation within 150 ms.
Every method learns from the same training normals and chooses what it tunes, and its
threshold, on the same validation part (``ecgad.own_beats.split``); the test file is
scored once. Figures: test ROC AUC (anomaly = positive) and the thresholded F1 and
balanced accuracy.

    ECGAD_DATA_DIR=../shared/data python benchmarks/small_data.py [--seeds 0 1 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import KNNDistance, PCAReconstruction  # noqa: E402

from ecgad import own_beats  # noqa: E402
from ecgad.data.annotations import label_peaks, read_annotations  # noqa: E402
from ecgad.data.beats import beat_windows, prepare  # noqa: E402
from ecgad.data.readers import read_recording  # noqa: E402
from ecgad.data.rpeaks import bandpass, detect_r_peaks_chunked  # noqa: E402

AAMI = {**dict.fromkeys("NLRej", "N"), **dict.fromkeys("AaJS", "S"), **dict.fromkeys("VE", "V"), "F": "F"}
HALF_S = 15 * 60
SIZES = (50, 100, 300)
ABNORMAL_SHARE = 0.25
MAX_TEST = 3000  # test beats per set (a random subset where there are more): keeps scoring quick
SETS = {
    "119 (N vs V), disjoint time": {"records": ["119"]},
    "208 (N vs V, F), disjoint time": {"records": ["208"]},
    "209 (N vs S), disjoint time": {"records": ["209"]},
    "223 (N vs V, S, F), disjoint time": {"records": ["223"]},
    "across records (N vs S, V, F)": {"train": ["101", "106", "108", "109", "112", "114", "115", "116", "118",
                                                "119", "122"],
                                      "test": ["124", "201", "203", "205", "207", "208", "209", "215", "220",
                                               "223", "230"]},
}
RESULTS = Path(__file__).resolve().parent / "results" / "small_data.json"


def record_beats(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows, AAMI labels, R-peak times in s) of one record's detected, labelled beats."""
    signal = read_recording(folder / name)
    peaks = detect_r_peaks_chunked(signal.samples, signal.fs)
    reference, symbols = read_annotations(folder / name)
    labels = np.array([AAMI.get(s, "") for s in label_peaks(peaks, reference, symbols, signal.fs)])
    windows, kept = beat_windows(bandpass(signal.samples, signal.fs), peaks, signal.fs)
    usable = (labels[kept] != "") & (np.ptp(windows, axis=1) > 1e-6)
    return windows[usable], labels[kept][usable], peaks[kept][usable] / signal.fs


def pools(folder: Path, spec: dict) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(train pool, test pool), each (windows, labels)."""
    if "records" in spec:
        w, y, t = zip(*(record_beats(folder, r) for r in spec["records"]), strict=True)
        w, y, t = np.concatenate(w), np.concatenate(y), np.concatenate(t)
        return (w[t < HALF_S], y[t < HALF_S]), (w[t >= HALF_S], y[t >= HALF_S])
    parts = []
    for names in (spec["train"], spec["test"]):
        w, y, _ = zip(*(record_beats(folder, r) for r in names), strict=True)
        parts.append((np.concatenate(w), np.concatenate(y)))
    return parts[0], parts[1]


def sample_file(pool: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` beats, a quarter of them abnormal where the pool has that many."""
    w, y = pool
    normal, abnormal = np.flatnonzero(y == "N"), np.flatnonzero(y != "N")
    n_abn = min(len(abnormal), round(ABNORMAL_SHARE * n))
    index = np.concatenate([rng.choice(normal, n - n_abn, replace=False), rng.choice(abnormal, n_abn, replace=False)])
    return w[index], y[index]


def figures(scores: np.ndarray, threshold: float, is_anomaly: np.ndarray) -> dict:
    flagged = scores > threshold
    tp, fp = int((flagged & is_anomaly).sum()), int((flagged & ~is_anomaly).sum())
    recall = tp / max(int(is_anomaly.sum()), 1)
    specificity = 1 - fp / max(int((~is_anomaly).sum()), 1)
    precision = tp / max(tp + fp, 1)
    return {"roc_auc": float(roc_auc_score(is_anomaly, scores)),
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "balanced_accuracy": (recall + specificity) / 2}


def run_one(train_file, test, seed: int) -> dict:
    data = own_beats.LabelledBeats(prepare(train_file[0]), train_file[1], "N", "train")
    part = own_beats.split(data, 0.2, seed)
    test_values, test_y = prepare(test[0]), test[1] != "N"
    out: dict = {"n_train_normals": len(part.train.labels), "n_validation": len(part.validation.labels),
                 "n_validation_abnormal": int(part.validation.is_anomaly.sum())}
    started = time.perf_counter()
    detector, selection = own_beats.fit(part, seed=seed)
    out["hybrid"] = {**figures(detector.score(test_values), detector.threshold, test_y),
                     "seconds": round(time.perf_counter() - started, 1), "chosen": selection.chosen,
                     "tried": selection.tried}
    for baseline in (KNNDistance(1), KNNDistance(5), PCAReconstruction()):
        baseline.fit(part.train.values, part.validation.values, part.validation.is_anomaly, part.normal_share)
        out[baseline.name] = figures(baseline.score(test_values), baseline.threshold, test_y)
    return out


def markdown(results: dict) -> str:
    """The RESULTS.md table: test ROC AUC (and F1) per set and training size, means over seeds."""
    methods = ("hybrid", "1-NN", "5-NN", "PCA")
    lines = ["| set | beats | " + " | ".join(f"{m} AUC" for m in methods) + " | " +
             " | ".join(f"{m} F1" for m in methods) + " | hybrid chosen | hybrid s |",
             "|---|---:|" + "---:|" * (2 * len(methods)) + "---|---:|"]

    def mean(runs: list[dict], method: str, key: str) -> str:
        values = [r[method][key] for r in runs if method in r]
        return f"{np.mean(values):.{1 if key == 'seconds' else 3}f}" if values else "–"

    for name, entry in results["sets"].items():
        for size, runs in entry["runs"].items():
            chosen = ", ".join(sorted({r["hybrid"]["chosen"] for r in runs}))
            lines.append(f"| {name} | {size} | " + " | ".join(mean(runs, m, "roc_auc") for m in methods) + " | "
                         + " | ".join(mean(runs, m, "f1") for m in methods)
                         + f" | {chosen} | {mean(runs, 'hybrid', 'seconds')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("ECGAD_DATA_DIR"), help="folder holding mitdb/")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--sets", nargs="+", default=None, help="the sets to run (default: all)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --out and stop")
    args = parser.parse_args()
    if args.table:
        print(markdown(json.loads(args.out.read_text())))
        return
    if not args.data:
        parser.error("give --data or set ECGAD_DATA_DIR (the folder holding mitdb/)")
    folder = Path(args.data) / "mitdb"
    started = time.perf_counter()
    results = {"sets": {}, "sizes": args.sizes, "seeds": args.seeds, "abnormal_share": ABNORMAL_SHARE,
               "torch_threads_default": torch.get_num_threads(),  # small sets train on one (ecgad.own_beats)
               "machine": platform.processor() or platform.machine()}
    for name, spec in SETS.items():
        if args.sets and not any(s in name for s in args.sets):
            continue
        train_pool, test_pool = pools(folder, spec)
        rng = np.random.default_rng(1000)
        if len(test_pool[1]) > MAX_TEST:
            keep = np.sort(rng.choice(len(test_pool[1]), MAX_TEST, replace=False))
            test_pool = (test_pool[0][keep], test_pool[1][keep])
        labels, counts = np.unique(test_pool[1], return_counts=True)
        entry = {"test_beats": dict(zip(labels.tolist(), counts.tolist(), strict=True)), "runs": {}}
        for size in args.sizes:
            runs = []
            for seed in args.seeds:
                file = sample_file(train_pool, size, np.random.default_rng(seed))
                runs.append(run_one(file, test_pool, seed))
                h = runs[-1]["hybrid"]
                print(f"{name} | {size} beats | seed {seed}: hybrid AUC {h['roc_auc']:.3f} ({h['chosen']}, "
                      f"{h['seconds']} s); " + ", ".join(f"{m} {runs[-1][m]['roc_auc']:.3f}"
                                                        for m in ("1-NN", "5-NN", "PCA") if m in runs[-1]),
                      flush=True)
            entry["runs"][str(size)] = runs
        results["sets"][name] = entry
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))
    print(f"wrote {args.out} in {results['seconds']} s")


if __name__ == "__main__":
    main()
