"""Recording analysis on MIT-BIH DS1, record-wise cross-validation: R peaks, beat scores, parts, speed.

    python benchmarks/recordings.py --data ../shared/data/mitdb [--folds 11] [--epochs 40] [--no-speed]

Every annotated record in the folder (the 22 DS1 records), lead MLII. Records are
split into ``--folds`` folds (record i goes to fold i mod k, in sorted order); for
each fold a recording detector is trained on the other folds' records only (the
beat autoencoder on their normal beats, the combination weights and threshold on
their labelled beats, as ``train_recording_detector`` does) and scores the fold's records: no patient is ever both in
training and test.

R peaks are detected as ``ecgad analyze`` does and matched to the ``.atr`` beats
within 150 ms (detections inside ventricular flutter episodes not counted, as in
benchmarks/rpeaks.py). A detected beat takes the label of the annotation it
matches; AAMI normal = N L R e j, abnormal = A a J S V E F (V = V E, S = A a J
S); other and unmatched beats are left out of the ROC AUCs.

Methods, each a non-negative logistic combination fitted on the training
records' beats: our full detector, each part alone, the full detector less one
part (ablation), and the simple baselines (template distance alone, RR
prematurity alone, template distance + RR). Beat classes (AAMI N, S, V, F, Q): each fold's
classifier (``BeatClassifier``, the shipped features and options) fitted on the training
records' beats classifies the held-out ones; per-class Se, +P, F1, the confusion matrix, per
record, and the ablation with the autoencoder's features (benchmarks/classes.py does the same
from cached features, in minutes). Then the speed of ``analyze`` on a
30-minute two-lead 360 Hz record and on a synthetic 24-hour recording, each in a
fresh process (time after imports and model load; peak memory: the process's
VmHWM and ``tracemalloc``). ``--speed-only`` redoes just that part, keeping the
cross-validation figures of the last full run (benchmarks/results/recordings.json). Replaces the ``recordings``
section of RESULTS.md and writes everything to benchmarks/results/recordings.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402
from rpeaks import _vf_mask  # noqa: E402

from ecgad import recording as rec  # noqa: E402
from ecgad.data.annotations import (  # noqa: E402
    ABNORMAL_SYMBOLS,
    NORMAL_SYMBOLS,
    SUPRAVENTRICULAR_SYMBOLS,
    VENTRICULAR_SYMBOLS,
    match_peaks,
    read_annotations,
)
from ecgad.train import TrainConfig  # noqa: E402

START, END = "<!-- recordings:start -->", "<!-- recordings:end -->"

RHYTHM = ("premature", "premature_local", "pause")
TEMPLATE = ("template", "qrs", "qrs_width")
METHODS = {
    "ours: autoencoder latent + template + rhythm": rec.DEFAULT_FEATURES,
    "ours + autoencoder reconstruction error": rec.DEFAULT_FEATURES + ("autoencoder",),
    "ablation: without autoencoder": TEMPLATE + RHYTHM,
    "ablation: without template": ("latent",) + RHYTHM,
    "ablation: without rhythm": ("latent",) + TEMPLATE,
    "ablation: without QRS width": tuple(f for f in rec.DEFAULT_FEATURES if f != "qrs_width"),
    "part alone: autoencoder latent distance": ("latent",),
    "part alone: autoencoder reconstruction error": ("autoencoder",),
    "part alone: template (beat + QRS)": TEMPLATE,
    "part alone: rhythm": RHYTHM,
    "baseline: template distance": ("template",),
    "baseline: RR prematurity": ("premature",),
    "baseline: template distance + RR": ("template", "premature", "pause"),
}
OURS = next(iter(METHODS))
# the beat classifier's ablation: the shipped features, and with the autoencoder's added
AE_CLASS_FEATURES = ("latent", "autoencoder")
CLASS_VARIANTS = {"shipped features (no autoencoder)": rec.CLASS_FEATURES,
                  "with the autoencoder's latent distance and reconstruction error": rec.CLASS_FEATURES
                  + AE_CLASS_FEATURES}
CLASSES_OURS = next(iter(CLASS_VARIANTS))
CONTRASTS = {"abnormal vs normal": ABNORMAL_SYMBOLS, "V vs N": VENTRICULAR_SYMBOLS,
             "S vs N": SUPRAVENTRICULAR_SYMBOLS}


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < y.size else None


def contrasts(symbols: np.ndarray, scores: np.ndarray) -> dict:
    normal = np.isin(symbols, list(NORMAL_SYMBOLS))
    out = {}
    for name, positive in CONTRASTS.items():
        pos = np.isin(symbols, list(positive))
        keep = normal | pos
        out[name] = _auc(pos[keep], scores[keep])
        out[f"n {name.split()[0]}"] = int(pos.sum())
    out["n normal"] = int(normal.sum())
    return out


def detection(record: rec.AnnotatedRecord) -> tuple[int, int, int]:
    samples, symbols = read_annotations(record.path)
    vf = _vf_mask(int(record.peaks.max(initial=0)) + 1, samples, symbols)
    found = record.peaks[~vf[record.peaks]]
    return match_peaks(found, record.reference, record.fs, 0.150)


def record_folds(names: list[str], folds: int) -> list[tuple[list[str], list[str]]]:
    """``(train, test)`` record names of each fold: record i (in the order given; ``find_records``
    sorts them) is tested in fold i mod ``folds`` and trained on in every other, so no patient is on
    both sides of a fold."""
    if not 2 <= folds <= len(names):
        raise ValueError(f"{folds} folds over {len(names)} records: give 2 to {len(names)}")
    return [([n for i, n in enumerate(names) if i % folds != f], names[f::folds]) for f in range(folds)]


def cross_validate(records: list[rec.AnnotatedRecord], signals: dict, folds: int, train_config: TrainConfig,
                   max_beats: int, seed: int, crossfit: int) -> tuple[dict, list[dict]]:
    """Scores of every method for every record, each from the fold that held the record out."""
    scores = {m: {} for m in METHODS}  # and "classes: VARIANT": each record's predicted classes
    fold_info = []
    for f, (_, test) in enumerate(record_folds([r.name for r in records], folds)):
        train = [r for r in records if r.name not in test]
        started = time.perf_counter()
        beat = rec.training_tables([(signals[r.name], r) for r in train], crossfit=crossfit,
                                   max_beats_per_record=max_beats, train_config=train_config, seed=seed + f,
                                   progress=False)
        for r in records:
            if r.name in test:
                s = signals[r.name]
                r.table = rec.beat_table(s.samples, s.fs, beat, peaks=r.peaks)
        fitted = {m: rec.fit_on_records(train, beat, features=feats, class_features=None)
                  for m, feats in METHODS.items()}
        classifiers = {v: rec.BeatClassifier.fit(*rec.training.class_table(train, feats), feats,
                                                 **rec.training.CLASS_OPTIONS)
                       for v, feats in CLASS_VARIANTS.items()}
        for r in records:
            if r.name in test:
                for m, det in fitted.items():
                    scores[m][r.name] = det.combination.score(r.table.features)
                values = {**r.table.features, **rec.context_features(r.peaks, r.fs)}
                for v, clf in classifiers.items():
                    scores.setdefault(f"classes: {v}", {})[r.name] = clf.classify(values)[0]
        ours = fitted[OURS]
        fold_info.append({"fold": f, "test": sorted(test), "seconds": time.perf_counter() - started,
                          "threshold": ours.threshold,
                          "weights": dict(zip(ours.combination.features, ours.combination.weights.round(3).tolist(),
                                              strict=True)),
                          "thresholds": {m: d.threshold for m, d in fitted.items()}})
        print(f"fold {f + 1}/{folds} (test {' '.join(sorted(test))}): {time.perf_counter() - started:.0f} s",
              flush=True)
    return scores, fold_info


def class_figures(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Per AAMI class: sensitivity, positive predictivity, F1; the 5x5 confusion matrix (rows: truth,
    columns: predicted) over beats with an AAMI class."""
    use = np.isin(truth, rec.CLASSES)
    t, p = truth[use], predicted[use]
    matrix = [[int(((t == a) & (p == b)).sum()) for b in rec.CLASSES] for a in rec.CLASSES]
    out = {"confusion": matrix}
    for i, c in enumerate(rec.CLASSES):
        tp, n_true, n_pred = matrix[i][i], sum(matrix[i]), sum(row[i] for row in matrix)
        se = tp / n_true if n_true else None
        ppv = tp / n_pred if n_pred else None
        f1 = 2 * tp / (n_true + n_pred) if n_true + n_pred else None
        out[c] = {"se": se, "ppv": ppv, "f1": f1, "n": n_true, "predicted": n_pred}
    return out


