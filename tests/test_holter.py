"""The Holter summary (ecgad.recording.holter) on beats whose truth is known: given classes and RR
intervals, the counts, events, pauses and heart rates it must find; and the start date and time
read from WFDB and EDF headers."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from ecgad.recording.holter import MAX_EVENTS, holter_summary

FS = 250.0


def beats(classes: str, rr: float = 0.8, premature: float = 0.5, first: float = 1.0):
    """R peaks (samples at FS) for one beat per letter: N every ``rr`` s; an S or V beat comes
    ``premature`` x rr after the beat before it, and the beat after it a full compensatory pause later."""
    t, times = first, []
    for i, k in enumerate(classes):
        if i:
            if k in "SV":
                t += premature * rr
            elif classes[i - 1] in "SV":
                t += (2 - premature) * rr if classes[i - 1] != classes[i] else rr
            else:
                t += rr
        times.append(t)
    return np.round(np.asarray(times) * FS).astype(np.int64), np.array(list(classes))


def test_isolated_couplets_and_runs():
    sample, classes = beats("NNNNVNNNNVVNNNNVVVNNNNSNNNNSSNNNNSSSSNNNN")
    h = holter_summary(sample, FS, classes)
    v, s = h["ventricular"], h["supraventricular"]
    assert h["beats"] == sample.size and h["classes"] == {"N": 28, "S": 7, "V": 6, "F": 0, "Q": 0}
    assert (v["beats"], v["isolated"]["count"], v["couplets"]["count"], v["runs"]["count"]) == (6, 1, 1, 1)
    assert v["isolated"]["events"][0]["beat"] == 5 and v["couplets"]["events"][0]["beat"] == 10
    run = v["runs"]["events"][0]
    assert (run["beat"], run["beats"], run["sample"]) == (16, 3, int(sample[15]))
    # within the run the beats follow each other at premature x rr = 0.4 s: 150 bpm, over 0.8 s
    assert run["rate_bpm"] == pytest.approx(150.0, abs=0.5) and run["duration_s"] == pytest.approx(0.8, abs=0.01)
    assert v["fastest_run"] == run
    assert (s["isolated"]["count"], s["couplets"]["count"], s["runs"]["count"]) == (1, 1, 1)
    assert s["runs"]["events"][0]["beats"] == 4
    assert v["bigeminy"]["count"] == 0 and v["trigeminy"]["count"] == 0


def test_bigeminy_and_trigeminy():
    sample, classes = beats("NNNN" + "VN" * 5 + "NNN" + "NNV" * 4 + "NNNN" + "VN" * 2 + "NNNN")
    v = holter_summary(sample, FS, classes)["ventricular"]
    assert v["bigeminy"]["count"] == 1 and v["bigeminy"]["events"][0]["cycles"] == 5
    assert v["bigeminy"]["events"][0]["beat"] == 5
    # the bigeminy's last V and the first trigeminal V are 6 beats apart: two episodes, not one
    assert v["trigeminy"]["count"] == 1 and v["trigeminy"]["events"][0]["cycles"] == 4
    assert v["isolated"]["count"] == 5 + 4 + 2  # two cycles of bigeminy at the end: too few for an episode
    assert v["couplets"]["count"] == 0 and v["runs"]["count"] == 0


def test_bigeminy_needs_normal_beats_between():
    sample, classes = beats("NNNN" + "VS" * 5 + "NNNN")
    assert holter_summary(sample, FS, classes)["ventricular"]["bigeminy"]["count"] == 0


def test_pauses_longest_rr_and_heart_rate():
    rr = np.full(60, 0.75)  # 80 bpm
    rr[20] = 2.6            # a pause
    rr[40] = 1.9            # not a pause (under 2 s)
    rr[50:58] = 0.5         # 8 beats at 120 bpm: the 8-beat maximum
    sample = np.round(np.r_[1.0, 1.0 + np.cumsum(rr)] * FS).astype(np.int64)
    h = holter_summary(sample, FS, np.full(sample.size, "N"))
    assert h["pauses"]["count"] == 1
    pause = h["pauses"]["events"][0]
    assert (pause["beat"], pause["rr_s"], pause["sample"], pause["end_sample"]) == (21, 2.6, sample[20], sample[21])
    assert h["longest_rr"]["rr_s"] == 2.6 and h["longest_rr"]["beat"] == 21
    assert h["heart_rate"]["max"]["bpm"] == pytest.approx(120.0, abs=0.1) and h["heart_rate"]["max"]["beat"] == 51
    # the slowest 8 intervals hold the pause: (2.6 + 7 x 0.75) / 8 s
    assert h["heart_rate"]["min"]["bpm"] == pytest.approx(60 / ((2.6 + 7 * 0.75) / 8), abs=0.1)
    assert h["heart_rate"]["mean_bpm"] == pytest.approx(60 / rr.mean(), abs=0.1)
    (hour,) = h["hourly"]  # its min and max are the 8-beat averages too, not one interval's 23 or 120 bpm
    assert (hour["hr_min"], hour["hr_max"]) == (h["heart_rate"]["min"]["bpm"], h["heart_rate"]["max"]["bpm"])


def test_no_pause_nor_run_across_unreadable_stretches():
    sample, classes = beats("NNNNNNNNNNVV" + "VNNNNNNNNN")
    gap = (int(sample[11]) + 10, int(sample[11]) + 20, "noise")
    sample[12:] += int(5 * FS)  # 5 s of unreadable signal between beat 12 and 13 (its beats left out)
    gap = (gap[0], gap[1] + int(5 * FS) - 20, gap[2])
    h = holter_summary(sample, FS, classes, unreadable=[gap])
    assert h["pauses"]["count"] == 0 and h["longest_rr"]["rr_s"] < 2
    v = h["ventricular"]
    assert v["couplets"]["count"] == 1 and v["isolated"]["count"] == 1 and v["runs"]["count"] == 0
    without_gap = holter_summary(sample, FS, classes)
    assert without_gap["pauses"]["count"] == 1 and without_gap["ventricular"]["runs"]["count"] == 1


def test_hourly_table_on_clock_hours_and_times():
    # 2.5 hours at 60 bpm, one V beat every 100 beats; start at 10:30:15, so the end at 13:00:15
    n = int(2.5 * 3600)
    sample = (np.arange(n) * FS + FS / 2).astype(np.int64)
    classes = np.full(n, "N")
    classes[::100] = "V"
    start = datetime(2026, 3, 1, 10, 30, 15)
    h = holter_summary(sample, FS, classes, n_samples=n * int(FS), start=start)
    hours = h["hourly"]
    assert [r["hour"] for r in hours] == ["10:30", "11:00", "12:00", "13:00"]
    assert [r["beats"] for r in hours] == [1785, 3600, 3600, 15]
    assert sum(r["V"] for r in hours) == h["ventricular"]["beats"] == n // 100
    assert all(r["hr_mean"] == pytest.approx(60.0, abs=0.01) for r in hours)
    first_v = h["ventricular"]["isolated"]["events"][0]
    assert first_v["at"] == "2026-03-01T10:30:15" and first_v["clock"] == "00:00:00.5"
    assert h["start"] == "2026-03-01T10:30:15"
    # without a start: hours from the beginning, no date
    plain = holter_summary(sample, FS, classes, n_samples=n * int(FS))
    assert [r["hour"] for r in plain["hourly"]] == ["00:00", "01:00", "02:00"]
    assert plain["ventricular"]["isolated"]["events"][0]["at"] is None
    assert len(plain["trend"]["bpm"]) == 150 and plain["trend"]["bpm"][3] == 60.0


def test_lists_are_capped_but_counted():
    sample, classes = beats("NNNV" * (MAX_EVENTS + 50) + "N")
    v = holter_summary(sample, FS, classes)["ventricular"]
    assert v["isolated"]["count"] == MAX_EVENTS + 50 and len(v["isolated"]["events"]) == MAX_EVENTS
    assert v["isolated"]["events"][-1]["beat"] == 4 * MAX_EVENTS and v["trigeminy"]["count"] == 0


def test_without_classes_and_bad_input():
    sample, _ = beats("N" * 20)
    h = holter_summary(sample, FS, None)
    assert h["classified"] is False and h["ventricular"] is None and h["classes"] is None
    assert h["heart_rate"]["mean_bpm"] == pytest.approx(75.0, abs=0.1) and "V" not in h["hourly"][0]
    with pytest.raises(ValueError, match="3 classes for 20 beats"):
        holter_summary(sample, FS, np.array(["N", "N", "V"]))
    with pytest.raises(ValueError, match="unknown classes"):
        holter_summary(sample, FS, np.array(["X"] * 20))
    with pytest.raises(ValueError, match="increasing"):
        holter_summary(sample[::-1], FS, None)
    empty = holter_summary(np.zeros(0, np.int64), FS, np.zeros(0, "<U1"), n_samples=1000)
    assert empty["beats"] == 0 and empty["heart_rate"]["min"] is None and empty["longest_rr"] is None


def test_wfdb_header_start(tmp_path):
    import wfdb

    from ecgad.data.readers import read_recording

    x = np.sin(np.arange(2000) / 10.0).reshape(-1, 1)
    wfdb.wrsamp("rec", fs=250, units=["mV"], sig_name=["II"], p_signal=x, fmt=["16"], write_dir=str(tmp_path),
                base_date=datetime(2026, 3, 1).date(), base_time=datetime(2026, 3, 1, 22, 15, 30).time())
    assert read_recording(tmp_path / "rec").start == datetime(2026, 3, 1, 22, 15, 30)
    wfdb.wrsamp("notime", fs=250, units=["mV"], sig_name=["II"], p_signal=x, fmt=["16"], write_dir=str(tmp_path))
    assert read_recording(tmp_path / "notime").start is None


def test_edf_header_start(tmp_path):
    import pyedflib

    from ecgad.data.readers import read_recording

    path = tmp_path / "rec.edf"
    writer = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeader(0, {"label": "ECG II", "dimension": "mV", "sample_frequency": 250,
                               "physical_max": 5, "physical_min": -5, "digital_max": 32767, "digital_min": -32768})
    writer.setStartdatetime(datetime(2026, 2, 14, 8, 5, 0))
    writer.writeSamples([np.sin(np.arange(2500) / 10.0)])
    writer.close()
    assert read_recording(path).start == datetime(2026, 2, 14, 8, 5, 0)


def test_end_to_end_through_analyze_on_a_synthetic_recording():
    """The shipped model on ecgad's synthetic example (isolated PVCs with a full compensatory pause,
    PACs): the summary's events are the beats the classifier labels, and those are the true ones."""
    from ecgad.data.signal import Signal
    from ecgad.data.synthetic import example_recording
    from ecgad.recording import load_recording_detector
    from ecgad.recording.holter import holter_of

    ex = example_recording(300.0)
    result = load_recording_detector().analyze(Signal(ex.samples, ex.fs, "II", ("II",), "example"))
    assert result.classes is not None and len(result) == ex.peaks.size  # every beat found, in order
    h = holter_of(result, start=datetime(2026, 5, 4, 23, 58, 0))
    v, s = h["ventricular"], h["supraventricular"]
    # the summary counts and lists exactly what the classifier said
    assert h["classes"] == {k: int((result.classes == k).sum()) for k in "NSVFQ"}
    listed = [e["beat"] for e in v["isolated"]["events"]] + [e["beat"] + k for e in v["couplets"]["events"]
                                                              for k in (0, 1)]
    assert sorted(listed) == [i + 1 for i in np.flatnonzero(result.classes == "V")]
    # and that is the truth: the example's PVCs are isolated and its PACs supraventricular
    true_v = {i + 1 for i, k in enumerate(ex.kinds) if k == "V"}
    true_s = {i + 1 for i, k in enumerate(ex.kinds) if k == "A"}
    found_v = {e["beat"] for e in v["isolated"]["events"]}
    found_s = {e["beat"] for e in s["isolated"]["events"]}
    assert len(found_v & true_v) >= 0.95 * len(true_v) and len(found_v - true_v) <= 0.05 * len(true_v)
    assert len(found_s & true_s) >= 0.85 * len(true_s) and len(found_s - true_s) <= 0.3 * len(true_s)
    assert v["runs"]["count"] == 0 and h["pauses"]["count"] == 0
    # the longest RR is a compensatory pause: it starts on a PVC
    assert h["longest_rr"]["beat"] in true_v
    # clock hours from 23:58: two rows, the second after midnight, with the date in each event
    assert [r["hour"] for r in h["hourly"]] == ["23:58", "00:00"]
    assert sum(r["V"] for r in h["hourly"]) == v["beats"]
    first = v["isolated"]["events"][0]
    assert first["at"].startswith("2026-05-0") and first["time_s"] == pytest.approx(first["sample"] / ex.fs, abs=1e-3)
