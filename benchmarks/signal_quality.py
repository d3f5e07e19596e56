"""Signal quality: choose the thresholds of ``ecgad.data.quality`` on half the data, check them on the other.

    python benchmarks/signal_quality.py --data ../shared/data/mitdb [--no-write]

Data (all built here; the MIT-BIH Noise Stress Test DB is not used):

- the MIT-BIH DS1 records in the folder (lead MLII), whole and clean;
- a 5-minute excerpt of each with its middle 2 minutes corrupted by one of three
  artefacts at a signal-to-noise ratio of 24, 18, 12, 6, 0 or -6 dB (signal: the
  median QRS peak-to-peak amplitude squared over 8, as in the Noise Stress Test
  DB): ``muscle`` (white noise band-passed 5-100 Hz), ``motion`` (electrode-motion
  like: 1/f noise band-passed 0.5-15 Hz in bursts of 1-6 s, with baseline steps)
  and ``wander`` (baseline wander: sinusoids 0.05-0.6 Hz);
- non-ECG signals, 5 minutes at 250, 360 or 500 Hz: sine (0.5-20 Hz), square,
  sawtooth, white, pink and brown (random walk) noise, EEG-like (1/f noise with
  alpha bursts), flat line; and, in the checking half only, every channel of the
  test files shipped with pyedflib (sine, square, ramp, pulse, noise; an EEG channel).

Truth per 5-second window: an ECG window is readable when the R peaks detected
there match the ``.atr`` beats (150 ms) with sensitivity and positive
predictivity both >= 90 % (so a window in a ventricular flutter episode, with no
beats, is unreadable); every non-ECG window is unreadable. Sensitivity = share of
unreadable windows marked unreadable; specificity = share of readable windows
kept.

Records are split by name, alternately in sorted order, into a choosing half and a
checking half (non-ECG signals: by seed). The thresholds (minimum beat
correlation, minimum kurtosis, QRS-band power range) are chosen on the choosing
half by a grid search maximising balanced accuracy with the specificity on clean
records held at 99.5 % or more; the figures are for the checking half. Per
recording: a non-ECG signal should be refused or warned ``not_ecg``; a clean
record should get no warning. Also, per clean record, the detected beats the check
leaves out and the R-peak Se / PPV with and without them. Writes
results/signal_quality.json and the
``signal_quality`` section of RESULTS.md.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality as bench_tools  # noqa: E402  (replace_section, _command)

from ecgad.data.annotations import BEAT_SYMBOLS, match_peaks, read_annotations  # noqa: E402
from ecgad.data.quality import THRESHOLDS, Quality, Thresholds, judge, window_features  # noqa: E402
from ecgad.data.readers import read_recording  # noqa: E402
from ecgad.data.rpeaks import detect_r_peaks_chunked  # noqa: E402

START, END = "<!-- signal_quality:start -->", "<!-- signal_quality:end -->"
SNRS = (24, 18, 12, 6, 0, -6)
ARTEFACTS = ("muscle", "motion", "wander")
EXCERPT_S, CORRUPT = 300.0, (90.0, 210.0)
NON_ECG = ("sine", "square", "sawtooth", "white", "pink", "brown", "eeg", "flat")
TOLERANCE_S = 0.15


# ------------------------------------------------------------------ data


def _band(x: np.ndarray, fs: float, lo: float, hi: float) -> np.ndarray:
    return sosfiltfilt(butter(2, [lo, min(hi, 0.45 * fs)], btype="bandpass", fs=fs, output="sos"), x)


def _pink(n: int, rng: np.random.Generator, exponent: float = 1.0) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    return (x - x.mean()) / x.std()


def artefact(kind: str, n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance artefact of ``n`` samples."""
    if kind == "muscle":
        x = _band(rng.standard_normal(n), fs, 5.0, 100.0)
    elif kind == "motion":
        x = _band(_pink(n, rng), fs, 0.5, 15.0)
        envelope = np.full(n, 0.15)
        t = 0
        while t < n:  # bursts of 1-6 s with gaps of 0-3 s
            length = int(rng.uniform(1, 6) * fs)
            envelope[t:t + length] = rng.uniform(0.5, 1.5)
            t += length + int(rng.uniform(0, 3) * fs)
        x = x * envelope
        steps = np.cumsum(np.where(rng.random(n) < 0.3 / fs, rng.normal(0, 2.0, n), 0.0))
        x = x + _band(steps, fs, 0.5, 15.0)
    elif kind == "wander":
        t = np.arange(n) / fs
        x = sum(rng.uniform(0.5, 1) * np.sin(2 * np.pi * rng.uniform(0.05, 0.6) * t + rng.uniform(0, 6.3))
                for _ in range(4))
    else:
        raise ValueError(kind)
    return (x - x.mean()) / x.std()