def at_threshold(records, scores: dict, folds: list[dict]) -> dict:
    """Sensitivity, specificity and PPV of our verdicts (each record at its fold's threshold)."""
    thr = {name: f["threshold"] for f in folds for name in f["test"]}
    flagged, y = [], []
    for r in records:
        use = r.is_normal | r.is_abnormal
        flagged.append(scores[OURS][r.name][use] > thr[r.name])
        y.append(r.is_abnormal[use])
    flagged, y = np.concatenate(flagged), np.concatenate(y)
    tp, fp = int((flagged & y).sum()), int((flagged & ~y).sum())
    return {"sensitivity": tp / max(int(y.sum()), 1), "specificity": 1 - fp / max(int((~y).sum()), 1),
            "ppv": tp / max(tp + fp, 1)}


# ------------------------------------------------------------------ speed

_SPEED = r"""
import json, resource, sys, time, tracemalloc
t0 = time.perf_counter()
import numpy as np
from ecgad.data.readers import read_recording
from ecgad.recording import load_recording_detector
det = load_recording_detector(sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None)
setup = time.perf_counter() - t0
runs = []
for i in range(int(sys.argv[3]) + 1):  # the last run under tracemalloc, for memory only
    traced = i == int(sys.argv[3])
    if traced:
        tracemalloc.start()
    t = time.perf_counter()
    signal = read_recording(sys.argv[1])
    t_read = time.perf_counter() - t
    result = det.analyze(signal)
    total = time.perf_counter() - t
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        runs.append({"seconds": total, "read_seconds": t_read})
    del signal
best = min(runs, key=lambda r: r["seconds"])
try:  # this process's own peak (ru_maxrss would also count the parent's memory, inherited across exec)
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    maxrss = int(status["VmHWM"].split()[0]) / 1024
except (OSError, KeyError, ValueError):
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({**best, "first_seconds": runs[0]["seconds"], "setup_seconds": setup, "beats": len(result),
                  "duration_s": result.duration_s, "tracemalloc_peak_mb": peak / 2**20, "maxrss_mb": maxrss}))
"""


