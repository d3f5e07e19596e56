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


class RecordingTooShort(ValueError):
    """A recording shorter than ``MIN_DURATION_S``: too short to find heartbeats in. The message
    names the recording by its ``Signal.source`` (what was given or uploaded) and says what is
    accepted; ``duration_s`` is its length in seconds."""

    def __init__(self, source: str, duration_s: float):
        self.source, self.duration_s = source, float(duration_s)
        super().__init__(f"{source or 'the recording'}: the recording lasts {self.duration_s:.2f} s, too short to "
                         f"find heartbeats in; recordings of at least {MIN_DURATION_S:g} s are accepted")


@dataclass(frozen=True)
class Settings:
    """How beats are cut and compared (saved with the model).

    Every value of a beat depends on the signal within ``segment_s`` of its R peak and
    on earlier beats only (plus the next R peak, for the pause), so that a signal fed
    in pieces gives the values of the whole signal (:mod:`ecgad.recording.stream`)."""

    segment_s: float = 1.0          # each beat's signal is band-passed on its own, this much either side
    block_beats: int = 32           # the dominant beat is made anew every this many beats,
    reference_beats: int = 256      # from this many beats before the block,
    warmup_beats: int = 32          # or, before there are this many, from the first this many
    rr_context: int = 16            # earlier beats for the local RR median and its spread
    template_pre_s: float = 0.25    # template window around the R peak
    template_post_s: float = 0.45
    template_length: int = 140
    qrs_pre_s: float = 0.10         # QRS window around the R peak
    qrs_post_s: float = 0.15
    qrs_shift_s: float = 0.03       # best of shifts up to this much
    width_half_s: float = 0.12      # QRS width: measured within this much either side of the R peak,
    width_level: float = 0.2        # as the time the slope stays above this share of its maximum
    peak_chunk_s: float = 60.0      # chunks of the R-peak detector on a whole signal;
    stream_chunk_s: float = 1.0     # on a stream (sooner peaks, more filtering: the same peaks)
    stream_overlap_s: float = 1.0   # and the filter margin either side of a stream's chunk

    def __post_init__(self):
        reach = max(self.template_pre_s, self.template_post_s, self.qrs_pre_s + self.qrs_shift_s,
                    self.qrs_post_s + self.qrs_shift_s, self.width_half_s)
        if not self.segment_s > reach:
            raise ValueError(f"segment_s ({self.segment_s} s) must exceed every window's reach ({reach} s)")
        if min(self.block_beats, self.reference_beats, self.warmup_beats, self.rr_context) < 1:
            raise ValueError("block_beats, reference_beats, warmup_beats and rr_context must be at least 1")
