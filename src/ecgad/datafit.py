"""Data fit: does a group of beats, as a whole, look like the data the model was trained on?

The anomaly score says how unlike a *normal* beat each beat is; it cannot tell a
beat of another kind the model knows (an abnormal beat of its own data set) from a
beat of another source altogether (another lead, another sampling or cutting of
the beats, not an ECG): both score high. The data-fit check asks the second question,
for a whole upload.

Each beat's *domain distance* is measured in the latent space of the model's
members, as the score's latent part is (``Detector`` docstring), but against every
beat the model knows of its training side: the training normals and the validation
part's abnormal beats (a validation abnormal beat is compared with the others, not
with itself). The validation beats' own domain distances give the *reach* of the
training data: their ``QUANTILE`` quantile, so that a beat from the training source
lies beyond it with probability ``1 - QUANTILE``, normal and abnormal beats alike.

An upload is unlike the training data when more than ``SHARE`` of its beats lie
beyond the reach *and* so many would happen by chance with probability below
``ALPHA`` (a binomial tail, for beats from the training source). The second rule
keeps small groups from warning by chance; below ``MIN_BEATS`` beats there is no
check at all. The constants were chosen by ``benchmarks/datafit.py`` on beats built
from the validation part, MIT-BIH windows and transformed or synthetic beats, never
on ECG5000's test beats (their figures: benchmarks/RESULTS.md, "Data-fit check").

What it cannot tell: why the beats differ (lead, filter, sampling, cutting, noise,
another patient, not an ECG), nor whether a single beat is odd (that is the score's
job); and an upload of only a rare kind of beat of the training source can look
unlike the training data as a whole.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

METHOD = "ecgad-datafit/1"  # a reader that does not know a model file's method gives no data-fit result
CODE = "unlike_training_data"
QUANTILE = 0.80   # the reach: this quantile of the validation beats' domain distances
SHARE = 0.5       # warn when more than this share of an upload's beats lie beyond the reach ...
ALPHA = 1e-3      # ... and beats of the training source would do so with probability below this
MIN_BEATS = 5     # fewer beats: no check (too few to judge a group)


@dataclass(frozen=True)
class DataFit:
    """What the check needs besides the reference codes: stored as JSON in the model file."""

    reach: float              # domain distance (log) beyond which a training-source beat lies with p = 1 - quantile
    quantile: float = QUANTILE
    share: float = SHARE
    alpha: float = ALPHA
    min_beats: int = MIN_BEATS
    n_calibration: int = 0    # validation beats the reach was measured on

    def to_json(self) -> dict:
        return {"method": METHOD, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict) -> DataFit | None:
        """None for a method this version does not know; ValueError for a malformed entry."""
        if not isinstance(data, dict) or data.get("method") != METHOD:
            return None
        fit = cls(reach=float(data["reach"]), quantile=float(data["quantile"]), share=float(data["share"]),
                  alpha=float(data["alpha"]), min_beats=int(data["min_beats"]),
                  n_calibration=int(data.get("n_calibration", 0)))
        if not (math.isfinite(fit.reach) and 0 < fit.quantile < 1 and 0 < fit.share < 1 and 0 < fit.alpha < 1
                and fit.min_beats >= 1):
            raise ValueError(f"data_fit entry out of range: {data}")
        return fit

    @classmethod
    def calibrate(cls, distances: np.ndarray, **settings) -> DataFit:
        """The reach from the validation beats' domain distances (log)."""
        distances = np.asarray(distances, dtype=np.float64)
        quantile = settings.get("quantile", QUANTILE)
        return cls(reach=float(np.quantile(distances, quantile)), n_calibration=int(distances.size), **settings)


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    i = np.arange(k, n + 1)
    log_terms = (math.lgamma(n + 1) - np.array([math.lgamma(j + 1) + math.lgamma(n - j + 1) for j in i])
                 + i * math.log(p) + (n - i) * math.log1p(-p))
    return float(min(1.0, np.exp(log_terms).sum()))


def assess(distances: np.ndarray, fit: DataFit) -> dict:
    """The check's figures for one upload: beats, beats beyond the reach, their share, the
    chance of so many for beats of the training source, and whether that is unlike it."""
    distances = np.asarray(distances, dtype=np.float64)
    n = int(distances.size)
    beyond = int(np.count_nonzero(distances > fit.reach))
    p = binomial_tail(n, beyond, 1.0 - fit.quantile)
    checked = n >= fit.min_beats
    return {"beats": n, "beyond": beyond, "share": beyond / n if n else 0.0, "p": p, "checked": checked,
            "unlike": bool(checked and beyond > fit.share * n and p < fit.alpha)}


def warnings(distances: np.ndarray, fit: DataFit) -> list[dict]:
    """``[{"code": "unlike_training_data", "message": ...}]`` when the beats as a group are unlike
    the training data, else ``[]`` (also for fewer than ``fit.min_beats`` beats)."""
    result = assess(distances, fit)
    if not result["unlike"]:
        return []
    message = (f"These beats do not look like the data the model was trained on: {result['beyond']} of "
               f"{result['beats']} lie outside the range where {round(100 * fit.quantile)}% of its own "
               f"validation beats fall. Its verdicts may not hold for them; check the lead, filtering and "
               f"beat cutting, or use a model trained on beats like these.")
    return [{"code": CODE, "message": message}]
