"""``read_recording``: WFDB, EDF and CSV/TSV leads in mV, and a clear error for every bad input."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ecgad.data.annotations import read_annotations
from ecgad.data.readers import RecordingError, Signal, read_recording

FS = 250.0


def ecg_like(seconds: float = 10.0, fs: float = FS) -> np.ndarray:
    """Spikes at 75 bpm on a slow wave: enough shape for the readers, not meant as physiology."""
    t = np.arange(int(seconds * fs)) / fs
    beats = np.exp(-0.5 * (((t % 0.8) - 0.3) / 0.012) ** 2)
    return (1.2 * beats + 0.1 * np.sin(2 * np.pi * 0.3 * t)).astype(np.float64)


# ------------------------------------------------------------------ real files


@pytest.fixture(scope="module")
def mitdb(data_dir: Path) -> Path:
    folder = data_dir / "mitdb"
    if not (folder / "101.hea").is_file():
        pytest.skip(f"no MIT-BIH record 101 in {folder}")
    return folder


@pytest.fixture(scope="module")
def ptb(data_dir: Path) -> Path:
    record = data_dir / "wfdb" / "s0010_re"
    if not record.with_suffix(".hea").is_file():
        pytest.skip(f"no PTB record s0010_re in {record.parent}")
    return record


def test_mitdb_record_reads_mlii_by_default_in_millivolts(mitdb: Path) -> None:
    signal = read_recording(mitdb / "101")
    assert isinstance(signal, Signal)
    assert signal.fs == 360.0
    assert signal.leads == ("MLII", "V1")
    assert signal.lead == "MLII"
    assert signal.samples.dtype == np.float32 and signal.samples.shape == (650000,)
    assert signal.duration_s == pytest.approx(650000 / 360)
    # a QRS of a few mV, not ADC units or volts
    assert 0.5 < float(np.ptp(signal.samples)) < 10
    assert signal.source.endswith("101")


def test_mitdb_record_by_header_or_data_file_and_lead_name(mitdb: Path) -> None:
    by_hea = read_recording(mitdb / "101.hea", lead="v1")
    by_dat = read_recording(mitdb / "101.dat", lead=1)
    assert by_hea.lead == by_dat.lead == "V1"
    np.testing.assert_array_equal(by_hea.samples, by_dat.samples)
    assert not np.array_equal(by_hea.samples, read_recording(mitdb / "101").samples)


def test_lead_ii_spellings_find_mlii(mitdb: Path) -> None:
    for name in ("MLII", "II", "ii", "lead II"):
        assert read_recording(mitdb / "101", lead=name).lead == "MLII"


def test_ptb_fifteen_leads_at_1000_hz(ptb: Path) -> None:
    signal = read_recording(ptb)
    assert signal.fs == 1000.0
    assert len(signal.leads) == 15 and signal.leads[:3] == ("i", "ii", "iii")
    assert signal.lead == "ii"  # the default limb lead
    assert signal.duration_s == pytest.approx(38.4)
    np.testing.assert_array_equal(read_recording(ptb, lead="II").samples, signal.samples)
    np.testing.assert_array_equal(read_recording(ptb, lead=1).samples, signal.samples)
    vz = read_recording(ptb, lead=14)  # stored in the second signal file, s0010_re.xyz
    assert vz.lead == "vz" and 0.1 < float(np.ptp(vz.samples)) < 10


def test_annotations_of_a_record(mitdb: Path) -> None:
    samples, symbols = read_annotations(mitdb / "101")
    assert samples.dtype == np.int64 and len(samples) == len(symbols)
    assert np.all(np.diff(samples) >= 0)
    assert (symbols == "N").sum() > 1800


def test_truncated_data_file_is_a_header_mismatch(mitdb: Path, tmp_path: Path) -> None:
    shutil.copy(mitdb / "101.hea", tmp_path / "101.hea")
    with open(mitdb / "101.dat", "rb") as src:
        (tmp_path / "101.dat").write_bytes(src.read(100_000))
    with pytest.raises(RecordingError, match=r"101\.dat holds 100000 bytes.*does not match its data"):
        read_recording(tmp_path / "101")


def test_missing_signal_file_is_named(mitdb: Path, tmp_path: Path) -> None:
    shutil.copy(mitdb / "101.hea", tmp_path / "101.hea")
    with pytest.raises(RecordingError, match=r"signal file .*101\.dat.* not found"):
        read_recording(tmp_path / "101.hea")


def test_data_file_without_header(mitdb: Path, tmp_path: Path) -> None:
    shutil.copy(mitdb / "101.dat", tmp_path / "101.dat")
    with pytest.raises(RecordingError, match=r"without its header .*101\.hea"):
        read_recording(tmp_path / "101.dat")


def test_unknown_lead_lists_the_available_ones(mitdb: Path) -> None:
    with pytest.raises(RecordingError, match=r"no lead 'aVF'; available: 'MLII', 'V1'"):
        read_recording(mitdb / "101", lead="aVF")
    with pytest.raises(RecordingError, match=r"lead index 2 out of range"):
        read_recording(mitdb / "101", lead=2)


def test_fs_that_contradicts_the_header(mitdb: Path) -> None:
    with pytest.raises(RecordingError, match="says 360 Hz"):
        read_recording(mitdb / "101", fs=250)


# ------------------------------------------------------------------ written here


def write_wfdb(folder: Path, name: str, signals: np.ndarray, fs: float, names: list[str],
               units: list[str]) -> Path:
    import wfdb

    wfdb.wrsamp(name, fs=fs, units=units, sig_name=names, p_signal=signals, fmt=["16"] * len(names),
                adc_gain=[200.0 if u == "mV" else 0.2 for u in units], baseline=[0] * len(names),
                write_dir=str(folder))
    return folder / name


def test_wfdb_microvolts_become_millivolts(tmp_path: Path) -> None:
    x = ecg_like()
    record = write_wfdb(tmp_path, "uv", np.c_[x * 1000, x], FS, ["II", "V1"], ["uV", "mV"])
    a, b = read_recording(record), read_recording(record, lead="V1")
    np.testing.assert_allclose(a.samples, x, atol=0.01)
    np.testing.assert_allclose(b.samples, x, atol=0.01)


def test_header_naming_a_file_elsewhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.dat").write_bytes(b"\0" * 4000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "evil.hea").write_text("evil 1 360 1000\n../secret.dat 16 200 11 0 0 0 0 II\n")
    with pytest.raises(RecordingError, match="outside its folder|not a readable WFDB header"):
        read_recording(tmp_path / "sub" / "evil")  # wfdb itself refuses some such names


def test_lead_index_given_as_text(tmp_path: Path) -> None:
    x = ecg_like()
    record = write_wfdb(tmp_path, "two", np.c_[x, -x], FS, ["MLII", "V1"], ["mV", "mV"])
    assert read_recording(record, lead="1").lead == "V1"  # as the CLI passes it


def test_missing_record(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nope not found.*nope\.hea"):
        read_recording(tmp_path / "nope")
    with pytest.raises(RecordingError, match=r"WFDB header .*nope\.hea not found"):
        read_recording(tmp_path / "nope.hea")


def test_edf_with_millivolt_and_microvolt_channels(tmp_path: Path) -> None:
    from pyedflib import highlevel

    x = ecg_like()
    headers = [
        highlevel.make_signal_header("ECG II", dimension="mV", sample_frequency=FS,
                                     physical_min=-5, physical_max=5),
        highlevel.make_signal_header("V1", dimension="uV", sample_frequency=FS,
                                     physical_min=-5000, physical_max=5000),
    ]
    path = tmp_path / "two.edf"
    highlevel.write_edf(str(path), [x, 500 * x], headers)
    ii = read_recording(path)
    assert (ii.lead, ii.leads, ii.fs) == ("ECG II", ("ECG II", "V1"), FS)
    np.testing.assert_allclose(ii.samples, x, atol=1e-3)
    v1 = read_recording(path, lead="v1")
    np.testing.assert_allclose(v1.samples, 0.5 * x, atol=1e-3)
    np.testing.assert_array_equal(read_recording(path, lead=1).samples, v1.samples)

    truncated = tmp_path / "short.edf"
    truncated.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(RecordingError, match="header does not match its data"):
        read_recording(truncated)
    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"not an edf file " * 64)
    with pytest.raises(RecordingError, match="not a readable EDF"):
        read_recording(garbage)


def test_csv_with_a_time_column(tmp_path: Path) -> None:
    x = ecg_like(fs=360.0)
    t_ms = np.round(np.arange(x.size) / 360.0 * 1000)  # whole ms: steps of 2 and 3
    path = tmp_path / "export.csv"
    path.write_text("# exported by a device\ntime_ms,II (uV),V1\n"
                    + "".join(f"{t:.0f},{1000 * v:.3f},{v:.6f}\n" for t, v in zip(t_ms, x, strict=True)))
    signal = read_recording(path)
    assert signal.fs == pytest.approx(360.0, rel=1e-4)
    assert (signal.lead, signal.leads) == ("II", ("II", "V1"))
    np.testing.assert_allclose(signal.samples, x, atol=1e-5)
    assert read_recording(path, lead="V1").lead == "V1"


def test_tsv_without_header_needs_fs(tmp_path: Path) -> None:
    x = ecg_like()
    path = tmp_path / "samples.tsv"
    path.write_text("".join(f"{v:.6f}\t{-v:.6f}\n" for v in x))
    with pytest.raises(RecordingError, match="no sampling rate: give fs"):
        read_recording(path)
    signal = read_recording(path, fs=FS, lead=1)
    assert (signal.fs, signal.lead, signal.leads) == (FS, "lead 2", ("lead 1", "lead 2"))
    np.testing.assert_allclose(signal.samples, -x, atol=1e-6)


def test_csv_below_100_hz(tmp_path: Path) -> None:
    path = tmp_path / "slow.csv"
    t = np.arange(500) / 50.0
    path.write_text("t,II\n" + "".join(f"{a:.3f},{np.sin(a):.4f}\n" for a in t))
    with pytest.raises(RecordingError, match="50 Hz is below 100 Hz"):
        read_recording(path)


def test_csv_irregular_time_column(tmp_path: Path) -> None:
    t = np.arange(1000) / 250.0
    t[500:] += 1.0  # a one-second gap
    path = tmp_path / "gap.csv"
    path.write_text("seconds,II\n" + "".join(f"{a:.4f},{np.sin(9 * a):.4f}\n" for a in t))
    with pytest.raises(RecordingError, match="is not regular"):
        read_recording(path)


def test_csv_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    rows = [f"{i / 250:.4f},{np.sin(i / 10):.4f},0.1" for i in range(300)]
    rows[41] = "0.1640,n/a,0.1"
    path = tmp_path / "bad.csv"
    path.write_text("time,II,V1\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecordingError, match=r"line 43, column 2: 'n/a' is not a number"):
        read_recording(path)
    rows[41] = "0.1640,,0.1"
    path.write_text("time,II,V1\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecordingError, match=r"line 43, column 2: empty cell"):
        read_recording(path)


def test_flat_and_empty_leads(tmp_path: Path) -> None:
    x = ecg_like()
    path = tmp_path / "flat.csv"
    path.write_text("time,II,V1\n" + "".join(f"{i / FS:.4f},0.25,{v:.4f}\n" for i, v in enumerate(x)))
    with pytest.raises(RecordingError, match=r"lead 'II' is flat"):
        read_recording(path)
    assert read_recording(path, lead="V1").lead == "V1"
    empty = tmp_path / "empty.csv"
    empty.write_text("time,II\n")
    with pytest.raises(RecordingError, match="no samples"):
        read_recording(empty)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG")
    with pytest.raises(RecordingError, match="unknown recording format"):
        read_recording(path)
    with pytest.raises(RecordingError, match="not found"):
        read_recording(tmp_path / "gone.csv")
    with pytest.raises(RecordingError, match="unknown format 'xls'"):
        read_recording(tmp_path / "gone.csv", format="xls")


def test_errors_are_value_errors() -> None:
    assert issubclass(RecordingError, ValueError)