def non_ecg(kind: str, fs: float, rng: np.random.Generator, seconds: float = EXCERPT_S) -> np.ndarray:
    n = int(seconds * fs)
    t = np.arange(n) / fs
    if kind == "sine":
        return np.sin(2 * np.pi * rng.uniform(0.5, 20) * t)
    if kind == "square":
        return np.sign(np.sin(2 * np.pi * rng.uniform(0.2, 5) * t))
    if kind == "sawtooth":
        f = rng.uniform(0.5, 3)
        return 2 * ((t * f) % 1) - 1
    if kind == "white":
        return rng.standard_normal(n) * 0.3
    if kind == "pink":
        return _pink(n, rng) * 0.3
    if kind == "brown":
        return np.cumsum(rng.standard_normal(n)) * 0.01
    if kind == "eeg":
        alpha = np.sin(2 * np.pi * rng.uniform(8, 12) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.1 * t))
        return 0.05 * (_pink(n, rng) + alpha)
    if kind == "flat":
        return np.full(n, rng.normal()) + rng.normal(0, 0.002, n)
    raise ValueError(kind)


def pyedflib_signals() -> list[tuple[str, np.ndarray, float]]:
    """Every channel of the test files shipped with pyedflib (empty when it has none)."""
    try:
        import pyedflib
    except ImportError:
        return []
    folder = Path(pyedflib.__file__).parent / "tests" / "data"
    out = []
    for name in ("test_generator.edf", "test_generator.bdf", "test_subsecond.edf"):
        if not (folder / name).is_file():
            continue
        with pyedflib.EdfReader(str(folder / name)) as f:
            for i, label in enumerate(f.getSignalLabels()):
                fs = f.getSampleFrequency(i)
                if fs >= 100:
                    out.append((f"{name}:{label}", f.readSignal(i), fs))
    return out


# ------------------------------------------------------------------ truth and features


