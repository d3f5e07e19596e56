"""Metrics, multi-seed evaluation on ECG5000 protocols or on one's own labelled beat files,
and the HTML report.

Anomaly (ECG5000 classes 2–5; in a labelled file, every label but the normal one) is the
positive class throughout. A beat is called anomalous when its score is above the
threshold, as in ``Verdict``.
"""
from __future__ import annotations

import dataclasses
import html
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .detector import Detector, Verdict, fit_split, load_detector
from .report import report_page
from .train_config import TrainConfig

METRICS = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "threshold")
EXAMPLE_QUANTILES = (0.5, 0.1, 0.9)  # the typical beat of a class first, then its easy and hard ends


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def metrics(scores: Sequence[float], is_anomaly: Sequence[bool], threshold: float) -> dict:
    """Ranking and thresholded metrics, anomaly = positive class.

    ``roc_auc`` and ``pr_auc`` (average precision) are ``None`` when the test
    holds only one class; precision, recall and F1 are 0 where undefined.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(is_anomaly, dtype=bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores {s.shape} and is_anomaly {y.shape} must be 1-D and equally long")
    if len(s) == 0:
        raise ValueError("no scores to evaluate")
    predicted = s > threshold
    tp = int(np.sum(predicted & y))
    fp = int(np.sum(predicted & ~y))
    fn = int(np.sum(~predicted & y))
    tn = int(np.sum(~predicted & ~y))
    both = 0 < y.sum() < len(y)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "roc_auc": float(roc_auc_score(y, s)) if both else None,
        "pr_auc": float(average_precision_score(y, s)) if both else None,
        "accuracy": _ratio(tp + tn, len(y)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "threshold": float(threshold),
        "n_test": int(len(y)),
    }


@dataclass
class SeedResult:
    """One detector evaluated on one split's test part."""

    seed: int
    scores: np.ndarray
    labels: np.ndarray              # labels of the test beats: ECG5000 classes, or a file's own names
    metrics: dict
    examples: dict[int | str, list[Verdict]]  # label -> a few verdicts, the label's median-score beat first
    model: dict                     # the detector's model_info()
    train_seconds: float | None = None
    normal: int | str = 1           # the normal label (ECG5000: class 1)

    @property
    def is_anomaly(self) -> np.ndarray:
        return self.labels != self.normal


@dataclass
class Evaluation:
    protocol: str
    seeds: tuple[int, ...]
    results: list[SeedResult]
    arch: str | None = None
    model_path: str | None = None   # set when a saved model was evaluated rather than trained per seed
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    notes: list[str] = field(default_factory=list)
    files: dict | None = None       # own beat files: {"train", "test", "normal_label", "test_labels"}; None for ECG5000


def _examples(detector: Detector, values: np.ndarray, labels: np.ndarray,
              scores: np.ndarray) -> dict[int | str, list[Verdict]]:
    chosen: dict[int | str, list[int]] = {}
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        ranked = idx[np.argsort(scores[idx], kind="stable")]
        picks = [int(ranked[min(int(q * len(ranked)), len(ranked) - 1)]) for q in EXAMPLE_QUANTILES]
        # keyed by int (ECG5000) or str (a file's own name); small classes may pick one beat twice
        chosen[label.item()] = list(dict.fromkeys(picks))
    flat = [i for picks in chosen.values() for i in picks]
    verdicts = iter(detector.predict(values[flat]))
    # predict() numbers beats within its batch; keep the test-set index instead.
    return {label: [dataclasses.replace(next(verdicts), index=i) for i in picks] for label, picks in chosen.items()}


def evaluate_detector(detector: Detector, split, train_seconds: float | None = None) -> SeedResult:
    """Score ``split.test`` with a fitted detector at its own threshold."""
    return evaluate_beats(detector, split.test.values, np.asarray(split.test.labels).astype(int), 1,
                          int(split.seed), train_seconds)


def evaluate_beats(detector: Detector, values: np.ndarray, labels: np.ndarray, normal: int | str, seed: int,
                   train_seconds: float | None = None) -> SeedResult:
    """Score labelled test beats with a fitted detector at its own threshold."""
    values = np.asarray(values)
    scores = detector.score(values)
    return SeedResult(seed=seed, scores=scores, labels=labels, normal=normal,
                      metrics=metrics(scores, labels != normal, detector.threshold),
                      examples=_examples(detector, values, labels, scores),
                      model=detector.model_info(), train_seconds=train_seconds)


