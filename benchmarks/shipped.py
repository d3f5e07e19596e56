"""The shipped model against simple baselines, the way an outsider would check it.

    python benchmarks/shipped.py --data ../shared/data

Writes the resplit seed-0 parts with `ecgad data split`, scores the test part with
`ecgad score --labelled --json` (the shipped model, trained on that seed's train
part), fits each baseline on the train part's normal beats (tuning and threshold on
the validation part) and compares them on the test part. Replaces the ``shipped``
section of RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baselines import IsolationForest, KNNDistance, PCAReconstruction  # noqa: E402
from quality import _command, replace_section  # noqa: E402

from ecgad.data.ecg5000 import read_file  # noqa: E402
from ecgad.detector import load_detector  # noqa: E402
from ecgad.evaluate import metrics  # noqa: E402

START, END = "<!-- shipped:start -->", "<!-- shipped:end -->"
PROTOCOL = "resplit"  # the shipped model's protocol; its seed is read from the model


def ecgad(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "ecgad.cli", *args], check=True, capture_output=True, text=True).stdout


def check_model(meta: dict, seed: int | None) -> int:
    """The seed to split with: the shipped model's own. Its test part is then the one part it never
    saw; any other seed's test part holds beats it was trained or thresholded on, so it is refused."""
    if meta.get("protocol") != PROTOCOL or not isinstance(meta.get("seed"), int):
        raise ValueError(f"the shipped model {meta.get('model_id')} was trained on protocol {meta.get('protocol')!r} "
                         f"seed {meta.get('seed')!r}; this benchmark needs a {PROTOCOL} model with a known seed")
    if seed is not None and seed != meta["seed"]:
        raise ValueError(f"--seed {seed}: the shipped model {meta.get('model_id')} was trained on {PROTOCOL} seed "
                         f"{meta['seed']}; another seed's test part holds beats it trained on")
    return meta["seed"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("ECGAD_DATA_DIR"))
    parser.add_argument("--seed", type=int, help="the shipped model's seed (default); any other is refused")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    try:
        args.seed = check_model(load_detector().meta, args.seed)
    except ValueError as exc:
        parser.error(str(exc))

    with tempfile.TemporaryDirectory() as tmp:
        parts = {}
        for part in ("train", "validation", "test"):
            path = Path(tmp) / f"{part}.tsv"
            ecgad("data", "split", "--data", str(args.data), "--protocol", PROTOCOL, "--seed", str(args.seed),
                  "--part", part, "--out", str(path))
            parts[part] = read_file(path)
        scored = json.loads(ecgad("score", str(Path(tmp) / "test.tsv"), "--labelled", "--json"))

    test = parts["test"]
    labels = np.array([b["label"] for b in scored["beats"]])
    assert (labels == test.labels).all(), "scored beats out of file order"
    model = scored["model"]
    check_model(model, args.seed)  # the model `ecgad score` used is the one checked above
    rows = {f"shipped hybrid ({model['model_id']})": metrics([b["score"] for b in scored["beats"]],
                                                             test.is_anomaly, model["threshold"])}
    for baseline in (PCAReconstruction(), KNNDistance(k=5), IsolationForest(seed=args.seed)):
        baseline.fit(parts["train"].normals, parts["validation"].values, parts["validation"].is_anomaly)
        rows[baseline.name] = metrics(baseline.score(test.values), test.is_anomaly, baseline.threshold)

    lines = [START, "## The shipped model against baselines (resplit seed-0 test part)", "",
             f"Command: `{_command()}`  ",
             f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
             f"Model: `{model['model_id']}`, trained on protocol {model.get('protocol')} seed {model.get('seed')}; "
             f"scored through `ecgad score --labelled --json` on the file `ecgad data split --part test` wrote; "
             f"baselines fit on the train part's normal beats, tuned and thresholded on the validation part.", "",
             "| method | ROC AUC | PR AUC | accuracy | F1 |", "|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['accuracy']:.4f} | {m['f1']:.4f} |")
        print(f"{name:40s} ROC AUC {m['roc_auc']:.4f}  accuracy {m['accuracy']:.4f}")
    lines.append(END)
    replace_section(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
