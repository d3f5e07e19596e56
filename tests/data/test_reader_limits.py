"""``read_recording`` checks sizes before it reads: what would take memory or CPU out of proportion to
the file (a one-row CSV of millions of columns, FLAC-compressed WFDB data, a header's absurd sampling
rate or length, a header of 100,000 signals) is refused at once with a message that says what is
accepted; messages show only printable, shortened text. Figures: benchmarks/upload_limits.py."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ecgad.data.readers import MAX_FS, MAX_LEADS, RecordingError, read_recording

FS = 250.0

PEAK = r"""
import json, sys
from ecgad.data.readers import RecordingError, read_recording

def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited on exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024

before = peak_mb()
try:
    read_recording(sys.argv[1], **json.loads(sys.argv[2]))
    error = None
except RecordingError as e:
    error = str(e)
print(json.dumps({"growth_mb": peak_mb() - before, "error": error}))
"""


def read_in_child(path: Path, **kwargs) -> tuple[float, str | None]:
    """(peak memory growth in MB, error message or None) of reading ``path`` in a fresh process."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("peak memory is read from /proc (Linux)")
    done = subprocess.run([sys.executable, "-c", PEAK, str(path), json.dumps(kwargs)], capture_output=True,
                          text=True, timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["growth_mb"], result["error"]


def ecg_like(seconds: float = 10.0, fs: float = FS) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return 1.2 * np.exp(-0.5 * (((t % 0.8) - 0.3) / 0.012) ** 2) + 0.1 * np.sin(2 * np.pi * 0.3 * t)


def write_wfdb(folder: Path, name: str, x: np.ndarray, fs: float = FS, fmt: str = "16") -> Path:
    import wfdb

    d = np.round(np.asarray(x) * 200).astype(np.int16)[:, None]
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=["II"], d_signal=d, fmt=[fmt], adc_gain=[200.0],
                baseline=[0], write_dir=str(folder))
    return folder / name


def printable(message: str) -> bool:
    return all(ch.isprintable() for ch in message)


# ------------------------------------------------------------------ CSV / TSV


def test_one_row_of_ten_million_columns_is_refused_in_little_memory(tmp_path: Path) -> None:
    """40 MB in one row grew a worker by 2.7 GB (3.6 GB here) before the check on line length."""
    path = tmp_path / "one-row.csv"
    path.write_text("0.1," * 10_000_000 + "0.1\n")
    growth, error = read_in_child(path, fs=FS)
    assert error is not None and "line 1 is longer than 64 kB" in error
    assert "one row per sample and one column per lead" in error
    assert growth < 50, f"reading grew the process by {growth:.0f} MB"


def test_a_long_line_further_down_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text("time,II\n0,1\n0.004,2\n0.008,3\n" + "1," * 40_000 + "1\n0.016,2\n")
    with pytest.raises(RecordingError, match="line 5 is longer than 64 kB"):
        read_recording(path)


def test_more_columns_than_leads_accepted(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(",".join(["0.5"] * 300) for _ in range(5)) + "\n")
    with pytest.raises(RecordingError, match=rf"300 columns; at most {MAX_LEADS} leads and a time column"):
        read_recording(path, fs=FS)


def test_only_the_lead_read_is_kept_in_memory(tmp_path: Path) -> None:
    """Twelve leads in the file, one read: the others' values are not all parsed into memory."""
    x = ecg_like(1800)
    path = tmp_path / "twelve.csv"
    np.savetxt(path, np.c_[np.arange(x.size) / FS, np.tile(x[:, None], 12)], fmt="%.4f", delimiter=",",
               header="time," + ",".join(f"L{i}" for i in range(12)), comments="")
    growth, error = read_in_child(path, lead="L3")
    assert error is None
    all_columns_mb = 13 * x.size * 8 / 1e6  # 47 MB of float64 for the time and the 12 leads
    assert growth < 0.6 * all_columns_mb, f"{growth:.0f} MB"  # 22 MB: the lead and the time column


@pytest.mark.parametrize("fs, message", [(50_000.0, "above the 20000 Hz accepted"),
                                         (50.0, "below 100 Hz")])
def test_sampling_rate_outside_100_to_20000_hz(tmp_path: Path, fs: float, message: str) -> None:
    path = tmp_path / "given.tsv"
    path.write_text("".join(f"{v:.4f}\n" for v in ecg_like()))
    with pytest.raises(RecordingError, match=message):
        read_recording(path, fs=fs)
    timed = tmp_path / "timed.csv"  # the rate a time column implies
    timed.write_text("time,II\n" + "".join(f"{i / fs:.9f},{v:.4f}\n" for i, v in enumerate(ecg_like())))
    with pytest.raises(RecordingError, match=message):
        read_recording(timed)


