"""What every part of the recording detector shares: its settings and the names of its features."""
from __future__ import annotations

from dataclasses import dataclass

MIN_DURATION_S = 5.0  # the band-pass filter and the rhythm features need seconds of signal

#: every feature and the part it belongs to
FEATURE_PARTS = {
    "latent": "autoencoder",
    "autoencoder": "autoencoder",
    "template": "template",
    "qrs": "template",
    "qrs_width": "template",
    "premature": "rhythm",
    "premature_local": "rhythm",
    "pause": "rhythm",
}
PARTS = ("autoencoder", "template", "rhythm")
DEFAULT_FEATURES = ("latent", "template", "qrs", "qrs_width", "premature", "premature_local", "pause")
AUTOENCODER_FEATURES = ("latent", "autoencoder")


@dataclass(frozen=True)
class Settings:
    """How beats are cut and compared (saved with the model)."""

    chunk_s: float = 600.0          # seconds per processing chunk and per dominant beat
    rr_context: int = 16            # beats either side for the local RR median
    template_pre_s: float = 0.25    # template window around the R peak
    template_post_s: float = 0.45
    template_length: int = 140
    qrs_pre_s: float = 0.10         # QRS window around the R peak
    qrs_post_s: float = 0.15
    qrs_shift_s: float = 0.03       # best of shifts up to this much
    width_half_s: float = 0.12      # QRS width: measured within this much either side of the R peak,
    width_level: float = 0.2        # as the time the slope stays above this share of its maximum
    margin_s: float = 3.0           # signal either side of a chunk, for the filter and the windows
    peak_chunk_s: float = 60.0      # chunks of the R-peak detector
