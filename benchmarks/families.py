"""Beat families on MIT-BIH DS1: which representation and threshold give the purest families.

    python benchmarks/families.py --data ../shared/data/mitdb [--json PATH] [--no-day]

Every annotated record in the folder (the 22 DS1 records), lead MLII, R peaks detected as
``ecgad analyze`` does, each beat labelled by its ``.atr`` beat within 150 ms and put in its
AAMI class (N = N L R e j, S = A a J S, V = V E, F, Q = / f Q; unmatched detections are left out
of the measures). Records in sorted order alternate between a *selection* half (0, 2, 4, ...)
and a *report* half: two beat autoencoders are trained (as ``fit_beat_model`` does), one on
each half's normal beats, and each record's latent codes come from the other half's model, so no
record's codes come from a model that saw it.

Representations (``ecgad.recording.families``): ``latent`` codes, raw z-normalised ``window``s,
``features`` (the detector's template features: template distance, QRS distance, QRS width,
against the patient's dominant beat), ``mix`` (window + latent codes) and ``window+rhythm``
(window + prematurity). Each is clustered by :func:`ecgad.recording.families.cluster` at each
threshold. Measures per record and pooled: purity (share of a family's labelled beats with its
majority class, weighted by size), families per record (all, and of at least ``MIN_COUNT``
beats), share of beats in families of at least ``MIN_COUNT`` beats, and abnormal beats kept
apart (S, V, F beats in a family whose majority is their own class).

Choice, on the selection half only: the fewest families (median per record) among the
settings with pooled purity >= 99 %, else the purest. It is then reported on the report half
and on all 22. Last, the time and memory of ``beat_families`` (defaults) on a synthetic 24-hour
lead (DS1 records in a row). Replaces the ``families`` section of RESULTS.md and writes
benchmarks/results/families.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402

from ecgad import recording as rec  # noqa: E402
from ecgad.data.annotations import NORMAL_SYMBOLS, SUPRAVENTRICULAR_SYMBOLS, VENTRICULAR_SYMBOLS  # noqa: E402
from ecgad.recording import families as fam  # noqa: E402
from ecgad.recording.autoencoder import embed_beats  # noqa: E402
from ecgad.recording.morphology import beat_items  # noqa: E402
from ecgad.recording.rhythm import rhythm_features  # noqa: E402

START, END = "<!-- families:start -->", "<!-- families:end -->"
AAMI = {**dict.fromkeys(NORMAL_SYMBOLS, "N"), **dict.fromkeys(SUPRAVENTRICULAR_SYMBOLS, "S"),
        **dict.fromkeys(VENTRICULAR_SYMBOLS, "V"), "F": "F", **dict.fromkeys("/fQ", "Q")}
KINDS = ("latent", "window", "features", "mix", "window+rhythm")
THRESHOLDS = (0.5, 0.7, 1.0)
MIN_COUNT = 10
TARGET = 0.99


def record_data(signal, record, autoencoder) -> dict:
    """What each representation is built from, per detected beat, and the beats' AAMI classes."""
    z = beat_items(signal.samples, 0, signal.fs, record.peaks).z
    codes = embed_beats(autoencoder, z)[0]
    table = rec.beat_table(signal.samples, signal.fs, None, peaks=record.peaks)
    features = np.column_stack([table.features[n] for n in ("template", "qrs", "qrs_width")])
    premature = rhythm_features(record.peaks, signal.fs)["premature"]
    classes = np.array([AAMI.get(s, "") for s in record.symbols])
    return {"z": z, "codes": codes, "features": features, "premature": premature, "classes": classes}


def rows(d: dict, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, usable)``: the clustered rows of the usable beats (a window; for ``features``, all three)."""
    usable = ~np.isnan(d["z"][:, 0])
    if kind == "features":
        usable &= ~np.isnan(d["features"]).any(axis=1)
        return d["features"][usable].astype(np.float32), usable
    return fam.representation(d["z"][usable], d["codes"][usable], kind, d["premature"][usable]), usable


def measures(labels: np.ndarray, classes: np.ndarray) -> dict:
    """Purity and sizes of one record's families (``classes``: '' for unlabelled beats)."""
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    known = classes != ""
    majority, apart = 0, 0
    for f in np.unique(labels[known]):
        values, n = np.unique(classes[known][labels[known] == f], return_counts=True)
        majority += int(n.max())
        apart += int(n.max()) if values[n.argmax()] != "N" else 0
    return {"labelled": int(known.sum()), "majority": majority, "abnormal": int((known & (classes != "N")).sum()),
            "abnormal_apart": apart, "families": int(counts.size), "families_min": int((counts >= MIN_COUNT).sum()),
            "beats": int(counts.sum()), "in_min": int(counts[counts >= MIN_COUNT].sum()),
            "one_family": int(np.unique(classes[known], return_counts=True)[1].max(initial=0))}


