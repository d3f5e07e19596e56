"""Beat classes (AAMI N, S, V, F, Q) on MIT-BIH DS1, record-wise cross-validation, from cached features.

    python benchmarks/classes.py --data ../shared/data/mitdb [--cache /tmp/ecgad-classes] [--epochs 40]

The quick way to choose the classifier's features and options (``benchmarks/recordings.py``
gives the same class figures inside its full run, with the anomaly figures). Per record,
cached under ``--cache``: R peaks, labels and the features the shipped model computes
(``beat_table`` without an autoencoder); then, for each of the 11 folds (record i in fold
i mod 11, as in recordings.py), a beat autoencoder trained on the other folds' records'
normal beats gives the held-out records' autoencoder features (latent distance,
reconstruction error, the latent code less the dominant beat's). So every record's
autoencoder features come from an autoencoder that never saw it; the training records'
too (recordings.py cross-fits them instead). Without the autoencoder features the figures
are those recordings.py gives. Each classifier variant is fitted on a fold's training
records and classifies its held-out records. No DS2 here: the choice was made on these
same folds, so the figures are optimistic.
Writes the ``classes`` section of RESULTS.md and benchmarks/results/classes.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402
from recordings import class_figures, classes_text, record_folds  # noqa: E402

from ecgad import recording as rec  # noqa: E402
from ecgad.recording.autoencoder import embed_beats, latent_distance, median_code  # noqa: E402
from ecgad.recording.morphology import beat_items, reference_span  # noqa: E402

START, END = "<!-- classes:start -->", "<!-- classes:end -->"
AE = ("latent", "autoencoder")
CODES = tuple(f"code{k}" for k in range(8))
VARIANTS = {
    "shipped features (no autoencoder)": (rec.CLASS_FEATURES, {}),
    "with the autoencoder's latent distance and reconstruction error": (rec.CLASS_FEATURES + AE, {}),
    "with the autoencoder's latent code (less the dominant beat's) too": (rec.CLASS_FEATURES + AE + CODES, {}),
    "shipped features, classes balanced (weight power 1)": (rec.CLASS_FEATURES, {"weight_power": 1.0}),
}


def base_tables(paths: list[Path], cache: Path) -> dict[str, dict]:
    out = {}
    for p in paths:
        f = cache / f"{p.name}.base.npz"
        if not f.exists():
            signal, r = rec.read_annotated(p)
            table = rec.beat_table(signal.samples, signal.fs, None, peaks=r.peaks)
            np.savez(f, fs=r.fs, peaks=r.peaks, symbols=np.asarray(r.symbols, dtype=str),
                     **{f"feature_{k}": v for k, v in table.features.items()})
        with np.load(f, allow_pickle=False) as z:  # arrays only: a cache file never runs code
            out[p.name] = {"fs": float(z["fs"]), "peaks": z["peaks"], "symbols": z["symbols"],
                           "features": {k[8:]: z[k] for k in z.files if k.startswith("feature_")}}
    return out


def autoencoder_features(paths: list[Path], cache: Path, folds: int, epochs: int) -> dict[str, dict]:
    """Each record's autoencoder features, from the fold's autoencoder that held it out."""
    names = [p.name for p in paths]
    todo = [(f, test) for f, (_, test) in enumerate(record_folds(names, folds))
            if not all((cache / f"{n}.ae.npz").exists() for n in test)]
    if todo:
        loaded = {p.name: rec.read_annotated(p) for p in paths}
        config = replace(rec.BEAT_TRAIN_CONFIG, epochs=epochs)
        s = rec.Settings()
        for f, test in todo:
            started = time.perf_counter()
            ae = rec.fit_beat_model([loaded[n] for n in names if n not in test], train_config=config, seed=f,
                                    progress=False)
            for n in test:
                signal, r = loaded[n]
                codes, errors = embed_beats(ae, beat_items(signal.samples, 0, signal.fs, r.peaks, s).z)
                rel, lat = np.full_like(codes, np.nan), np.full(len(codes), np.nan)
                for b in range(0, len(codes), s.block_beats):  # against earlier beats, as BlockFeatures does
                    a, e = reference_span(b // s.block_beats, s, len(codes))
                    m = median_code(codes[a:e])
                    if m is not None:
                        rel[b:b + s.block_beats] = codes[b:b + s.block_beats] - m
                        lat[b:b + s.block_beats] = latent_distance(codes[b:b + s.block_beats], m)
                np.savez(cache / f"{n}.ae.npz", rel=rel, errors=errors, latent=lat)
            print(f"fold {f}: autoencoder {time.perf_counter() - started:.0f} s", flush=True)
    out = {}
    for n in names:
        with np.load(cache / f"{n}.ae.npz", allow_pickle=False) as z:
            out[n] = {k: z[k] for k in z.files}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of annotated WFDB records (DS1)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ecgad-classes"))
    parser.add_argument("--folds", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=rec.BEAT_TRAIN_CONFIG.epochs)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "classes.json")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    paths = rec.find_records(args.data)
    names = [p.name for p in paths]
    base = base_tables(paths, args.cache)
    ae = autoencoder_features(paths, args.cache, args.folds, args.epochs)
    values, truth = {}, {}
    for n in names:
        b, a = base[n], ae[n]
        values[n] = {**b["features"], **rec.context_features(b["peaks"], b["fs"]), "latent": a["latent"],
                     "autoencoder": a["errors"], **{c: a["rel"][:, k] for k, c in enumerate(CODES)}}
        truth[n] = rec.aami_classes(b["symbols"])

    classes = {}
    for variant, (features, options) in VARIANTS.items():
        started = time.perf_counter()
        predicted = {}
        for train, test in record_folds(names, args.folds):
            x = {f: np.concatenate([values[n][f] for n in train]) for f in {*features, "template"}}
            clf = rec.BeatClassifier.fit(x, np.concatenate([truth[n] for n in train]), features,
                                         **{**rec.training.CLASS_OPTIONS, **options})
            for n in test:
                predicted[n] = clf.classify(values[n])[0]
        classes[variant] = {
            "pooled": class_figures(np.concatenate([truth[n] for n in names]),
                                    np.concatenate([predicted[n] for n in names])),
            "per_record": {n: class_figures(truth[n], predicted[n]) for n in names}}
        p = classes[variant]["pooled"]
        print(f"{variant}: " + "  ".join(f"{c} {p[c]['se']}/{p[c]['ppv']}" for c in "NSVF")
              + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    result = {"command": quality._command(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "records": names, "folds": args.folds, "epochs": args.epochs, "options": rec.training.CLASS_OPTIONS,
              "variants": {v: list(f) + [json.dumps(o)] for v, (f, o) in VARIANTS.items()}, "classes": classes}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float))
    lines = [START, "## Beat classes: MIT-BIH DS1, record-wise cross-validation (cached features)", "",
             f"Command: `{result['command']}`  ", f"Date: {result['date']}  ",
             f"{args.folds} folds by record over {len(names)} records, lead MLII; the autoencoder features of every "
             f"record from the fold's autoencoder (hybrid, {args.epochs} epochs) that never saw it "
             "(see the script's docstring). Features of each variant:", "",
             *[f"- {v}: {', '.join(f)}" + (f" ({o})" if o else "") for v, (f, o) in VARIANTS.items()],
             *classes_text(classes), END]
    quality.replace_section(args.out, "\n".join(lines))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
