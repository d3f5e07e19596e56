"""R-peak detection on MIT-BIH against its beat annotations: ours, and neurokit2's for comparison.

    python benchmarks/rpeaks.py --data ../shared/data/mitdb [--records 101 208] [--no-neurokit]

Every record in the folder with a ``.atr`` file, lead MLII (the readers'
default). A detection matches a reference beat (symbols N L R B A a J S V r F e
j n E / f Q) no further than 150 ms away, each at most once. As in ANSI/AAMI
EC57, detections inside ventricular flutter/fibrillation episodes (``[`` to
``]``, where the annotators mark flutter waves, not beats) are not counted;
the pooled row "VF counted" shows the figures without that exclusion. Also
checks that chunked detection (60 s chunks, 2 s overlap) finds exactly the
whole-signal peaks. Prints the table and replaces the ``rpeaks`` section of
RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402

from ecgad.data.annotations import BEAT_SYMBOLS, match_peaks, read_annotations  # noqa: E402
from ecgad.data.readers import read_recording  # noqa: E402
from ecgad.data.rpeaks import detect_r_peaks, detect_r_peaks_chunked  # noqa: E402

START, END = "<!-- rpeaks:start -->", "<!-- rpeaks:end -->"
TOLERANCE_S = 0.150


def _neurokit(x: np.ndarray, fs: float) -> np.ndarray:
    import warnings

    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_peaks(nk.ecg_clean(x, sampling_rate=fs), sampling_rate=fs)
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def _vf_mask(n: int, samples: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """True inside ventricular flutter/fibrillation episodes ([ ... ])."""
    mask = np.zeros(n, dtype=bool)
    start = None
    for sample, symbol in zip(samples.tolist(), symbols.tolist(), strict=True):
        if symbol == "[":
            start = sample
        elif symbol == "]" and start is not None:
            mask[start:sample + 1] = True
            start = None
    if start is not None:
        mask[start:] = True
    return mask


def measure(record: Path, neurokit: bool) -> dict:
    signal = read_recording(record)
    samples, symbols = read_annotations(record)
    reference = samples[np.isin(symbols, list(BEAT_SYMBOLS))]
    vf = _vf_mask(len(signal), samples, symbols)
    row = {"record": record.name, "lead": signal.lead, "beats": int(reference.size),
           "duration_s": signal.duration_s}
    started = time.perf_counter()
    peaks = detect_r_peaks(signal.samples, signal.fs)
    row["seconds"] = time.perf_counter() - started
    row["chunked_same"] = bool(np.array_equal(peaks, detect_r_peaks_chunked(signal.samples, signal.fs)))
    detectors = {"ours": peaks}
    if neurokit:
        detectors["neurokit2"] = _neurokit(signal.samples, signal.fs)
    for name, found in detectors.items():
        row[name] = match_peaks(found[~vf[found]], reference, signal.fs, TOLERANCE_S)
        row[name + "_vf"] = match_peaks(found, reference, signal.fs, TOLERANCE_S)
    return row


def _rates(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return 100.0 * tp / max(tp + fn, 1), 100.0 * tp / max(tp + fp, 1)


def _pooled(rows: list[dict], key: str) -> tuple[int, int, int]:
    return tuple(int(sum(r[key][i] for r in rows)) for i in range(3))  # type: ignore[return-value]


def table(rows: list[dict], names: list[str]) -> list[str]:
    head = "| record | beats | " + " | ".join(f"{n} FP | {n} FN | {n} Se % | {n} PPV %" for n in names) + " |"
    lines = [head, "|" + "---|" * (2 + 4 * len(names))]
    for r in rows:
        cells = []
        for n in names:
            tp, fp, fn = r[n]
            se, ppv = _rates(tp, fp, fn)
            cells += [str(fp), str(fn), f"{se:.2f}", f"{ppv:.2f}"]
        lines.append(f"| {r['record']} | {r['beats']} | " + " | ".join(cells) + " |")
    for label, suffix in (("**pooled**", ""), ("pooled, VF counted", "_vf")):
        cells = []
        for n in names:
            tp, fp, fn = _pooled(rows, n + suffix)
            se, ppv = _rates(tp, fp, fn)
            cells += [str(fp), str(fn), f"**{se:.2f}**" if not suffix else f"{se:.2f}",
                      f"**{ppv:.2f}**" if not suffix else f"{ppv:.2f}"]
        lines.append(f"| {label} | {sum(r['beats'] for r in rows)} | " + " | ".join(cells) + " |")
    return lines


def section(rows: list[dict], names: list[str], command: str) -> str:
    worst = {n: min(rows, key=lambda r: min(_rates(*r[n]))) for n in names}
    seconds = sum(r["seconds"] for r in rows)
    minutes = sum(r["duration_s"] for r in rows) / 60
    lines = [
        START,
        "## R-peak detection (MIT-BIH DS1)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}  ",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"{len(rows)} records, lead MLII, reference: `.atr` beat annotations, tolerance "
        f"{TOLERANCE_S * 1000:.0f} ms; detections in ventricular flutter episodes not counted "
        "(EC57), except in the last row. Se = TP / (TP + FN), PPV = TP / (TP + FP). "
        "neurokit2: `ecg_peaks(ecg_clean(x))` with its defaults.",
        "",
        *table(rows, names),
        "",
    ]
    for n in names:
        r = worst[n]
        se, ppv = _rates(*r[n])
        lines.append(f"- {n}: worst record {r['record']} (Se {se:.2f} %, PPV {ppv:.2f} %)")
    lines += [
        f"- ours: {seconds:.1f} s for {minutes:.0f} minutes of signal "
        f"({seconds / len(rows):.2f} s per record on average)",
        f"- chunked (60 s chunks, 2 s overlap) = whole-signal peaks on "
        f"{sum(r['chunked_same'] for r in rows)} of {len(rows)} records",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("ECGAD_DATA_DIR")
    parser.add_argument("--data", type=Path, default=Path(default) / "mitdb" if default else None,
                        help="folder of WFDB records with .atr files (default: $ECGAD_DATA_DIR/mitdb)")
    parser.add_argument("--records", nargs="+", help="only these records")
    parser.add_argument("--no-neurokit", action="store_true", help="skip the neurokit2 comparison")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    if (args.data / "mitdb").is_dir():
        args.data = args.data / "mitdb"
    records = sorted(p.with_suffix("") for p in args.data.glob("*.atr"))
    if args.records:
        records = [r for r in records if r.name in set(args.records)]
    if not records:
        parser.error(f"no annotated WFDB records (.hea + .atr) in {args.data}")
    neurokit = not args.no_neurokit
    if neurokit:
        try:
            import neurokit2  # noqa: F401
        except ImportError:
            print("neurokit2 is not installed: measuring ours only", file=sys.stderr)
            neurokit = False
    names = ["ours", "neurokit2"] if neurokit else ["ours"]

    rows = []
    for record in records:
        row = measure(record, neurokit)
        rows.append(row)
        print(f"{row['record']:>6s}  {row['beats']:5d} beats  " + "  ".join(
            f"{n}: FP {row[n][1]:4d} FN {row[n][2]:4d} Se {_rates(*row[n])[0]:6.2f} PPV {_rates(*row[n])[1]:6.2f}"
            for n in names) + f"  ({row['seconds']:.2f} s{'' if row['chunked_same'] else ', CHUNKED DIFFERS'})",
            flush=True)
    for n in names:
        tp, fp, fn = _pooled(rows, n)
        se, ppv = _rates(tp, fp, fn)
        tpv, fpv, fnv = _pooled(rows, n + "_vf")
        sev, ppvv = _rates(tpv, fpv, fnv)
        print(f"pooled {n}: Se {se:.3f} % PPV {ppv:.3f} % (FP {fp}, FN {fn}); "
              f"VF counted: Se {sev:.3f} % PPV {ppvv:.3f} %")
    quality.replace_section(args.out, section(rows, names, quality._command()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