def pooled(per_record: dict, names: list[str]) -> dict:
    rs = [per_record[n] for n in names]
    s = {k: sum(r[k] for r in rs) for k in ("labelled", "majority", "abnormal", "abnormal_apart", "beats", "in_min",
                                             "one_family")}
    fams = [r["families"] for r in rs]
    big = [r["families_min"] for r in rs]
    return {"purity": s["majority"] / max(s["labelled"], 1),
            "one_family_purity": s["one_family"] / max(s["labelled"], 1),
            "families_median": float(np.median(fams)), "families_max": int(max(fams)),
            "families_min_median": float(np.median(big)), "families_min_max": int(max(big)),
            "share_in_min": s["in_min"] / max(s["beats"], 1),
            "abnormal_apart": s["abnormal_apart"] / max(s["abnormal"], 1),
            "abnormal": s["abnormal"], "labelled": s["labelled"],
            "below_target": sorted(n for n in names if per_record[n]["majority"] < TARGET * per_record[n]["labelled"])}


def choose(results: dict, names: list[str]) -> str:
    """The setting with the fewest families (median) among those at least TARGET pure on ``names``, else the purest."""
    p = {key: pooled(r, names) for key, r in results.items()}
    good = [k for k in p if p[k]["purity"] >= TARGET]
    if good:
        return min(good, key=lambda k: (p[k]["families_median"], -p[k]["purity"]))
    return max(p, key=lambda k: p[k]["purity"])


def day(loaded: list, hours: float = 24.0) -> dict:
    """Time and memory of ``beat_families`` (defaults) on DS1 records played one after the other for ``hours``."""
    fs = loaded[0][0].fs
    need, parts, peaks, have = int(hours * 3600 * fs), [], [], 0
    while have < need:
        for signal, record in loaded:
            parts.append(signal.samples)
            peaks.append(record.peaks + have)
            have += signal.samples.size
            if have >= need:
                break
    samples = np.concatenate(parts)[:need]
    peaks = np.concatenate(peaks)
    peaks = peaks[peaks < need - 1]
    tracemalloc.start()
    started = time.perf_counter()
    result = fam.beat_families(samples, fs, peaks)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    started = time.perf_counter()  # the part that is cutting the windows, as the detector does
    for a in range(0, peaks.size, 4096):
        beat_items(samples, 0, fs, peaks[a:a + 4096])
    cutting = time.perf_counter() - started
    return {"beats": int(peaks.size), "families": len(result), "seconds": seconds, "cutting_seconds": cutting,
            "tracemalloc_peak_mb": peak / 2**20, "representation": result.representation,
            "threshold": result.threshold, "load": os.getloadavg()[0]}


def _p(v: float, digits: int = 2) -> str:
    return f"{100 * v:.{digits}f}%"


