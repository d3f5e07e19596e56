"""A Detector's network in onnxruntime: scoring without torch.

``ecgad export onnx`` (``ecgad.onnx_export``) writes a model's members as one ONNX graph, its
*twin*: the same path with ``.onnx`` for ``.safetensors``. Input ``beats``, ``(n, length)``
float32 in model input space (after the architecture's input scaling), any ``n``; outputs
``codes``, ``(members, n, latent)``, each member's latent code, and ``reconstruction``,
``(n, length)``, the members' mean reconstruction in model input space: exactly what
``Autoencoder.latent_codes`` and ``Autoencoder.decode`` give in torch.

One source of truth: the safetensors file. The graph is derived from it and carries, in its
metadata, the model id of the file it was made from and the SHA-256 of that file's weights
(``weights_digest``); the loader recomputes both from the safetensors file and refuses a graph
that differs, so a retrained model cannot be scored by a stale graph. Everything else the score
needs (input scaling, latent codes of the training normals, standardisation, threshold) is read
from the safetensors file alone, as in torch.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

FORMAT = "ecgad-onnx/1"
INPUT, CODES, RECONSTRUCTION = "beats", "codes", "reconstruction"
BACKENDS = ("auto", "torch", "onnx")
SMALL_BATCH = 32  # beats up to which a batch runs on the calling thread: no pool, no copies
CHUNK = 512  # beats a thread runs through the session at a time, each core its own chunk


def weights_digest(weights: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of a model's weights, ``{name: array}`` as in its state dict: names, dtypes,
    shapes and bytes, in name order. Equal for the safetensors file and the network it loads into."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        array = np.ascontiguousarray(weights[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def twin_path(model_path: str | Path) -> Path:
    """Where a model file's ONNX graph lies: beside it, ``.onnx`` for its suffix."""
    return Path(model_path).with_suffix(".onnx")