def check_leakage(meta: dict, protocol: str, seeds: Sequence[int]) -> str | None:
    """Raise ValueError where a saved model's training beats lie in the test parts
    asked for. Returns a note where the model's origin cannot be checked."""
    trained_on = meta.get("protocol")
    if trained_on == "resplit":
        seed = meta.get("seed")
        if protocol != "resplit" or list(seeds) != [seed]:
            raise ValueError(
                f"leakage: this model was trained on the resplit protocol with seed {seed}; the test part of "
                f"{protocol} {'seed' if len(seeds) == 1 else 'seeds'} {' '.join(map(str, seeds))} holds beats "
                f"it was trained on. Evaluate it with --protocol resplit --seeds {seed} only")
    elif trained_on == "ucr":
        if protocol != "ucr":
            raise ValueError("leakage: this model was trained on the ucr protocol (the TRAIN file); the resplit "
                             "test parts hold TRAIN beats. Evaluate it with --protocol ucr only")
    else:
        return (f"the model was not trained under an ECG5000 protocol (protocol: {trained_on!r}); "
                "whether its training beats overlap the test part cannot be checked")
    return None


def run(data_dir: str | Path, protocol: str, seeds: Sequence[int] = (0,), model_path: str | Path | None = None,
        arch: str = "hybrid", train_config: TrainConfig | None = None, progress: bool = True) -> Evaluation:
    """Evaluate on ECG5000 under ``protocol`` for each seed.

    Without ``model_path`` a detector is trained per seed on that seed's split.
    With it, the saved model is evaluated on each seed's test part, after
    refusing (ValueError) any test part that holds its training beats.
    """
    from .data.ecg5000 import PROTOCOLS, split

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("no seeds given")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {' '.join(map(str, seeds))}")
    notes: list[str] = []
    detector = None
    if model_path is not None:
        detector = load_detector(model_path)  # ValueError for a missing or foreign file
        note = check_leakage(detector.meta, protocol, seeds)
        notes += [note] if note else []
        arch = detector.arch
    if model_path is not None and protocol == "ucr" and len(seeds) > 1:
        notes.append("under ucr every seed tests on the same TEST file, so a saved model scores the same on each")
    results = []
    for seed in tqdm(seeds, desc="seeds", unit="seed", disable=not progress or len(seeds) == 1, file=sys.stderr):
        part = split(data_dir, protocol, seed=seed)
        if model_path is not None:
            results.append(evaluate_detector(detector, part))
            continue
        started = time.perf_counter()
        trained = fit_split(part, arch=arch, train_config=train_config, progress=progress)
        results.append(evaluate_detector(trained, part, train_seconds=time.perf_counter() - started))
    return Evaluation(protocol=protocol, seeds=seeds, results=results, arch=arch,
                      model_path=str(model_path) if model_path is not None else None, notes=notes)


def run_file(train_file: str | Path, test_file: str | Path, normal_label: str, seeds: Sequence[int] = (0,),
             validation_fraction: float = 0.2, max_epochs: int | None = None, progress: bool = True) -> Evaluation:
    """Evaluate on one's own labelled beat files: per seed, a detector trained on
    ``train_file`` (split and model choice as ``ecgad.own_beats`` does) scores ``test_file``,
    which nothing trains or chooses on."""
    from . import own_beats

    seeds = tuple(int(s) for s in seeds)
    train = own_beats.read(train_file, normal_label)
    test = own_beats.read(test_file, normal_label, require_normal=False)
    seen = {row.tobytes() for row in train.values}
    shared = sum(row.tobytes() in seen for row in test.values)
    notes = [f"{shared} of {len(test.labels)} test beats also lie in the training file: the test figures "
             "are optimistic"] if shared else []
    results = []
    for seed in tqdm(seeds, desc="seeds", unit="seed", disable=not progress or len(seeds) == 1, file=sys.stderr):
        started = time.perf_counter()
        trained, _ = own_beats.fit(own_beats.split(train, validation_fraction, seed), seed=seed,
                                   max_epochs=max_epochs, progress=progress)
        results.append(evaluate_beats(trained, test.values, test.labels, train.normal, seed,
                                      train_seconds=time.perf_counter() - started))
    files = {"train": str(train_file), "test": str(test_file), "normal_label": train.normal,
             "test_labels": test.counts()}
    return Evaluation(protocol="file", seeds=seeds, results=results, arch="hybrid", notes=notes, files=files)


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (ddof=1; 0 for a single seed)."""
    if any(v is None for v in values):
        return None, None
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), (float(a.std(ddof=1)) if len(a) > 1 else 0.0)


def summary(evaluation: Evaluation) -> dict:
    """Means over seeds (``*_std``: sample standard deviation), plus each seed's figures."""
    out: dict = {}
    for name in METRICS:
        out[name], out[f"{name}_std"] = _mean_std([r.metrics[name] for r in evaluation.results])
    n_test = {r.metrics["n_test"] for r in evaluation.results}
    out["n_test"] = (n_test.pop() if len(n_test) == 1
                     else float(np.mean([r.metrics["n_test"] for r in evaluation.results])))
    out["protocol"] = evaluation.protocol
    out["seeds"] = list(evaluation.seeds)
    out["arch"] = evaluation.arch
    out["model_path"] = evaluation.model_path
    out["created"] = evaluation.created
    out["notes"] = list(evaluation.notes)
    if evaluation.files is not None:
        out["files"] = evaluation.files
    out["per_seed"] = [{"seed": r.seed, "model_id": r.model.get("model_id"), "train_seconds": r.train_seconds,
                        **r.metrics} for r in evaluation.results]
    return out