def section(result: dict) -> str:
    chosen, sel, rep, names = result["chosen"], result["selection"], result["report"], result["records"]
    pooled_all = {k: pooled(r, names) for k, r in result["per_record"].items()}
    pooled_sel = {k: pooled(r, sel) for k, r in result["per_record"].items()}
    pooled_rep = {k: pooled(r, rep) for k, r in result["per_record"].items()}
    c_sel, c_rep, c_all = pooled_sel[chosen], pooled_rep[chosen], pooled_all[chosen]
    lines = [START, "## Beat families (Holter templates): MIT-BIH DS1", "",
             f"Command: `{result['command']}`  ", f"Machine: {result['machine']}  ", f"Date: {result['date']}  ",
             f"Records {' '.join(names)}, lead MLII, beats as `ecgad analyze` detects them, labelled by the `.atr` "
             "beat within 150 ms in AAMI classes (N, S, V, F, Q; unmatched detections left out). Selection half: "
             f"{' '.join(sel)}; report half: {' '.join(rep)}. Latent codes from an autoencoder trained on the other "
             f"half's normal beats ({result['autoencoder']}). Purity: share of a family's labelled beats in its "
             "majority class, weighted by size. \"Abnormal apart\": S, V and F beats in a family whose majority is "
             "their own class (what relabelling a family can fix). \"One family\": the purity of putting every beat "
             f"in one family (the majority class's share), for scale. Families ≥ {MIN_COUNT}: families of at least "
             f"{MIN_COUNT} beats.", "",
             "### Every setting on the selection half (the choice is made here)", "",
             f"| representation | threshold | purity | abnormal apart | families, median (max) | "
             f"families ≥ {MIN_COUNT}, median (max) | beats in families ≥ {MIN_COUNT} |",
             "|---|---|---|---|---|---|---|"]
    for key, p in pooled_sel.items():
        kind, t = key.rsplit("@", 1)
        mark = " **(chosen)**" if key == chosen else ""
        lines.append(f"| {kind}{mark} | {t} | {_p(p['purity'])} | {_p(p['abnormal_apart'], 1)} | "
                     f"{p['families_median']:.0f} ({p['families_max']}) | {p['families_min_median']:.0f} "
                     f"({p['families_min_max']}) | {_p(p['share_in_min'], 1)} |")
    kind, t = chosen.rsplit("@", 1)
    lines += ["", f"Chosen: **{kind}, threshold {t}** (the fewest families per record among the settings at least "
                  f"{100 * TARGET:.0f}% pure on the selection half; the purest if none is).", "",
              "| records | purity | one family | abnormal apart | families, median (max) | "
              f"families ≥ {MIN_COUNT}, median (max) | beats in families ≥ {MIN_COUNT} | below 99% |",
              "|---|---|---|---|---|---|---|---|"]
    for label, p in (("selection half", c_sel), ("report half (held out)", c_rep), ("all 22", c_all)):
        lines.append(f"| {label} | {_p(p['purity'])} | {_p(p['one_family_purity'])} | {_p(p['abnormal_apart'], 1)} "
                     f"({p['abnormal']} beats) | {p['families_median']:.0f} ({p['families_max']}) | "
                     f"{p['families_min_median']:.0f} ({p['families_min_max']}) | {_p(p['share_in_min'], 1)} | "
                     f"{', '.join(p['below_target']) or '–'} |")
    lines += ["", "The same settings on the report half (for comparison only; not used for the choice):", "",
              "| representation | threshold | purity | abnormal apart | families, median (max) | "
              f"beats in families ≥ {MIN_COUNT} |", "|---|---|---|---|---|---|"]
    for key, p in pooled_rep.items():
        k, th = key.rsplit("@", 1)
        lines.append(f"| {k} | {th} | {_p(p['purity'])} | {_p(p['abnormal_apart'], 1)} | "
                     f"{p['families_median']:.0f} ({p['families_max']}) | {_p(p['share_in_min'], 1)} |")
    lines += ["", f"### Per record ({kind}, threshold {t})", "",
              "| record | half | labelled beats with a window | N | S | V | F | purity | one family | families | "
              f"families ≥ {MIN_COUNT} | beats in families ≥ {MIN_COUNT} |", "|---" * 12 + "|"]
    for n in names:
        r = result["per_record"][chosen][n]
        cl = result["classes"][n]
        lines.append(f"| {n} | {'selection' if n in sel else 'report'} | {r['labelled']} | {cl.get('N', 0)} | "
                     f"{cl.get('S', 0)} | {cl.get('V', 0)} | {cl.get('F', 0)} | "
                     f"{_p(r['majority'] / max(r['labelled'], 1))} | "
                     f"{_p(r['one_family'] / max(r['labelled'], 1))} | {r['families']} | {r['families_min']} | "
                     f"{_p(r['in_min'] / max(r['beats'], 1), 1)} |")
    if result.get("day"):
        d = result["day"]
        lines += ["", f"Speed: `beat_families` (defaults: {d['representation']}, threshold {d['threshold']}) on a "
                      f"synthetic 24-hour lead (DS1 records in a row, 360 Hz, {d['beats']} beats, R peaks given): "
                      f"{d['seconds']:.1f} s, of which {d['cutting_seconds']:.1f} s cut every beat's window (as "
                      f"the detector does; timed apart), {d['families']} families, "
                      f"tracemalloc peak {d['tracemalloc_peak_mb']:.0f} MB (load average {d['load']:.1f} on "
                      f"{os.cpu_count()} cores"
                      f"{': other jobs were running, an upper bound' if d['load'] > 1.5 else ''})."]
    lines += [x for note in result["notes"] for x in ("", note)] + [END]
    return "\n".join(lines)


