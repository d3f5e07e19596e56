"""What the live monitor plays: the synthesised example (endless: it repeats seamlessly) or a stored
recording's lead (read from its zlib chunks), handed out in pieces of samples."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ecgad.data.synthetic import SyntheticRecording, example_recording

from ..models import Recording

MAX_PIECE_S = 60.0       # the most one request may ask for, in seconds of signal
MAX_PIECE_SAMPLES = 1 << 16
DIGITS = 4               # mV to 0.1 µV: below any ECG's noise, and a third of the JSON of full floats


@lru_cache(maxsize=1)
def example() -> SyntheticRecording:
    """The example (3 minutes at 360 Hz, 260 kB): made once per process."""
    return example_recording()


def max_count(fs: float) -> int:
    return max(1, min(MAX_PIECE_SAMPLES, int(MAX_PIECE_S * fs)))


def example_piece(start: int, count: int) -> np.ndarray:
    """Samples ``start`` to ``start + count`` of the endless example (mV)."""
    samples = example().samples
    index = (np.arange(start, start + count, dtype=np.int64)) % samples.size
    return samples[index]


def recording_piece(recording: Recording, start: int, count: int) -> np.ndarray:
    """Samples ``start`` to ``start + count`` of the stored lead (mV; fewer at its end)."""
    return recording.samples(start, start + count)


def piece_json(samples: np.ndarray, fs: float, start: int, total: int | None) -> dict:
    """A piece as the page reads it: ``total`` samples in all (None: endless); ``ended`` once the piece
    reaches the end."""
    end = start + int(samples.size)
    return {"fs": fs, "start": start, "total": total, "ended": total is not None and end >= total,
            "samples": np.round(samples.astype(np.float64), DIGITS).tolist()}