def _matched(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Which of ``a`` have one of ``b`` within ``tol`` samples."""
    if b.size == 0:
        return np.zeros(a.size, bool)
    j = np.clip(np.searchsorted(b, a), 1, b.size) if b.size > 1 else np.zeros(a.size, int)
    near = np.minimum(np.abs(a - b[np.clip(j - 1, 0, b.size - 1)]), np.abs(a - b[np.clip(j, 0, b.size - 1)]))
    return near <= tol


def truth(bounds: np.ndarray, peaks: np.ndarray, reference: np.ndarray | None, fs: float) -> np.ndarray:
    """Readable (True) per window: detections match the reference with Se and PPV >= 90 %."""
    count = bounds.size - 1
    if reference is None:
        return np.zeros(count, bool)
    tol = TOLERANCE_S * fs
    ref_ok, det_ok = _matched(reference, peaks, tol), _matched(peaks, reference, tol)
    ref_w = np.searchsorted(bounds, reference, side="right") - 1
    det_w = np.searchsorted(bounds, peaks, side="right") - 1
    n_ref = np.bincount(ref_w, minlength=count)[:count]
    tp_ref = np.bincount(ref_w, weights=ref_ok, minlength=count)[:count]
    n_det = np.bincount(det_w, minlength=count)[:count]
    tp_det = np.bincount(det_w, weights=det_ok, minlength=count)[:count]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (n_ref > 0) & (tp_ref / n_ref >= 0.9) & (n_det > 0) & (tp_det / np.maximum(n_det, 1) >= 0.9)


def case(group: str, name: str, half: str, x: np.ndarray, fs: float, reference: np.ndarray | None) -> dict:
    x = np.asarray(x, dtype=np.float32)
    peaks = detect_r_peaks_chunked(x, fs)
    with np.errstate(all="ignore"):
        bounds, features = window_features(x, fs, peaks)
    out = {"group": group, "name": name, "half": half, "fs": fs, "bounds": bounds, "features": features,
           "readable": truth(bounds, peaks, reference, fs)}
    if group == "clean":
        out.update(peaks=peaks, reference=reference)
    return out


def build(data: Path, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    records = sorted(p.with_suffix("") for p in data.glob("*.atr"))
    cases = []
    for i, record in enumerate(records):
        half = "choose" if i % 2 == 0 else "check"
        signal = read_recording(record)
        fs, x = signal.fs, signal.samples.astype(np.float64)
        ann, sym = read_annotations(record)
        reference = ann[np.isin(sym, list(BEAT_SYMBOLS))]
        cases.append(case("clean", record.name, half, x, fs, reference))
        qrs = _band(x, fs, 5, 30)
        power = np.median([np.ptp(qrs[int(r) - int(0.05 * fs):int(r) + int(0.05 * fs)])
                           for r in reference[(reference > fs) & (reference < x.size - fs)][::10]]) ** 2 / 8
        n = int(EXCERPT_S * fs)
        for kind in ARTEFACTS:
            for snr in SNRS:
                start = int(rng.integers(0, x.size - n))
                piece = x[start:start + n].copy()
                a, b = int(CORRUPT[0] * fs), int(CORRUPT[1] * fs)
                piece[a:b] += artefact(kind, b - a, fs, rng) * np.sqrt(power / 10 ** (snr / 10))
                ref = reference[(reference >= start) & (reference < start + n)] - start
                cases.append(case(f"{kind}", f"{record.name}@{snr}dB", half, piece, fs, ref))
        print(f"{record.name} ({half})", flush=True)
    for k in range(4):  # four of each non-ECG kind per half, by seed
        for kind in NON_ECG:
            for half in ("choose", "check"):
                r = np.random.default_rng(1000 + 2 * k + (half == "check"))
                fs = float(r.choice([250.0, 360.0, 500.0]))
                cases.append(case("non-ECG", f"{kind}#{k}", half, non_ecg(kind, fs, r), fs, None))
    for name, x, fs in pyedflib_signals():
        cases.append(case("pyedflib", name, "check", x, fs, None))
    return cases


# ------------------------------------------------------------------ choosing and scoring


def verdicts(cases: list[dict], t: Thresholds) -> list[Quality]:
    return [Quality(c["fs"], c["bounds"], judge(c["features"], t), t) for c in cases]


def window_rates(cases: list[dict], qualities: list[Quality]) -> dict:
    truth_ = np.concatenate([c["readable"] for c in cases])
    said = np.concatenate([q.readable for q in qualities])
    unreadable = ~truth_
    return {"windows": int(truth_.size), "unreadable_windows": int(unreadable.sum()),
            "sensitivity": float((~said[unreadable]).mean()) if unreadable.any() else None,
            "specificity": float(said[truth_].mean()) if truth_.any() else None}


def choose(cases: list[dict]) -> Thresholds:
    clean = [c for c in cases if c["group"] == "clean"]
    grid = itertools.product(np.arange(0.3, 0.91, 0.05), np.arange(2.0, 6.01, 0.25), np.arange(0.1, 0.51, 0.05))
    best, best_score = THRESHOLDS, -1.0
    for corr, kurt, psqi in grid:
        t = replace(THRESHOLDS, min_correlation=round(float(corr), 2), min_kurtosis=round(float(kurt), 2),
                    min_psqi=round(float(psqi), 2))
        if window_rates(clean, verdicts(clean, t))["specificity"] < 0.995:
            continue
        r = window_rates(cases, verdicts(cases, t))
        score = (r["sensitivity"] + r["specificity"]) / 2
        if score > best_score:
            best, best_score = t, score
    return best


def per_recording(cases: list[dict], qualities: list[Quality]) -> dict:
    out = {}
    for group in ("clean", "non-ECG", "pyedflib", *ARTEFACTS):
        rows = [(c, q) for c, q in zip(cases, qualities, strict=True) if c["group"] == group]
        if not rows:
            continue
        flagged = [q.refusal() is not None or bool(q.warnings()) for _, q in rows]
        not_ecg = [q.refusal() is not None or any(w["code"] == "not_ecg" for w in q.warnings()) for _, q in rows]
        missed = [c["name"] for (c, _), caught in zip(rows, not_ecg, strict=True) if not caught]
        out[group] = {"recordings": len(rows), "flagged": int(sum(flagged)), "refused_or_not_ecg": int(sum(not_ecg)),
                      **({"missed": missed} if group in ("non-ECG", "pyedflib") else {}),
                      **({"flagged_names": [c["name"] for (c, _), f in zip(rows, flagged, strict=True) if f]}
                         if group == "clean" else {}),
                      "refused": int(sum(q.refusal() is not None for _, q in rows)),
                      "readable_fraction_min": round(min(q.readable_fraction for _, q in rows), 4),
                      "readable_fraction_mean": round(float(np.mean([q.readable_fraction for _, q in rows])), 4)}
    return out


def low_quality_rates(cases: list[dict], qualities: list[Quality]) -> dict:
    """ECG recordings: warned or refused (said) against a true readable share below ``low_quality_below``."""
    truth_low, said = [], []
    for c, q in zip(cases, qualities, strict=True):
        if c["group"] in ("clean", *ARTEFACTS):
            share = float(np.diff(c["bounds"])[c["readable"]].sum() / c["bounds"][-1])
            truth_low.append(share < q.thresholds.low_quality_below)
            said.append(q.refusal() is not None or bool(q.warnings()))
    truth_low, said = np.array(truth_low), np.array(said)
    return {"recordings": int(truth_low.size), "low_quality": int(truth_low.sum()),
            "sensitivity": float(said[truth_low].mean()) if truth_low.any() else None,
            "specificity": float((~said[~truth_low]).mean()) if (~truth_low).any() else None}


def clean_beats(cases: list[dict], t: Thresholds) -> list[dict]:
    """Per clean DS1 record (both halves): readable share, detected beats left out, and R-peak Se / PPV
    against every annotated beat with all detections and with the kept ones only."""
    rows = []
    for c in cases:
        if c["group"] != "clean":
            continue
        q = Quality(c["fs"], c["bounds"], judge(c["features"], t), t)
        keep = q.readable_beats(c["peaks"])
        row = {"record": c["name"], "half": c["half"], "readable_fraction": round(q.readable_fraction, 4),
               "beats": int(c["peaks"].size), "left_out": int((~keep).sum()), "unreadable": q.segments()}
        for name, found in (("all", c["peaks"]), ("kept", c["peaks"][keep])):
            tp, fp, fn = match_peaks(found, c["reference"], c["fs"], TOLERANCE_S)
            row[name] = {"tp": tp, "fp": fp, "fn": fn}
        rows.append(row)
    return rows


def _se_ppv(rows: list[dict], key: str) -> tuple[float, float]:
    tp, fp, fn = (sum(r[key][k] for r in rows) for k in ("tp", "fp", "fn"))
    return 100 * tp / max(tp + fn, 1), 100 * tp / max(tp + fp, 1)


def by_group(cases: list[dict], qualities: list[Quality]) -> dict:
    out = {}
    for group in ("clean", *ARTEFACTS, "non-ECG", "pyedflib"):
        idx = [i for i, c in enumerate(cases) if c["group"] == group]
        if idx:
            out[group] = window_rates([cases[i] for i in idx], [qualities[i] for i in idx])
    for snr in SNRS:
        idx = [i for i, c in enumerate(cases) if c["group"] in ARTEFACTS and c["name"].endswith(f"@{snr}dB")]
        out[f"artefacts {snr} dB"] = window_rates([cases[i] for i in idx], [qualities[i] for i in idx])
    return out


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def section(result: dict) -> str:
    t = result["thresholds"]
    lines = [START, "## Signal quality: readable ECG or not (MIT-BIH DS1 with artefacts, non-ECG signals)", "",
             f"Command: `{result['command']}`  ", f"Machine: {result['machine']}  ", f"Date: {result['date']}", "",
             "5-second windows. Truth: an ECG window is readable when its detected R peaks match the `.atr` beats "
             "with Se and PPV >= 90 %; non-ECG windows are unreadable. Thresholds chosen on the choosing half "
             f"({', '.join(result['choose_records'])} and non-ECG seeds) with clean-record specificity >= 99.5 %: "
             f"min beat correlation {t['min_correlation']}, min kurtosis {t['min_kurtosis']}, min QRS-band power share "
             f"{t['min_psqi']}, heart rate {t['hr_range'][0]:g}-{t['hr_range'][1]:g} bpm, "
             f"flat below {t['flat_mv']} mV, saturated above {100 * t['clipped_share']:.0f} % of samples at the rails. "
             f"Checking half: {', '.join(result['check_records'])}, other non-ECG seeds, and the pyedflib test files.",
             "", "### Per window, checking half", "", "| data | windows | unreadable (truth) | Se % | Sp % |",
             "|---|---|---|---|---|"]
    for name, r in result["check"]["windows"].items():
        lines.append(f"| {name} | {r['windows']} | {r['unreadable_windows']} | {_pct(r['sensitivity'])} | "
                     f"{_pct(r['specificity'])} |")
    lines += ["", "### Per recording, checking half", "",
              "| data | recordings | warned or refused | refused or `not_ecg` | readable fraction min / mean |",
              "|---|---|---|---|---|"]
    for name, r in result["check"]["recordings"].items():
        lines.append(f"| {name} | {r['recordings']} | {r['flagged']} | {r['refused_or_not_ecg']} | "
                     f"{r['readable_fraction_min']:.3f} / {r['readable_fraction_mean']:.3f} |")
    lq = result["check"]["low_quality_warning"]
    missed = [n for g in ("non-ECG", "pyedflib") for n in result["check"]["recordings"].get(g, {}).get("missed", [])]
    lines += ["", f"- Missed non-ECG recordings (checking half): {', '.join(missed) or 'none'}.",
              f"- Warning on ECG recordings (clean and with artefacts; truth: less than "
              f"{100 * t['low_quality_below']:.0f} % of windows readable): {lq['low_quality']} of {lq['recordings']} "
              f"are low quality; Se {_pct(lq['sensitivity'])} %, Sp {_pct(lq['specificity'])} %."]
    rows = result["clean_records"]
    se_all, ppv_all = _se_ppv(rows, "all")
    se_kept, ppv_kept = _se_ppv(rows, "kept")
    lines += ["", "### Clean DS1 records: what the check leaves out (all 22, both halves)", "",
              "| record | readable % | beats detected | left out |", "|---|---|---|---|"]
    lines += [f"| {r['record']} | {100 * r['readable_fraction']:.1f} | {r['beats']} | {r['left_out']} |"
              for r in rows]
    lines += ["", f"R peaks against every annotated beat (VF episodes counted): all detections Se {se_all:.2f} %, "
              f"PPV {ppv_all:.2f} %; the beats `ecgad analyze` keeps: Se {se_kept:.2f} %, PPV {ppv_kept:.2f} % "
              f"({sum(r['left_out'] for r in rows)} of {sum(r['beats'] for r in rows)} detected beats left out)."]
    c, ch = result["check"]["windows"]["all"], result["choose"]["windows"]["all"]
    lines += ["", f"- All windows, checking half: Se {_pct(c['sensitivity'])} %, Sp {_pct(c['specificity'])} % "
              f"(choosing half: Se {_pct(ch['sensitivity'])} %, Sp {_pct(ch['specificity'])} %).",
              "- Per recording: a non-ECG signal counts as caught when refused or warned `not_ecg`; a clean DS1 "
              "record should get neither a warning nor a refusal (Sp = clean records with no warning).",
              f"- Runtime {result['seconds']:.0f} s.", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("ECGAD_DATA_DIR")
    parser.add_argument("--data", type=Path, default=Path(default) / "mitdb" if default else None)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    started = time.perf_counter()
    cases = build(args.data)
    halves = {h: [c for c in cases if c["half"] == h] for h in ("choose", "check")}
    chosen = choose(halves["choose"])
    print("chosen:", chosen, flush=True)
    result = {"command": bench_tools._command(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs",
              "thresholds": asdict(chosen), "shipped_thresholds": asdict(THRESHOLDS),
              "choose_records": sorted({c["name"] for c in halves["choose"] if c["group"] == "clean"}),
              "check_records": sorted({c["name"] for c in halves["check"] if c["group"] == "clean"})}
    for h, part in halves.items():
        q = verdicts(part, chosen)
        result[h] = {"windows": {"all": window_rates(part, q), **by_group(part, q)},
                     "recordings": per_recording(part, q), "low_quality_warning": low_quality_rates(part, q)}
    result["clean_records"] = clean_beats(cases, chosen)
    result["seconds"] = time.perf_counter() - started
    print(json.dumps({h: result[h] for h in ("choose", "check")}, indent=1))
    if asdict(chosen) != asdict(THRESHOLDS):
        print("NOTE: the chosen thresholds differ from ecgad.data.quality.THRESHOLDS", file=sys.stderr)
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "signal_quality.json").write_text(json.dumps(result, indent=1) + "\n")
        bench_tools.replace_section(HERE / "RESULTS.md", section(result))


if __name__ == "__main__":
    main()