def cli_seconds(record: Path, model: Path | None, threads: int) -> float:
    """Wall time of ``ecgad analyze RECORD --json`` from a cold start (interpreter, imports, model)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    args = [sys.executable, "-m", "ecgad.cli", "analyze", str(record), "--json"]
    started = time.perf_counter()
    subprocess.run(args + (["--model", str(model)] if model else []), check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def speed(record: Path, model: Path | None, repeats: int, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", _SPEED, str(record), str(model or ""), str(repeats)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def synthetic_day(records: list[Path], folder: Path, hours: float = 24.0) -> Path:
    """A two-lead 360 Hz WFDB record of ``hours``, made by playing DS1 records one after the other."""
    import wfdb

    need = int(hours * 3600 * 360)
    parts, have = [], 0
    while have < need:
        for r in records:
            sig, _ = wfdb.rdsamp(str(r), channels=[0, 1])
            parts.append(sig.astype(np.float32))
            have += len(sig)
            if have >= need:
                break
    signal = np.concatenate(parts)[:need]
    wfdb.wrsamp("day", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=signal.astype(np.float64),
                fmt=["16", "16"], adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(folder))
    return folder / "day"


# ------------------------------------------------------------------ report


ABLATED = {"rhythm": "ablation: without rhythm", "template": "ablation: without template",
           "QRS width": "ablation: without QRS width", "autoencoder": "ablation: without autoencoder"}


def part_gains(pooled: dict) -> dict[str, dict[str, float | None]]:
    """Per part: our pooled AUC minus the AUC without that part, for each contrast (what the part adds)."""
    ours = pooled[OURS]
    return {part: {c: None if ours[c] is None or pooled[m][c] is None else ours[c] - pooled[m][c]
                   for c in CONTRASTS} for part, m in ABLATED.items()}


def ablation_text(pooled: dict) -> list[str]:
    """What the ablation shows, in words, and why its figures are optimistic."""
    gains = part_gains(pooled)
    rows = [f"| {part} | " + " | ".join("–" if v is None else f"{v:+.4f}" for v in g.values()) + " |"
            for part, g in gains.items()]
    idle = [part for part, g in gains.items() if g["abnormal vs normal"] is not None and g["abnormal vs normal"] <= 0]
    lines = ["", "What each part adds (our AUC minus the AUC without the part):", "",
             "| part | abnormal vs normal | V vs N | S vs N |", "|---|---|---|---|", *rows, ""]
    for part in idle:
        without = pooled[ABLATED[part]]["abnormal vs normal"]
        lines.append(f"Across patients the {part} part adds nothing to the pooled score: without it the combination "
                     f"does as well or better ({without:.4f} against {pooled[OURS]['abnormal vs normal']:.4f}).  ")
    lines.append("These figures are optimistic: the default features were chosen by looking at this same "
                 "cross-validation (the autoencoder's reconstruction error, for one, was left out because it did "
                 "not help here), so the choice has seen every fold's test records. Only records kept out of that "
                 "choice (MIT-BIH DS2, say) would give an unbiased figure.")
    return lines


def _f(v, digits: int = 4) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def classes_text(classes: dict) -> list[str]:
    """The beat classes: per class figures, the confusion matrix, the ablation, per record."""
    ours = classes[CLASSES_OURS]["pooled"]
    lines = ["", "### Beat classes (AAMI N, S, V, F, Q), record-wise", "",
             "Each fold's classifier (`ecgad.recording.classes`, multinomial logistic regression) is fitted on the "
             "other folds' records' beats and classifies the held-out records' beats; the AAMI class of a beat is "
             "that of the `.atr` annotation matched to its detected R peak (unmatched detections and beats of no "
             "class left out). There is no DS2 here: every figure is DS1 record-wise cross-validation, and the "
             "classifier's features and options were chosen on the same folds (optimistic).", "",
             "| class | beats | sensitivity | positive predictivity | F1 |", "|---|---|---|---|---|"]
    for c in rec.CLASSES:
        o = ours[c]
        lines.append(f"| {c} | {o['n']} | {_pct(o['se'])} | {_pct(o['ppv'])} | {_pct(o['f1'])} |")
    lines += ["", "Confusion matrix (rows: annotated class, columns: predicted):", "",
              "| | " + " | ".join(rec.CLASSES) + " |", "|---|" + "---|" * len(rec.CLASSES)]
    for c, row in zip(rec.CLASSES, ours["confusion"], strict=True):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "Ablation (the autoencoder must earn its place):", "",
              "| features | V Se | V +P | S Se | S +P | F Se | N Se |", "|---|---|---|---|---|---|---|"]
    for v, c in classes.items():
        p = c["pooled"]
        lines.append(f"| {v} | {_pct(p['V']['se'])} | {_pct(p['V']['ppv'])} | {_pct(p['S']['se'])} | "
                     f"{_pct(p['S']['ppv'])} | {_pct(p['F']['se'])} | {_pct(p['N']['se'])} |")
    lines += ["", "Per record (shipped features): annotated / correctly classified / predicted, per class:", "",
              "| record | N | S | V | F |", "|---|---|---|---|---|"]
    for name, c in classes[CLASSES_OURS]["per_record"].items():
        lines.append(f"| {name} | " + " | ".join(
            f"{c[k]['n']} / {c['confusion'][i][i]} / {c[k]['predicted']}" for i, k in enumerate("NSVF")) + " |")
    return lines


def section(result: dict) -> str:
    lines = [START, "## Recordings: MIT-BIH DS1, record-wise cross-validation", "",
             f"Command: `{result['command']}`  ",
             f"Machine: {result['machine']}  ",
             f"Date: {result['date']}  ",
             f"{result['folds']} folds by record over {len(result['records'])} records "
             f"({' '.join(result['records'])}), lead MLII; each fold's detector is trained on the other folds' "
             f"records only (autoencoder: {result['autoencoder']}). Beats: R peaks detected as `ecgad analyze` "
             "does, labelled by the `.atr` beat within 150 ms; AAMI normal N L R e j, abnormal A a J S V E F "
             "(V = V E, S = A a J S). ROC AUC with abnormal as positive, pooled over all records' beats.", "",
             "### R-peak detection (150 ms tolerance, ventricular flutter excluded)", "",
             f"Pooled: sensitivity {100 * result['detection']['se']:.2f}%, positive predictivity "
             f"{100 * result['detection']['ppv']:.2f}% ({result['detection']['tp']} matched, "
             f"{result['detection']['fn']} missed, {result['detection']['fp']} false detections).", "",
             "### Beat scores, pooled (the ablation)", "",
             "| method | features | AUC abnormal vs normal | AUC V vs N | AUC S vs N |", "|---|---|---|---|---|"]
    for m, feats in METHODS.items():
        p = result["pooled"][m]
        lines.append(f"| {m} | {', '.join(feats)} | {_f(p['abnormal vs normal'])} | {_f(p['V vs N'])} | "
                     f"{_f(p['S vs N'])} |")
    lines += ablation_text(result["pooled"])
    if result.get("classes"):
        lines += classes_text(result["classes"])
    t = result["at_threshold"]
    lines += ["", f"Our verdicts at each fold's threshold (chosen for accuracy on its training records): "
                  f"sensitivity {100 * t['sensitivity']:.1f}%, specificity {100 * t['specificity']:.1f}%, "
                  f"positive predictivity {100 * t['ppv']:.1f}%.", "",
              *([f"Combination weights of the shipped model ({result['shipped_id']}, trained on all DS1 records; "
                 "log-odds per unit of feature): "
                 + ", ".join(f"{k} {v:.2f}" for k, v in result["shipped_weights"].items()) + ".", ""]
                if result.get("shipped_weights") else []),
              "### Per record (ours, and the template distance + RR baseline)", "",
              "| record | beats | R-peak Se | R-peak PPV | N | V | S | AUC abn. | AUC V | AUC S | baseline AUC abn. |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["per_record"]:
        o, b = row["ours"], row["baseline"]
        lines.append(f"| {row['record']} | {row['beats']} | {100 * row['se']:.2f}% | {100 * row['ppv']:.2f}% | "
                     f"{o['n normal']} | {o['n V']} | {o['n S']} | {_f(o['abnormal vs normal'], 3)} | "
                     f"{_f(o['V vs N'], 3)} | {_f(o['S vs N'], 3)} | {_f(b['abnormal vs normal'], 3)} |")
    if result.get("speed"):
        s = result["speed"]
        lines += ["", "### Speed and memory (`RecordingDetector.analyze`, shipped model)", "",
                  *([f"Command: `{s['command']}`, {s['date']}  "] if s.get("command") != result["command"] else []),
                  f"Each in a fresh process with OMP_NUM_THREADS={s['threads']}, after imports and model load: "
                  "read one lead + R peaks + windows + scoring, best of the runs (the first run, which also "
                  "imports the WFDB reader, in brackets); peak memory of the whole process (VmHWM: Python, "
                  "torch, the model, the reader and the analysis) and of the analysis alone (tracemalloc, "
                  "a separate run). "
                  "`ecgad analyze RECORD --json` from a cold start (interpreter, imports, model) in the last "
                  "column.", "",
                  "| recording | beats | seconds (of which reading) | peak RSS | tracemalloc peak | CLI, cold |",
                  "|---|---|---|---|---|---|"]
        for name, r in s["runs"].items():
            cli = f"{r['cli_seconds']:.1f} s" if "cli_seconds" in r else "–"
            lines.append(f"| {name} | {r['beats']} | {r['seconds']:.2f} ({r['read_seconds']:.2f}) "
                         f"[first {r['first_seconds']:.2f}] | {r['maxrss_mb']:.0f} MB | "
                         f"{r['tracemalloc_peak_mb']:.0f} MB | {cli} |")
        if s.get("note"):
            lines += ["", s["note"]]
    lines.append(END)
    return "\n".join(lines)


def cross_validation_result(args: argparse.Namespace, paths: list[Path]) -> dict:
    records, signals = [], {}
    for p in paths:
        signal, record = rec.read_annotated(p)
        records.append(record)
        signals[record.name] = signal
    train_config = replace(rec.BEAT_TRAIN_CONFIG, epochs=args.epochs)
    scores, folds = cross_validate(records, signals, args.folds, train_config, args.max_beats, args.seed,
                                   args.crossfit)

    per_record, tp, fp, fn = [], 0, 0, 0
    for r in records:
        use = r.is_normal | r.is_abnormal
        a, b, c = detection(r)
        tp, fp, fn = tp + a, fp + b, fn + c
        per_record.append({"record": r.name, "beats": int(r.reference.size), "se": a / max(a + c, 1),
                           "ppv": a / max(a + b, 1),
                           "ours": contrasts(r.symbols[use], scores[OURS][r.name][use]),
                           "baseline": contrasts(r.symbols[use],
                                                 scores["baseline: template distance + RR"][r.name][use])})
    pooled = {}
    for m in METHODS:
        sym = np.concatenate([r.symbols[r.is_normal | r.is_abnormal] for r in records])
        s = np.concatenate([scores[m][r.name][r.is_normal | r.is_abnormal] for r in records])
        pooled[m] = contrasts(sym, s)
        print(f"{m:45s} " + "  ".join(f"{k} {_f(pooled[m][k])}" for k in CONTRASTS), flush=True)

    truth = {r.name: rec.aami_classes(r.symbols) for r in records}
    classes = {v: {"pooled": class_figures(np.concatenate([truth[r.name] for r in records]),
                                           np.concatenate([scores[f"classes: {v}"][r.name] for r in records])),
                   "per_record": {r.name: class_figures(truth[r.name], scores[f"classes: {v}"][r.name])
                                  for r in records}}
               for v in CLASS_VARIANTS}
    for v, c in classes.items():
        print(f"classes, {v}: " + "  ".join(f"{k} {_pct(c['pooled'][k]['se'])}/{_pct(c['pooled'][k]['ppv'])}"
                                             for k in rec.CLASSES), flush=True)

    result = {
        "classes": classes,
        "command": quality._command(),
        "machine": f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"torch threads {torch.get_num_threads()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "records": [r.name for r in records], "folds": args.folds,
        "autoencoder": f"hybrid {rec.BEAT_CONFIG}, {args.epochs} epochs, up to {args.max_beats} normal beats per "
                       f"record; the training records' autoencoder features cross-fitted {args.crossfit}-fold",
        "detection": {"tp": tp, "fp": fp, "fn": fn, "se": tp / max(tp + fn, 1), "ppv": tp / max(tp + fp, 1)},
        "pooled": pooled, "per_record": per_record, "at_threshold": at_threshold(records, scores, folds),
        "fold_info": folds,
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ["ECGAD_DATA_DIR"]) / "mitdb"
                        if os.environ.get("ECGAD_DATA_DIR") else None, help="folder of annotated WFDB records")
    parser.add_argument("--records", nargs="+", help="records to use (default: every annotated record)")
    parser.add_argument("--folds", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=rec.BEAT_TRAIN_CONFIG.epochs)
    parser.add_argument("--max-beats", type=int, default=400, help="normal beats per record for the autoencoder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crossfit", type=int, default=2,
                        help="autoencoders per fold for out-of-sample training features "
                             "(see recording.training_tables)")
    parser.add_argument("--model", type=Path, help="recording model to time (default: the shipped one)")
    parser.add_argument("--speed-record", default="208", help="the 30-minute record to time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-threads", type=int, default=2, help="OMP_NUM_THREADS of the timed runs")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--speed-only", action="store_true",
                        help="time only; keep the cross-validation figures of the last run (--json)")
    parser.add_argument("--no-day", action="store_true", help="skip the synthetic 24-hour recording")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "recordings.json")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    paths = rec.find_records(args.data, args.records)
    if args.speed_only:
        result = json.loads(args.json.read_text())
    else:
        result = cross_validation_result(args, paths)
    try:
        shipped = rec.load_recording_detector(args.model)
        result["shipped_weights"] = dict(zip(shipped.combination.features, shipped.combination.weights.tolist(),
                                             strict=True))
        result["shipped_id"] = shipped.meta.get("model_id")
    except (OSError, ValueError):
        pass
    if not args.no_speed:
        threads = args.speed_threads
        name = f"MIT-BIH {args.speed_record}, 30 min, 2 leads, 360 Hz"
        runs = {name: speed(args.data / args.speed_record, args.model, args.repeats, threads)}
        runs[name]["cli_seconds"] = cli_seconds(args.data / args.speed_record, args.model, threads)
        if not args.no_day:
            with tempfile.TemporaryDirectory() as tmp:
                day = synthetic_day(paths, Path(tmp))
                runs["synthetic 24 h (DS1 records in a row), 2 leads, 360 Hz"] = speed(day, args.model, 1, threads)
        load = os.getloadavg()
        result["speed"] = {"threads": threads, "runs": runs, "command": quality._command(),
                           "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "note": f"Load average when timed: {load[0]:.1f} (other jobs were running on this "
                                   f"machine; times are upper bounds)." if load[0] > 1.5 else ""}
        for name, r in runs.items():
            print(f"{name}: {r['seconds']:.2f} s, {r['beats']} beats, peak RSS {r['maxrss_mb']:.0f} MB", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float))
    quality.replace_section(args.out, section(result))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
