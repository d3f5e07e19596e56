"""The Holter summary of a recording: heart rate, ectopic events, pauses, hour by hour.

    summary = holter_summary(sample, fs, classes, n_samples=len(signal), unreadable=quality.segments(),
                             start=signal.start)
    summary = holter_of(result, start=signal.start)        # the same, from a RecordingResult

A pure function of arrays (numpy only): the beats' R peaks (samples at ``fs``, readable beats
only, in time order), each beat's class (AAMI: N, S, V, F, Q; None when the model gives none),
the unreadable stretches (``[start, end, reason]`` samples, as ``Quality.segments`` gives them)
and the recording's start (a naive ``datetime``, None when unknown). The answer is JSON-ready.

Definitions (as Holter systems report them; said again in ``summary["definitions"]``):

- **RR interval**: between two consecutive beats, unless an unreadable stretch lies between them
  (then no interval: nothing is known of the beats there). Runs, couplets and bigeminy are not
  followed across such a stretch either.
- **Heart rate**: the mean rate is 60 / the mean RR. The minimum and maximum are of the
  **8-beat average** (60 / the mean of 8 consecutive RR intervals, none across an unreadable
  stretch), the time being that of the window's first beat; so one premature beat or one missed
  beat does not make the minimum or maximum. The trend is the mean rate of each minute.
- **Ventricular (V) and supraventricular (S) events**: consecutive beats of the class form a
  sequence; 1 beat is *isolated*, 2 a *couplet*, 3 or more a *run* (with its rate, 60 / the mean
  RR within it, and its duration, first to last R peak).
- **Bigeminy / trigeminy**: at least ``MIN_CYCLES`` (3) isolated V beats in a row, each one
  normal beat (bigeminy) or two normal beats (trigeminy) after the last; their V beats still
  count as isolated.
- **Pause**: an RR interval over ``PAUSE_S`` (2 s).
- **Hourly table**: the mean rate of the hour's intervals, the minimum and maximum of the
  8-beat averages that start in it; clock hours when the start is known (the first row from the start to the
  next full hour), else hours from the start of the recording.

Every event has ``sample`` (its first R peak), ``time_s`` (seconds from the start), ``clock``
(hh:mm:ss from the start), ``at`` (the date and time, when the start is known) and ``beat``
(its first beat's number, from 1, as the web's ``?beat=N`` takes it). Lists hold at most
``MAX_EVENTS`` events (the first ones) and say their ``count``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from ..report.clock import clock

CLASSES = ("N", "S", "V", "F", "Q")
PAUSE_S = 2.0
HR_BEATS = 8          # RR intervals in the average the minimum and maximum heart rate are taken of
MIN_CYCLES = 3        # ectopic beats in a row of a bigeminy or trigeminy episode
MAX_EVENTS = 200      # events listed per kind (all are counted)
TREND_S = 60.0        # the heart-rate trend: one mean rate a minute
DEFINITIONS = {
    "heart_rate": f"min and max: {HR_BEATS}-beat average (60 / mean of {HR_BEATS} consecutive RR intervals); "
                  f"mean: 60 / mean RR; no interval spans an unreadable stretch",
    "isolated": "one ectopic beat between beats of other classes",
    "couplet": "two ectopic beats in a row",
    "run": "three or more ectopic beats in a row; rate = 60 / mean RR within the run",
    "bigeminy": f"{MIN_CYCLES} or more isolated V beats in a row, each one normal beat after the last",
    "trigeminy": f"{MIN_CYCLES} or more isolated V beats in a row, each two normal beats after the last",
    "pause": f"an RR interval over {PAUSE_S:g} s",
}


class _Where:
    """Turns beat indices and samples into the fields every event has."""

    def __init__(self, sample: np.ndarray, fs: float, start: datetime | None):
        self.sample, self.fs, self.start = sample, fs, start

    def at_sample(self, s: int) -> dict:
        t = s / self.fs
        at = (self.start + timedelta(seconds=t)).isoformat(timespec="seconds") if self.start else None
        return {"sample": int(s), "time_s": round(t, 3), "clock": clock(t, 1), "at": at}

    def beat(self, i: int) -> dict:
        return {**self.at_sample(int(self.sample[i])), "beat": int(i) + 1}


def _listed(events: list[dict]) -> dict:
    return {"count": len(events), "events": events[:MAX_EVENTS]}


def _rr_valid(sample: np.ndarray, unreadable: Sequence) -> np.ndarray:
    """``valid[i]``: the interval from beat i to beat i+1 crosses no unreadable stretch."""
    n = max(sample.size - 1, 0)
    if not n or not len(unreadable):
        return np.ones(n, bool)
    ends = np.asarray([[int(a), int(b)] for a, b, *_ in unreadable], dtype=np.int64).reshape(-1, 2)
    # stretch [a, b) overlaps interval i = (s_i, s_i+1) when a < s_i+1 and b > s_i: i from the first
    # with s_i+1 > a to the last with s_i < b (a day has thousands of stretches: no loop over them)
    first = np.searchsorted(sample, ends[:, 0], side="right") - 1
    last = np.searchsorted(sample, ends[:, 1], side="left") - 1
    first, last = np.clip(first, 0, n), np.clip(last, -1, n - 1)
    keep = first <= last
    marks = np.zeros(n + 1, np.int64)
    np.add.at(marks, first[keep], 1)
    np.add.at(marks, last[keep] + 1, -1)
    return np.cumsum(marks)[:n] == 0


def _averaged_rr(rr: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``out[i]``: the mean of the ``HR_BEATS`` intervals from beat i on (NaN when one is not valid)."""
    n = HR_BEATS
    if rr.size < n:
        return np.zeros(0)
    ok = np.convolve(valid.astype(np.int64), np.ones(n, np.int64), "valid") == n
    mean_rr = np.convolve(np.where(valid, rr, 0.0), np.ones(n), "valid") / n
    return np.where(ok, mean_rr, np.nan)


