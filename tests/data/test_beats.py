"""``prepare``: any beats in, checked, resampled and z-normalised (n, 140) float32 out."""
from __future__ import annotations

import numpy as np
import pytest

from ecgad.data.beats import BEAT_LENGTH, MIN_BEAT_LENGTH, prepare


def wave(samples: int) -> np.ndarray:
    """A smooth beat-like shape sampled at any rate: same curve, different sample counts."""
    t = np.linspace(0.0, 1.0, samples)
    return 3.0 + np.exp(-0.5 * ((t - 0.35) / 0.03) ** 2) - 0.4 * np.exp(-0.5 * ((t - 0.65) / 0.08) ** 2)


@pytest.mark.parametrize("samples", [70, 300])
def test_beats_of_other_lengths_are_resampled_keeping_their_shape(samples: int) -> None:
    out = prepare(wave(samples)[None, :])
    expected = prepare(wave(BEAT_LENGTH)[None, :])
    assert out.shape == (1, BEAT_LENGTH)
    assert np.corrcoef(out[0], expected[0])[0, 1] > 0.99
    assert np.argmax(out[0]) == pytest.approx(np.argmax(expected[0]), abs=2)


def test_beats_are_z_normalised_float32() -> None:
    rng = np.random.default_rng(0)
    beats = rng.normal(5.0, 3.0, (4, BEAT_LENGTH)) * np.array([[1], [10], [0.01], [100]])
    out = prepare(beats)
    assert out.dtype == np.float32 and out.shape == (4, BEAT_LENGTH)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-4)


def test_scale_and_offset_do_not_change_a_prepared_beat() -> None:
    beat = wave(BEAT_LENGTH)
    np.testing.assert_allclose(prepare(beat), prepare(7.5 * beat - 2.0), atol=1e-5)


def test_other_lengths_follow_the_length_argument() -> None:
    assert prepare(wave(140), length=64).shape == (1, 64)


def test_a_flat_list_or_1d_array_is_one_beat() -> None:
    beat = wave(100)
    assert prepare(list(beat)).shape == (1, BEAT_LENGTH)
    assert prepare(beat).shape == (1, BEAT_LENGTH)
    np.testing.assert_array_equal(prepare(list(beat)), prepare(beat))


def test_a_ragged_list_gives_one_row_per_beat_in_order() -> None:
    lengths = [100, 140, 250]
    out = prepare([list(wave(n)) for n in lengths[:2]] + [wave(lengths[2])])
    assert out.shape == (3, BEAT_LENGTH)
    for row, n in zip(out, lengths, strict=True):
        np.testing.assert_allclose(row, prepare(wave(n))[0])


def test_the_shortest_accepted_beat() -> None:
    assert prepare(wave(MIN_BEAT_LENGTH)).shape == (1, BEAT_LENGTH)


GOOD = list(wave(BEAT_LENGTH))


@pytest.mark.parametrize(("bad", "message"), [
    (GOOD[:50] + [float("nan")] + GOOD[51:], "NaN or infinite"),
    (GOOD[:50] + [float("inf")] + GOOD[51:], "NaN or infinite"),
    (GOOD[:50] + [float("-inf")] + GOOD[51:], "NaN or infinite"),
    (GOOD[:50] + [1e300, -1e300] + GOOD[52:], "beyond ±1e\\+09"),
    ([0.7] * BEAT_LENGTH, "constant"),
    (GOOD[:MIN_BEAT_LENGTH - 1], f"{MIN_BEAT_LENGTH - 1} samples.*at least {MIN_BEAT_LENGTH}"),
    ([], "0 samples"),
    ([GOOD, GOOD], "flat sequence"),
    (["abc"] * BEAT_LENGTH, "must be numbers"),
], ids=["nan", "inf", "-inf", "huge", "constant", "too-short", "empty", "nested", "strings"])
def test_a_bad_beat_is_refused_naming_its_number_from_1(bad: list, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^beat 3: .*{message}"):
        prepare([GOOD, GOOD, bad, GOOD])


def test_a_3d_array_is_refused() -> None:
    with pytest.raises(ValueError, match="1-D or 2-D.*3 dimensions"):
        prepare(np.zeros((2, 3, BEAT_LENGTH)))


def test_no_beats_is_refused() -> None:
    with pytest.raises(ValueError, match="no beats"):
        prepare([])
    with pytest.raises(ValueError, match="no beats"):
        prepare(np.empty((0, BEAT_LENGTH)))


@pytest.mark.parametrize("samples", [140, 96, 187])
def test_an_array_is_prepared_as_its_rows_one_by_one(samples: int) -> None:
    """Arrays take a path without the per-beat loop: the same numbers, the same first bad beat."""
    beats = np.random.default_rng(samples).normal(size=(50, samples)).cumsum(axis=1)
    np.testing.assert_array_equal(prepare(beats), prepare([list(b) for b in beats]))
    np.testing.assert_array_equal(prepare(beats[0]), prepare(list(beats[0])))
    for row, value, message in ((7, np.nan, "beat 8: contains NaN"), (3, None, "beat 4: is constant"),
                                (5, 1e12, "beat 6: has values beyond")):
        bad = beats.copy()
        bad[row] = 1.5 if value is None else bad[row]
        if value is not None:
            bad[row, 5] = value
        bad[row + 10, :] = 0.0  # a later bad beat: the first one is named
        for given in (bad, [list(b) for b in bad]):
            with pytest.raises(ValueError, match=message):
                prepare(given)