def test_rows_beyond_the_longest_duration_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "long.tsv"
    path.write_text("".join(f"{v:.4f}\n" for v in ecg_like(20)))
    with pytest.raises(RecordingError, match=r"5000 samples at 250 Hz last 20 s; at most 10 s are accepted"):
        read_recording(path, fs=FS, max_duration_s=10)
    assert len(read_recording(path, fs=FS, max_duration_s=30)) == 5000


def test_binary_file_is_not_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(RecordingError) as info:
        read_recording(path, fs=FS)
    message = str(info.value)
    assert "scan.csv: not a text file" in message and "accepted: CSV or TSV text" in message
    assert printable(message) and len(message) < 300


def test_nul_in_a_csv_header_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_text("time,I\x00I\n" + "".join(f"{i / FS:.4f},{v:.4f}\n" for i, v in enumerate(ecg_like())))
    with pytest.raises(RecordingError, match="not a text file"):
        read_recording(path)


def test_bad_cells_are_shown_printable_and_short(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,II\n0,1\n0.004,\x07" + "x" * 5000 + "\n")
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    message = str(info.value)
    assert "line 3, column 2: '\ufffdxxx" in message and "…' is not a number" in message
    assert printable(message) and len(message) < 300


def test_superscript_two_is_a_lead_name_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("time,II,V1\n" + "".join(f"{i / FS:.4f},{v:.4f},{-v:.4f}\n" for i, v in enumerate(ecg_like())))
    with pytest.raises(RecordingError, match=r"no lead '²'; available: 'II', 'V1'"):
        read_recording(path, lead="²")


# ------------------------------------------------------------------ WFDB


@pytest.mark.parametrize("fmt", ["508", "516", "524"])
def test_flac_formats_are_refused_before_decoding(tmp_path: Path, fmt: str) -> None:
    """A 14 MB FLAC upload became 10^8 samples: its size says nothing of its length."""
    record = write_wfdb(tmp_path, "flac", ecg_like(), fmt="516")
    header = record.with_suffix(".hea")
    header.write_text(header.read_text().replace(" 516 ", f" {fmt} "))
    with pytest.raises(RecordingError, match=rf"FLAC-compressed format '{fmt}', whose size cannot be checked "
                                             rf"before decoding; accepted formats: 8, 16, 24"):
        read_recording(record)


def test_header_rate_above_20_khz_is_refused(tmp_path: Path) -> None:
    record = write_wfdb(tmp_path, "fast", ecg_like(), fs=1e6)
    with pytest.raises(RecordingError, match=rf"1e\+06 Hz is above the {MAX_FS:g} Hz accepted"):
        read_recording(record)


def test_header_longer_than_a_day_is_refused_before_reading(tmp_path: Path) -> None:
    n = 25 * 3600 * 100  # 25 hours at 100 Hz, format 8: one byte a sample
    (tmp_path / "day.hea").write_text(f"day 1 100 {n}\nday.dat 8 200 8 0 0 0 0 II\n")
    with open(tmp_path / "day.dat", "wb") as f:
        f.truncate(n)  # sparse: 9 MB that take no room
    started = time.process_time()
    with pytest.raises(RecordingError, match=r"last 25 hours; at most 24 hours are accepted: split the recording"):
        read_recording(tmp_path / "day")
    assert time.process_time() - started < 2


def test_header_of_100000_signals_is_refused_at_once(tmp_path: Path) -> None:
    """3.4 MB of signal lines took 30 s of CPU (51 s here) in wfdb's parser before being refused."""
    lines = ["many 100000 360 1000"] + [f"many.dat 16 200 16 0 0 0 0 s{i}" for i in range(100_000)]
    (tmp_path / "many.hea").write_text("\n".join(lines) + "\n")
    (tmp_path / "many.dat").write_bytes(b"")
    started = time.process_time()
    with pytest.raises(RecordingError, match=r"a WFDB header of \d+ bytes; at most 256 kB are accepted"):
        read_recording(tmp_path / "many")
    assert time.process_time() - started < 2
    few = ["few 300 360 1000"] + [f"few.dat 16 200 16 0 0 0 0 s{i}" for i in range(300)]
    (tmp_path / "few.hea").write_text("\n".join(few) + "\n")
    with pytest.raises(RecordingError, match=rf"describes 300 signals; at most {MAX_LEADS} are accepted"):
        read_recording(tmp_path / "few")


def test_binary_header_is_not_a_wfdb_header(tmp_path: Path) -> None:
    (tmp_path / "bin.hea").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(RecordingError) as info:
        read_recording(tmp_path / "bin")
    assert "bin.hea: not a WFDB header: not a text file" in str(info.value) and printable(str(info.value))


def test_control_characters_leave_lead_names(tmp_path: Path) -> None:
    record = write_wfdb(tmp_path, "bell", ecg_like())
    header = record.with_suffix(".hea")
    header.write_text(header.read_text().replace(" II\n", " I\x07I\n"))
    signal = read_recording(record)
    assert (signal.lead, signal.leads) == ("II", ("II",))