def _hr_extremes(mean_rr: np.ndarray, where: _Where) -> tuple[dict | None, dict | None]:
    """The slowest and fastest ``HR_BEATS``-interval average, each with its first beat."""
    if not np.isfinite(mean_rr).any():
        return None, None
    slow, fast = int(np.nanargmax(mean_rr)), int(np.nanargmin(mean_rr))
    return ({"bpm": round(60.0 / mean_rr[slow], 1), **where.beat(slow)},
            {"bpm": round(60.0 / mean_rr[fast], 1), **where.beat(fast)})


def _sequences(classes: np.ndarray, valid: np.ndarray, kind: str) -> list[tuple[int, int]]:
    """``(first, last)`` beat indices of each maximal sequence of ``kind`` beats, broken at unreadable stretches."""
    hit = classes == kind
    if not hit.any():
        return []
    # a sequence continues from beat i to i+1 when both are of the kind and the interval is valid
    joined = hit[:-1] & hit[1:] & valid
    out, first = [], None
    for i in np.flatnonzero(hit):
        if first is None:
            first = i
        if i + 1 >= classes.size or not joined[i]:
            out.append((int(first), int(i)))
            first = None
    return out


def _ectopy(classes: np.ndarray, rr: np.ndarray, valid: np.ndarray, where: _Where, kind: str) -> dict:
    isolated, couplets, runs = [], [], []
    for a, b in _sequences(classes, valid, kind):
        n = b - a + 1
        if n == 1:
            isolated.append(where.beat(a))
        elif n == 2:
            couplets.append({**where.beat(a), "rr_s": round(float(rr[a]), 3)})
        else:
            inside = rr[a:b]
            runs.append({**where.beat(a), "beats": n, "rate_bpm": round(60.0 / float(inside.mean()), 1),
                         "duration_s": round(float(inside.sum()), 3)})
    out = {"beats": int((classes == kind).sum()), "isolated": _listed(isolated), "couplets": _listed(couplets),
           "runs": _listed(runs)}
    if runs:
        fastest = max(runs, key=lambda r: r["rate_bpm"])
        longest = max(runs, key=lambda r: r["beats"])
        out["fastest_run"], out["longest_run"] = fastest, longest
    return out