# ---------------------------------------------------------------------- report
_BODY = """<section><h2>Metrics (test part, anomaly = positive)</h2>
{table}
</section>
<section><h2>Ranking</h2><div class="figures">{roc}{pr}</div></section>
<section><h2>Score distribution by class</h2>{histogram}</section>
<section><h2>Example reconstructions</h2>
<p>Typical beat of each class (median score within the class). The shaded band is the difference between the
beat and its reconstruction.</p>
{examples}</section>"""


def _fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(evaluation: Evaluation, summ: dict) -> str:
    head = ["seed", "model", "ROC AUC", "PR AUC", "accuracy", "precision", "recall", "F1", "threshold",
            "TN", "FP", "FN", "TP", "train s"]
    rows = []
    for r in evaluation.results:
        m, c = r.metrics, r.metrics["confusion"]
        cells = [r.seed, r.model.get("model_id", "–"), m["roc_auc"], m["pr_auc"], m["accuracy"], m["precision"],
                 m["recall"], m["f1"], m["threshold"], c["tn"], c["fp"], c["fn"], c["tp"],
                 _fmt(r.train_seconds, 1)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in cells) + "</tr>")
    if len(evaluation.results) > 1:
        for label, suffix, css in (("mean", "", "mean"), ("std", "_std", "std")):
            cells = [label, ""] + [_fmt(summ[k + suffix]) for k in METRICS] + [""] * 5
            rows.append(f'<tr class="{css}">' + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f'<div class="table"><table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def write_report(evaluation: Evaluation, out_dir: str | Path) -> Path:
    """Write ``metrics.json`` (the summary) and ``report.html`` (one self-contained,
    offline page: plotly.js is embedded once). Returns the report's path."""
    from .report.figures import class_name, figure_html, pr_figure, reconstruction_examples, roc_figure, score_histogram

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summ = summary(evaluation)
    # A file's own labels are shown as it names them, its normal label first; ECG5000's classes by name.
    files = evaluation.files
    name = class_name if files is None else str
    normal = 1 if files is None else files["normal_label"]

    def order(item):
        return (item[0] != normal, str(item[0]))
    (out / "metrics.json").write_text(json.dumps(summ, indent=2) + "\n")

    first = evaluation.results[0]
    curves = {f"seed {r.seed}": (r.scores, r.is_anomaly) for r in evaluation.results}
    figures = [roc_figure(curves), pr_figure(curves),
               score_histogram(first.scores, first.labels, first.metrics["threshold"]),
               reconstruction_examples({name(k): v[0] for k, v in sorted(first.examples.items(), key=order)})]
    figures[2].update_layout(title_text=f"Anomaly scores by class (seed {first.seed})")
    # plotly.js goes inline with the first figure only: one copy, no network needed.
    blocks = [figure_html(fig, include_plotlyjs=i == 0) for i, fig in enumerate(figures)]

    model_ids = sorted({str(r.model.get("model_id", "–")) for r in evaluation.results})
    data = {"protocol": evaluation.protocol} if files is None else {
        "training file": files["train"] or "–", "test file": files["test"], "normal label": files["normal_label"],
        "test labels": ", ".join(f"{k} {n}" for k, n in files["test_labels"].items())}
    header = {
        **data,
        "seeds": " ".join(map(str, evaluation.seeds)),
        "architecture": evaluation.arch or "–",
        "model" + ("s" if len(model_ids) > 1 else ""): ", ".join(model_ids),
        "source": f"saved model {evaluation.model_path}" if evaluation.model_path else "trained per seed",
        "test beats": str(summ["n_test"]),
        "date": evaluation.created,
    }
    subject = evaluation.protocol if files is None else Path(files["test"]).name
    title = f"ecgad evaluation: {subject}, {len(evaluation.seeds)} seed{'s' * (len(evaluation.seeds) > 1)}"
    body = _BODY.format(table=_table(evaluation, summ), roc=blocks[0], pr=blocks[1], histogram=blocks[2],
                        examples=blocks[3])
    page = report_page(title, header, body, evaluation.notes)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
