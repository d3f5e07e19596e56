"""Detection quality on ECG5000: the autoencoders against simple baselines.

    python benchmarks/quality.py --data ../shared/data/ECG5000 [--seeds 0 1 2 3 4] [--epochs N]

Both protocols (ucr, resplit), every seed, methods: hybrid and reference
autoencoders, PCA reconstruction, 5-NN distance, Isolation Forest. Each method
fits on the train part's normal beats, tunes and sets its threshold on the
validation part, and is scored once on the test part. Replaces the
``quality`` section of RESULTS.md and writes per-seed figures to
results/quality.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))  # for baselines, when imported rather than run as a script

from baselines import IsolationForest, KNNDistance, PCAReconstruction  # noqa: E402

from ecgad.data.ecg5000 import PROTOCOLS, split  # noqa: E402
from ecgad.detector import Detector, fit_split  # noqa: E402
from ecgad.evaluate import metrics  # noqa: E402
from ecgad.train import TrainConfig  # noqa: E402

START, END = "<!-- quality:start -->", "<!-- quality:end -->"
METHODS = ("hybrid", "reference", "PCA", "5-NN", "Isolation Forest")
COLUMNS = ("roc_auc", "pr_auc", "accuracy", "f1", "train_seconds")


def _autoencoder(arch: str, train_config: TrainConfig, progress: bool) -> Callable:
    def fit_and_score(part):
        detector = fit_split(part, arch=arch, train_config=train_config, progress=progress)
        return detector.score(part.test.values), detector.threshold
    return fit_and_score


def _baseline(make: Callable) -> Callable:
    def fit_and_score(part):
        model = make(part.seed).fit(part.train.normals, part.validation.values, part.validation.is_anomaly,
                                    normal_share=part.normal_share)
        return model.score(part.test.values), model.threshold
    return fit_and_score


def methods(train_config: TrainConfig, progress: bool) -> dict[str, Callable]:
    return {
        "hybrid": _autoencoder("hybrid", train_config, progress),
        "reference": _autoencoder("reference", train_config, progress),
        "PCA": _baseline(lambda seed: PCAReconstruction()),
        "5-NN": _baseline(lambda seed: KNNDistance(k=5)),
        "Isolation Forest": _baseline(lambda seed: IsolationForest(seed=seed)),
    }


def _warm_up() -> None:
    """Pay one-off import and first-call costs (lazy imports, kernel set-up) before any clock starts."""
    rng = np.random.default_rng(0)
    beats = np.sin(np.linspace(0, 6, 140)) + 0.1 * rng.standard_normal((24, 140))
    for arch in ("hybrid", "reference"):
        Detector(arch, train_config=TrainConfig(epochs=1)).fit(
            beats[:16], validation=(beats[16:], np.arange(8) % 2 == 0), progress=False)


def _one_split(data: Path, protocol: str, seed: int, train_config: TrainConfig, progress: bool) -> list[dict]:
    """Every method on one protocol and seed."""
    part = split(data, protocol, seed)
    rows = []
    for name, fit_and_score in methods(train_config, progress).items():
        started = time.perf_counter()
        scores, threshold = fit_and_score(part)
        seconds = time.perf_counter() - started
        m = metrics(scores, part.test.is_anomaly, threshold)
        rows.append({"protocol": protocol, "seed": seed, "method": name, "train_seconds": seconds, **m})
        print(f"{protocol:8s} seed {seed}  {name:17s} ROC AUC {m['roc_auc']:.4f}  PR AUC {m['pr_auc']:.4f}  "
              f"accuracy {m['accuracy']:.4f}  F1 {m['f1']:.4f}  ({seconds:.1f} s)", flush=True)
    return rows


def _worker_init() -> None:
    torch.set_num_threads(1)  # one core per worker: small models gain nothing from more, and cores are shared
    _warm_up()


def run(data: Path, seeds: list[int], train_config: TrainConfig, progress: bool, jobs: int = 1) -> list[dict]:
    tasks = [(data, protocol, seed, train_config, progress and jobs == 1) for protocol in PROTOCOLS for seed in seeds]
    if jobs == 1:
        _warm_up()
        return [row for task in tasks for row in _one_split(*task)]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_worker_init) as pool:
        return [row for rows in pool.map(_one_split, *zip(*tasks, strict=True)) for row in rows]


def _cell(values: list[float], digits: int) -> str:
    a = np.asarray(values, dtype=np.float64)
    if len(a) == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} ± {a.std(ddof=1):.{digits}f}"


def section(rows: list[dict], command: str, seeds: list[int], train_config: TrainConfig, jobs: int = 1) -> str:
    lines = [
        START,
        "## Detection quality (ECG5000)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs ({jobs} run{'s' if jobs > 1 else ''} in parallel), "
        f"Python {platform.python_version()}, torch {torch.__version__}  ",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Seeds: {' '.join(map(str, seeds))}; autoencoders: at most {train_config.epochs} epochs, "
        f"early stopping after {train_config.patience}.",
        "",
        "Anomaly (classes 2–5) is the positive class. Every method learns from the train part's normal "
        "beats and sets its threshold (PCA also its number of components) on the validation part; "
        "figures are on the test part, mean ± sample standard deviation over seeds. "
        "Training seconds include the threshold search on validation.",
    ]
    for protocol in PROTOCOLS:
        mine = [r for r in rows if r["protocol"] == protocol]
        if not mine:
            continue
        n_test = mine[0]["n_test"]
        lines += ["", f"### {protocol} ({n_test} test beats)", "",
                  "| method | ROC AUC | PR AUC | accuracy | F1 | training s |",
                  "|---|---|---|---|---|---|"]
        for method in METHODS:
            runs = [r for r in mine if r["method"] == method]
            if runs:
                cells = [_cell([r[c] for r in runs], 1 if c == "train_seconds" else 4) for c in COLUMNS]
                lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines.append(END)
    return "\n".join(lines)


def replace_section(path: Path, text: str) -> None:
    """Swap the section that ``text`` marks (its first and last lines are the
    ``<!-- name:start -->`` / ``<!-- name:end -->`` markers) in place, leaving the
    other benchmarks' sections alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    lines = text.strip("\n").splitlines()
    start, end = lines[0], lines[-1]
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(old):
        new = pattern.sub(lambda _: text, old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def _repo_relative(arg: str) -> str:
    """A path beside the repository (the shared data) as seen from its root, ``../shared/data``: the
    commands in RESULTS.md are run from the root and show no one machine's absolute paths."""
    flag, sep, value = arg.partition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
    if os.path.isabs(value) and Path(value).resolve().is_relative_to(REPO.parent):
        value = os.path.relpath(Path(value).resolve(), REPO)
    return flag + sep + value


def _command(argv: list[str] | None = None, script: str | None = None) -> str:
    """The command line that ran this benchmark, for RESULTS.md (paths as from the repository root)."""
    path = Path(script or sys.argv[0]).resolve()
    try:
        path = path.relative_to(REPO)
    except ValueError:
        pass
    return shlex.join(["python", str(path), *map(_repo_relative, sys.argv[1:] if argv is None else argv)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("ECGAD_DATA_DIR"),
                        help="folder with ECG5000_TRAIN/TEST (default: $ECGAD_DATA_DIR)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs,
                        help="most epochs for the autoencoders (small values for smoke runs)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="protocol/seed runs in parallel, one core each (training seconds then reflect one core)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "quality.json", help="raw per-seed figures")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")

    train_config = TrainConfig(epochs=args.epochs)
    command = _command()
    rows = run(args.data, args.seeds, train_config, progress=sys.stderr.isatty(), jobs=args.jobs)

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "command": command, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "seeds": args.seeds, "epochs": args.epochs, "runs": rows,
    }, indent=2) + "\n")
    replace_section(args.out, section(rows, command, args.seeds, train_config, args.jobs))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
