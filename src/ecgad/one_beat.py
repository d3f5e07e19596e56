"""The single-beat fast path: one beat scored with little allocation and no batch machinery.

A monitoring gateway sends beats one at a time and needs each answer at once. Through the batch
path one beat costs twice the network's own time: checks row by row over a batch, chunk lists,
the neighbour search's blocks, dictionaries of parts, a fresh output array per step. Here, for
a ``Detector`` scoring with onnxruntime and a latent part (the shipped hybrid), each thread has
its own input and output buffers, bound once to the session (one thread a call) (IOBinding: no output
allocated per call); the z-normalised beat is written straight into the input buffer
(``data.beats.prepare_one``); the neighbour search is one matrix product against the training
normals' codes and a partition; the parts are combined in plain floats.

The numbers are the batch path's, step for step (``tests/test_one_beat.py`` checks scores,
parts and verdicts to 1e-6); a beat the checks refuse raises the batch path's own error.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from .calibration import LOG_FLOOR
from .data.beats import prepare_one
from .nn.spec import mean_squared_error
from .onnx_runtime import CODES, INPUT, RECONSTRUCTION
from .verdict import Verdict


def applies(detector) -> bool:
    """Whether ``detector`` can score one beat here: the onnx backend, a latent part, the hybrid's
    error (mean squared, no input scaling)."""
    return (detector.network is not None and bool(detector.latent_neighbours) and detector.latent_train is not None
            and not detector.spec.scaling_names and detector.spec.error is mean_squared_error
            and detector.threshold is not None)


def single(beats) -> np.ndarray | None:
    """The beat, as a 1-D array, when ``beats`` is one numeric beat (1-D, ``(1, n)``, or a list
    of one row of numbers); else ``None`` (the batch path then takes it, and names what is wrong)."""
    if isinstance(beats, np.ndarray):
        if beats.dtype.kind not in "fiu" or beats.ndim not in (1, 2) or (beats.ndim == 2 and len(beats) != 1):
            return None
        return beats.reshape(-1)
    if isinstance(beats, list | tuple) and len(beats) == 1 and isinstance(beats[0], list | tuple | np.ndarray):
        try:
            beat = np.asarray(beats[0], dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return beat if beat.ndim == 1 else None
    return None


class OneBeat:
    """A fitted onnx-backed ``Detector``'s single-beat scorer, made once per network; safe to call
    from several threads (each has its own buffers). Reads the detector's threshold and
    standardisation on every call, and its training normals' codes again when they change."""

    def __init__(self, detector):
        import onnxruntime as ort

        self._ort = ort
        self.detector = detector
        self.network = detector.network
        self.session = detector.network.session
        self.length = detector.length
        self.members, self.latent = detector.n_members, detector.spec.config.latent
        self._refs_of = None
        self._local = threading.local()

    def _references(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The training normals' codes ``(members, latent, m)`` float64, their squared norms and ``k``."""
        det = self.detector
        if self._refs_of is not det.latent_train:
            refs = np.ascontiguousarray(det.latent_train, dtype=np.float64)
            self._refs = (np.ascontiguousarray(refs.transpose(0, 2, 1)), np.einsum("kmc,kmc->km", refs, refs))
            self._refs_of = det.latent_train
        return (*self._refs, min(det.latent_neighbours, self._refs[0].shape[2]))

    def _buffers(self):
        """This thread's ``(x, codes, recon, binding)``: input and outputs bound to the session."""
        found = getattr(self._local, "buffers", None)
        if found is None:
            ort = self._ort
            x = np.zeros((1, self.length), np.float32)
            codes = np.empty((self.members, 1, self.latent), np.float32)
            recon = np.empty((1, self.length), np.float32)
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(INPUT, ort.OrtValue.ortvalue_from_numpy(x))
            binding.bind_ortvalue_output(CODES, ort.OrtValue.ortvalue_from_numpy(codes))
            binding.bind_ortvalue_output(RECONSTRUCTION, ort.OrtValue.ortvalue_from_numpy(recon))
            found = self._local.buffers = (x, codes, recon, binding, [x, codes, recon])  # the list keeps them alive
        return found[:4]

    def evaluate(self, beat: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float] | None:
        """``(x, recon, reconstruction error, latent distance)`` of one 1-D beat, or ``None`` where
        the beat fails a check of ``prepare`` (the batch path then raises its error). ``x`` and
        ``recon`` are ``(1, length)`` float32, this thread's buffers (copy them to keep them)."""
        x, codes, recon, binding = self._buffers()
        if not prepare_one(beat, self.length, x[0]):
            return None
        self.session.run_with_iobinding(binding)
        difference = recon[0] - x[0]  # the hybrid's error, mean squared (float32 as the batch path; to 1e-7)
        error = float(np.dot(difference, difference)) / self.length
        # the k nearest training-normal codes per member, by ecgad.neighbours.nearest_full's formula
        refs_t, ref_norms, k = self._references()
        q = codes[:, 0, :].astype(np.float64)
        squared = np.matmul(q[:, None, :], refs_t)[:, 0, :]
        squared *= -2.0
        squared += np.einsum("kc,kc->k", q, q)[:, None]
        squared += ref_norms
        if k < squared.shape[1]:
            squared = np.partition(squared, k - 1, axis=1)[:, :k]
        near = np.sqrt(np.maximum(squared, 0.0)).mean(axis=1).tolist()
        logs = sum(math.log(max(value, LOG_FLOOR)) for value in near)
        return x, recon, error, math.exp(logs / self.members)

    def score(self, error: float, distance: float) -> float:
        """The score from its two parts (``Detector._combine``)."""
        standardise = self.detector.standardise
        z = 0.0
        for value, name in ((error, "reconstruction"), (distance, "latent")):
            mean, std = standardise[name]
            z += (math.log(max(value, LOG_FLOOR)) - mean) / std
        mean, std = standardise["reconstruction"]
        return math.exp(mean + std * z)

    def verdict(self, evaluated: tuple, meta: dict) -> Verdict:
        """``Detector.predict(beat)[0]`` from ``evaluate(beat)``."""
        x, recon, error, distance = evaluated
        det = self.detector
        score = self.score(error, distance)
        z = (math.log(max(score, LOG_FLOOR)) - math.log(max(det.threshold, LOG_FLOOR))) / det.log_scale
        beat32, recon32 = x[0].copy(), recon[0].copy()
        return Verdict(index=0, score=score, threshold=det.threshold, is_anomaly=bool(score > det.threshold),
                       confidence=abs(math.erf(z / math.sqrt(2))), beat=beat32, reconstruction=recon32,
                       error=(beat32 - recon32) ** 2, meta=meta)
