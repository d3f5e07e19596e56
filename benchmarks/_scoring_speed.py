"""In-process scoring speed of a beat detector: throughput at a batch size and single-beat latency.

    python benchmarks/_scoring_speed.py --data ../shared/data [--repeats 5] [--call score]

A working tool for the scoring path (``benchmarks/speed.py`` makes the official run and may import
``throughput``, ``latency`` and ``reference_detector`` from here). Compares, on the 4500 ECG5000 test
beats, the reference design in PyTorch eager (an untrained network of the real architecture: its
speed does not depend on its weights), the shipped hybrid in torch and in onnxruntime, each through
the detector's public call (``score`` by default, ``predict`` with ``--call predict``), prepare
included. Prints each figure's best and spread over ``--repeats`` runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from ecgad.data.beats import prepare
from ecgad.data.ecg5000 import load
from ecgad.detector import Detector, load_detector


def throughput(detector, beats: np.ndarray, batch: int, call: str = "score", min_seconds: float = 1.0) -> float:
    """Beats per second through ``detector.<call>`` on ``beats`` cut into ``batch``-beat calls,
    passes over all of them repeated until ``min_seconds`` have gone by (one warm-up call first)."""
    score = getattr(detector, call)
    score(beats[:batch])
    done, start = 0, time.perf_counter()
    while True:
        for i in range(0, len(beats), batch):
            score(beats[i:i + batch])
        done += len(beats)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def latency(detector, beat: np.ndarray | list[np.ndarray], n: int = 2000, call: str = "score") -> tuple[float, float]:
    """``(p50, p99)`` in milliseconds of ``detector.<call>`` on one beat, ``n`` calls after 50
    warm-up calls; ``beat`` a 1-D beat or several taken in turn."""
    score = getattr(detector, call)
    beats = [beat] if isinstance(beat, np.ndarray) and beat.ndim == 1 else list(beat)
    for i in range(50):
        score(beats[i % len(beats)])
    times = np.empty(n)
    clock = time.perf_counter
    for i in range(n):
        b = beats[i % len(beats)]
        start = clock()
        score(b)
        times[i] = clock() - start
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def reference_detector(normals: np.ndarray) -> Detector:
    """The reference design (``ecgad.nn.reference``) in PyTorch eager, ready to score: an untrained
    network of the real architecture, input scaling from ``normals``, a threshold of 1 (speed does
    not depend on weights or threshold)."""
    import torch

    torch.manual_seed(0)
    det = Detector("reference")
    det.model = det.model.eval()
    det.scaling = det.model.fit_scaling(prepare(normals, det.length))
    det.threshold, det.log_scale = 1.0, 1.0
    return det


def spread(values: list[float]) -> str:
    return f"best {max(values):9.0f}  median {statistics.median(values):9.0f}  worst {min(values):9.0f}"


def spread_ms(values: list[float]) -> str:
    return f"best {min(values):6.3f}  median {statistics.median(values):6.3f}  worst {max(values):6.3f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("ECGAD_DATA_DIR"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--call", default="score", choices=("score", "predict", "score_parts"))
    parser.add_argument("--only", nargs="*", default=["reference", "torch", "onnx"])
    parser.add_argument("--batches", type=int, nargs="*", default=[256, 4096])
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    train, test = load(args.data)
    beats = np.ascontiguousarray(test.values, dtype=np.float64)
    print(f"{len(beats)} test beats, {len(os.sched_getaffinity(0))} cores, call {args.call}", flush=True)
    detectors = {}
    if "reference" in args.only:
        detectors["reference"] = reference_detector(train.values[train.labels == 1])
    if "torch" in args.only:
        detectors["torch"] = load_detector(backend="torch")
    if "onnx" in args.only:
        detectors["onnx"] = load_detector(backend="onnx")
    for name, det in detectors.items():
        for batch in args.batches:
            figures = [throughput(det, beats, batch, args.call) for _ in range(args.repeats)]
            print(f"{name:9s} batch {batch:5d}: {spread(figures)} beats/s", flush=True)
        p50s, p99s = [], []
        for _ in range(args.repeats):
            p50, p99 = latency(det, list(beats[:200]), call=args.call)
            p50s.append(p50)
            p99s.append(p99)
        print(f"{name:9s} one beat p50: {spread_ms(p50s)}; p99: {spread_ms(p99s)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