def notes(result: dict) -> list[str]:
    """What fell short, in words, from the figures."""
    names = result["records"]
    c = pooled(result["per_record"][result["chosen"]], names)
    out = []
    if c["purity"] < TARGET or c["families_median"] > 10:
        per = result["per_record"][result["chosen"]]
        most = sorted(names, key=lambda n: -per[n]["families"])[:2]
        out.append(f"Short of the aim (purity ≥ 99% with a handful of families per record): all {len(names)} records "
                   f"give {_p(c['purity'])} with a median of {c['families_median']:.0f} families (max "
                   f"{c['families_max']}); most of the count is small families of a few odd beats, the most in "
                   + " and ".join(f"{n} ({per[n]['families']}, {_p(per[n]['in_min'] / max(per[n]['beats'], 1), 0)} "
                                  f"of beats in families ≥ {MIN_COUNT})" for n in most)
                   + f"; {_p(c['share_in_min'], 1)} of all beats are in the median {c['families_min_median']:.0f} "
                   f"families of ≥ {MIN_COUNT} beats. The display shows the largest families and counts the rest as "
                   "\"other\" (`Families.display`), each keeping its own id for relabelling.")
    out.append("Morphology alone cannot tell a supraventricular beat (S, normal QRS shape) from a normal one: "
               "records with many S beats (and F, fusion, beats that sit between N and V shapes) set the impurity; "
               "adding prematurity to the window (`window+rhythm`) is what separates them.")
    return out


def _class_counts(d: dict) -> dict[str, int]:
    """Labelled beats with a window (those the families are made of), per AAMI class."""
    c = d["classes"][~np.isnan(d["z"][:, 0]) & (d["classes"] != "")]
    return {k: int(v) for k, v in zip(*np.unique(c, return_counts=True), strict=True)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ["ECGAD_DATA_DIR"]) / "mitdb"
                        if os.environ.get("ECGAD_DATA_DIR") else None, help="folder of annotated WFDB records")
    parser.add_argument("--records", nargs="+", help="records to use (default: every annotated record)")
    parser.add_argument("--max-beats", type=int, default=400, help="normal beats per record for each autoencoder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-day", action="store_true", help="skip the synthetic 24-hour timing")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the RESULTS.md section from the last run's --json, computing nothing")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "families.json")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    if args.report_only:
        result = json.loads(args.json.read_text())
        result["notes"] = notes(result)
        quality.replace_section(args.out, section(result))
        print(f"wrote {args.out}")
        return
    paths = rec.find_records(args.data, args.records)
    loaded = [rec.read_annotated(p) for p in paths]
    names = [r.name for _, r in loaded]
    halves = [names[0::2], names[1::2]]
    models = [rec.fit_beat_model([x for x in loaded if x[1].name in h], max_beats_per_record=args.max_beats,
                                 seed=args.seed, progress=False) for h in halves]
    data = {}
    for signal, record in loaded:
        data[record.name] = record_data(signal, record, models[1 if record.name in halves[0] else 0])
        print(f"{record.name}: {record.peaks.size} beats", flush=True)

    per_record = {}
    for kind in KINDS:
        for t in THRESHOLDS:
            key = f"{kind}@{t}"
            per_record[key] = {}
            for n, d in data.items():
                x, usable = rows(d, kind)
                labels, _ = fam.cluster(x, t, seed=args.seed)
                per_record[key][n] = measures(labels, d["classes"][usable])
            p = pooled(per_record[key], names)
            print(f"{key:20s} purity {_p(p['purity'])} families median {p['families_median']:.0f} "
                  f"max {p['families_max']}", flush=True)
    result = {"command": quality._command(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "records": names, "selection": halves[0], "report": halves[1],
              "autoencoder": f"hybrid {rec.BEAT_CONFIG}, {rec.BEAT_TRAIN_CONFIG.epochs} epochs, up to "
                             f"{args.max_beats} normal beats per record",
              "classes": {n: _class_counts(d) for n, d in data.items()},
              "per_record": per_record, "chosen": choose(per_record, halves[0]),
              "default": f"{fam.DEFAULT_REPRESENTATION}@{fam.THRESHOLDS[fam.DEFAULT_REPRESENTATION]}"}
    if result["chosen"] != result["default"]:
        print(f"note: the benchmark chose {result['chosen']}, the module's default is {result['default']}")
    result["notes"] = notes(result)
    if not args.no_day:
        result["day"] = day(loaded)
        print(f"24 h: {result['day']['seconds']:.1f} s, {result['day']['beats']} beats", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float))
    quality.replace_section(args.out, section(result))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