def importable(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def choose_backend(backend: str, model_path: str | Path) -> str:
    """``"torch"`` or ``"onnx"`` for ``backend`` (one of ``BACKENDS``) and the model file at
    ``model_path``. ``auto``: onnxruntime where it and the model's graph are present, else torch.
    ``ValueError`` naming what is missing when neither can score."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    twin = twin_path(model_path)
    if backend == "onnx" or (backend == "auto" and twin.is_file() and importable("onnxruntime")):
        if not importable("onnxruntime"):
            raise ValueError("the onnx backend needs onnxruntime (pip install onnxruntime)")
        if not twin.is_file():
            raise ValueError(f"{model_path}: no ONNX graph beside it ({twin.name}); make it with "
                             f"`ecgad export onnx --model {model_path} --out {twin}` (needs ecgad[train])")
        return "onnx"
    if not importable("torch"):
        raise ValueError(f"{model_path}: scoring needs its ONNX graph {twin.name} beside it (make it with "
                         f"`ecgad export onnx`, which needs ecgad[train]) or torch (pip install 'ecgad[train]')")
    return "torch"


_process_threads: int | None = None  # set by ``one_thread``


def one_thread() -> None:
    """From now on this process scores each call on the calling thread alone (no chunks on other
    threads): a threaded server scores many small batches side by side, where threads per call
    only contend for the cores."""
    global _process_threads
    _process_threads = 1


def _threads() -> int:
    """Threads one call scores a big batch on: the cores this process may use (``ECGAD_ONNX_THREADS``
    overrides, then ``one_thread``)."""
    if os.environ.get("ECGAD_ONNX_THREADS"):
        return max(1, int(os.environ["ECGAD_ONNX_THREADS"]))
    if _process_threads is not None:
        return _process_threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (the process it was made in, its threads, the pool)


def chunked(work, n: int, size: int) -> None:
    """``work(start, stop)`` for consecutive chunks of ``size`` out of ``n``, on as many threads as
    ``_threads`` gives (numpy and onnxruntime let go of the GIL while they compute, so a big batch
    uses every core for every step, not only inside the graph's operators); in order on this thread
    where there is one chunk or one thread. ``work`` writes its results into arrays of its own."""
    global _pool
    starts = range(0, n, size)
    threads = _threads()
    if len(starts) < 2 or threads < 2:
        for start in starts:
            work(start, min(start + size, n))
        return
    if _pool is None or _pool[:2] != (os.getpid(), threads):  # a forked child makes its own
        _pool = (os.getpid(), threads, ThreadPoolExecutor(threads, thread_name_prefix="ecgad-chunks"))
    for future in [_pool[2].submit(work, start, min(start + size, n)) for start in starts]:
        future.result()


class OnnxNetwork:
    """A model's exported graph in an onnxruntime session, checked against its safetensors file.

    ``run(x)``: ``(n, length)`` float32 model-space beats -> ``(codes, reconstruction)``,
    ``(members, n, latent)`` and ``(n, length)`` float32, on the calling thread. The session is
    made and warmed up once, here; it is safe to call from several threads."""

    def __init__(self, path: str | Path, *, model_id: str | None, weights: str, length: int, members: int,
                 latent: int):
        import onnxruntime as ort

        path = Path(path)

        # one thread per call: a big batch runs as chunks, one per core (``evaluate``), which keeps
        # every core busy for the neighbour search too and spares the threads' per-operator hand-offs
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its warnings are about node placement
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types (Fail, InvalidProtobuf, ...)
            raise ValueError(f"{path}: not an ONNX model onnxruntime can run ({exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
        found = self.session.get_modelmeta().custom_metadata_map
        if found.get("ecgad.format") != FORMAT:
            raise ValueError(f"{path}: not an ecgad ONNX graph (format {found.get('ecgad.format')!r}, "
                             f"expected {FORMAT!r})")
        if found.get("ecgad.model_id") != (model_id or ""):
            raise ValueError(f"{path}: this ONNX graph is of model {found.get('ecgad.model_id')!r}, not of "
                             f"{model_id!r} beside it; export it again with `ecgad export onnx`")
        if found.get("ecgad.weights_sha256") != weights:
            raise ValueError(f"{path}: this ONNX graph was made from other weights than its model file's "
                             f"(model id {model_id!r}); export it again with `ecgad export onnx`")
        self.path, self.length, self.members, self.latent = path, length, members, latent
        self._outputs = [CODES, RECONSTRUCTION]
        self.session.run(self._outputs, {INPUT: np.zeros((CHUNK, length), np.float32)})  # warm-up
        codes, recon = self.run(np.zeros((1, length), np.float32))  # warm-up: first-run allocations
        if codes.shape != (members, 1, latent) or recon.shape != (1, length):
            raise ValueError(f"{path}: the ONNX graph gives codes {codes.shape} and reconstructions "
                             f"{recon.shape}; the model file needs ({members}, n, {latent}) and (n, {length})")

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes, recon = self.session.run(self._outputs, {INPUT: x})
        return codes, recon


def evaluate(detector, prepared: np.ndarray, batch: int, codes: bool,
             pad: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``Detector._evaluate`` in onnxruntime: chunks of at most ``batch`` (and ``CHUNK``) beats, one
    per core at a time on the one-thread session (``chunked``), written into arrays made once
    (no padding needed: one session serves every batch size; the errors, per beat, are the same
    whether computed chunk by chunk or whole, in float32 as in torch)."""
    network = detector.network
    n = len(prepared)
    recon = np.empty((n, detector.length), np.float32)
    latent = np.empty((network.members, n, network.latent), np.float32) if codes else None
    error = np.empty(n, np.float64)

    def work(start: int, stop: int) -> None:
        x = np.ascontiguousarray(detector._to_model(prepared[start:stop]), dtype=np.float32)
        z, recon[start:stop] = network.run(x)
        if codes:
            latent[:, start:stop] = z
        target = x if pad else detector._to_model(prepared[start:stop])
        error[start:stop] = detector.spec.error(recon[start:stop], target)

    if n <= SMALL_BATCH:  # the few-beat path: no threads, no copies
        x = np.ascontiguousarray(detector._to_model(prepared), dtype=np.float32)
        # one row takes other product kernels (about 1e-6 apart): run it twice, so that a beat's
        # numbers are the same at every batch size (a stream's beats are those of the whole signal)
        z, recon = network.run(np.repeat(x, 2, axis=0)) if n == 1 else network.run(x)
        z, recon = z[:, :n], recon[:n]
        error = detector.spec.error(recon, x if pad else detector._to_model(prepared))
        return recon, error.astype(np.float64), z if codes else None
    chunked(work, n, min(batch, CHUNK))
    return recon, error, latent