def _geminy(classes: np.ndarray, valid: np.ndarray, where: _Where, step: int) -> dict:
    """Episodes of isolated V beats ``step`` beats apart with N beats between (2: bigeminy, 3: trigeminy)."""
    singles = [a for a, b in _sequences(classes, valid, "V") if a == b]
    episodes, chain = [], []

    def close() -> None:
        if len(chain) >= MIN_CYCLES:
            episodes.append({**where.beat(chain[0]), "cycles": len(chain),
                             "duration_s": round((where.sample[chain[-1]] - where.sample[chain[0]]) / where.fs, 3),
                             "end_sample": int(where.sample[chain[-1]])})

    for v in singles:
        linked = (chain and v - chain[-1] == step and (classes[chain[-1] + 1:v] == "N").all()
                  and valid[chain[-1]:v].all())
        if not linked:
            close()
            chain = []
        chain.append(v)
    close()
    return _listed(episodes)


def _hourly(sample: np.ndarray, fs: float, classes: np.ndarray | None, rr: np.ndarray, valid: np.ndarray,
            mean_rr: np.ndarray, n_samples: int, start: datetime | None) -> list[dict]:
    """One row per hour: beats, heart rate (mean of the hour's RR intervals; min and max of the
    ``HR_BEATS``-beat averages starting in it), counts per class."""
    duration = n_samples / fs
    if start is not None:  # clock hours: the first row ends at the next full hour
        offset = start.minute * 60 + start.second + start.microsecond / 1e6
        edges = [0.0] + [h * 3600.0 - offset for h in range(1, int((duration + offset) // 3600) + 2)]
    else:
        edges = [h * 3600.0 for h in range(int(duration // 3600) + 2)]
    edges = sorted({min(max(e, 0.0), duration) for e in edges})
    t = sample / fs
    rr_end_t = t[1:]  # an interval belongs to the hour its second beat falls in
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        inside = (t >= lo) & (t < hi) if hi < duration else (t >= lo)
        in_rr = valid & (rr_end_t >= lo) & ((rr_end_t < hi) if hi < duration else True)
        first = inside[:mean_rr.size]
        averaged = mean_rr[first][np.isfinite(mean_rr[first])]
        hr = 60.0 / averaged if averaged.size else np.zeros(0)
        label_t = start + timedelta(seconds=lo) if start else None
        row = {"start_s": round(lo, 3), "end_s": round(hi, 3), "clock": clock(lo, 0),
               "hour": label_t.strftime("%H:%M") if label_t else clock(lo, 0)[:5],
               "at": label_t.isoformat(timespec="seconds") if label_t else None,
               "beats": int(inside.sum()),
               "hr_mean": round(60.0 / float(rr[in_rr].mean()), 1) if in_rr.any() else None,
               "hr_min": round(float(hr.min()), 1) if hr.size else None,
               "hr_max": round(float(hr.max()), 1) if hr.size else None}
        if classes is not None:
            row.update({k: int((classes[inside] == k).sum()) for k in CLASSES})
        rows.append(row)
    return rows


def _trend(sample: np.ndarray, fs: float, rr: np.ndarray, valid: np.ndarray, n_samples: int) -> dict:
    """The mean heart rate of each ``TREND_S`` seconds (None where no interval is known)."""
    bins = max(1, int(np.ceil(n_samples / fs / TREND_S)))
    k = np.minimum((sample[1:] / fs // TREND_S).astype(np.int64), bins - 1)[valid]
    total = np.bincount(k, weights=rr[valid], minlength=bins)
    count = np.bincount(k, minlength=bins)
    bpm = [round(60.0 * c / s, 1) if c else None for s, c in zip(total, count, strict=True)]
    return {"step_s": TREND_S, "bpm": bpm}


def holter_summary(sample, fs: float, classes=None, *, n_samples: int | None = None,
                   unreadable: Sequence = (), start: datetime | None = None) -> dict:
    """The Holter summary of beats at R peaks ``sample`` (see the module docstring).

    ``classes``: one of N, S, V, F, Q per beat, or None (then no class counts and no ectopic events);
    ``n_samples``: the recording's length (default: just past the last beat); ``unreadable``:
    ``[start, end, reason]`` stretches; ``start``: the recording's start, naive local time."""
    sample = np.asarray(sample, dtype=np.int64).reshape(-1)
    fs = float(fs)
    if sample.size > 1 and (np.diff(sample) <= 0).any():
        raise ValueError("holter_summary: R peaks must be in strictly increasing order")
    if classes is not None:
        classes = np.asarray(classes, dtype="<U1").reshape(-1)
        if classes.size != sample.size:
            raise ValueError(f"holter_summary: {classes.size} classes for {sample.size} beats")
        unknown = set(np.unique(classes).tolist()) - set(CLASSES)
        if unknown:
            raise ValueError(f"holter_summary: unknown classes {sorted(unknown)}; known: {', '.join(CLASSES)}")
    n_samples = int(n_samples) if n_samples is not None else (int(sample[-1]) + 1 if sample.size else 0)
    where = _Where(sample, fs, start)
    rr = np.diff(sample) / fs
    valid = _rr_valid(sample, unreadable)
    rr_ok = rr[valid]
    mean_rr = _averaged_rr(rr, valid)
    slowest, fastest = _hr_extremes(mean_rr, where)
    readable_s = n_samples / fs - sum(int(b) - int(a) for a, b, *_ in unreadable) / fs
    pauses = [{**where.beat(i), "rr_s": round(float(rr[i]), 3), "end_sample": int(sample[i + 1])}
              for i in np.flatnonzero(valid & (rr > PAUSE_S))]
    longest = None
    if rr_ok.size:
        i = int(np.flatnonzero(valid)[np.argmax(rr_ok)])
        longest = {**where.beat(i), "rr_s": round(float(rr[i]), 3), "end_sample": int(sample[i + 1])}
    out = {
        "start": start.isoformat(timespec="seconds") if start else None,
        "duration_s": round(n_samples / fs, 3),
        "analysed_s": round(max(readable_s, 0.0), 3),
        "beats": int(sample.size),
        "heart_rate": {"mean_bpm": round(60.0 / float(rr_ok.mean()), 1) if rr_ok.size else None,
                       "min": slowest, "max": fastest, "average_beats": HR_BEATS},
        "longest_rr": longest,
        "pauses": _listed(sorted(pauses, key=lambda p: p["sample"])),
        "classified": classes is not None,
        "classes": {k: int((classes == k).sum()) for k in CLASSES} if classes is not None else None,
        "ventricular": None, "supraventricular": None,
        "hourly": _hourly(sample, fs, classes, rr, valid, mean_rr, n_samples, start),
        "trend": _trend(sample, fs, rr, valid, n_samples) if n_samples else {"step_s": TREND_S, "bpm": []},
        "definitions": DEFINITIONS,
    }
    if classes is not None:
        out["ventricular"] = {**_ectopy(classes, rr, valid, where, "V"),
                              "bigeminy": _geminy(classes, valid, where, 2),
                              "trigeminy": _geminy(classes, valid, where, 3)}
        out["supraventricular"] = _ectopy(classes, rr, valid, where, "S")
    return out


def holter_of(result, start: datetime | None = None) -> dict:
    """:func:`holter_summary` of a ``RecordingResult`` (its classes when the model gives them)."""
    unreadable = result.quality.segments() if result.quality is not None else []
    return holter_summary(result.sample, result.fs, getattr(result, "classes", None),
                          n_samples=int(round(result.duration_s * result.fs)), unreadable=unreadable, start=start)
