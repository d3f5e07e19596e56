"""The one confidence formula both detectors use."""
import numpy as np
import pytest

from ecgad.calibration import confidence
from ecgad.recording import Combination


def test_confidence_is_zero_at_the_threshold_and_symmetric() -> None:
    c = confidence([0.0, 1.959964, -1.959964, 10.0])
    assert c == pytest.approx([0.0, 0.95, 0.95, 1.0], abs=1e-6)
    assert confidence(np.empty(0)).shape == (0,)


def test_recording_confidence_is_the_shared_formula() -> None:
    comb = Combination(features=("rr",), weights=np.ones(1), bias=0.0, normal_median=np.zeros(1),
                       threshold=2.0, sigma=0.5)
    scores = np.array([1.0, 2.0, 2.5, 4.0])
    assert comb.confidence(scores) == pytest.approx(confidence((scores - 2.0) / 0.5))
