"""read_recording(all_leads=True): the other leads beside the analysed one, each as read alone,
within MAX_STORED_LEADS and MAX_STORED_SAMPLES; leads that cannot be stacked are left out."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_readers import FS, ecg_like

from ecgad.data import signal as signal_module
from ecgad.data.readers import read_recording


def test_wfdb_every_lead_as_read_alone(data_dir: Path) -> None:
    record = data_dir / "wfdb" / "s0010_re"
    if not record.with_suffix(".hea").is_file():
        pytest.skip(f"no PTB record s0010_re in {record.parent}")
    signal = read_recording(record, all_leads=True)
    assert signal.lead == "ii"
    names = [name for name, _ in signal.other_leads]
    assert names == [n for n in signal.leads if n != "ii"] and len(names) == 14
    np.testing.assert_array_equal(signal.samples, read_recording(record).samples)
    for name, samples in signal.other_leads[::5]:
        np.testing.assert_array_equal(samples, read_recording(record, lead=name).samples)
    assert [n for n, _ in signal.stored_leads][:2] == ["ii", "i"]
    assert read_recording(record).other_leads == ()  # one lead unless asked


def test_csv_and_edf_every_lead(tmp_path: Path) -> None:
    from pyedflib import highlevel

    x = ecg_like()
    path = tmp_path / "three.csv"
    path.write_text("time,V1,II,V5 (uV)\n" + "".join(
        f"{i / FS:.4f},{-v:.5f},{v:.5f},{500 * v:.2f}\n" for i, v in enumerate(x)))
    signal = read_recording(path, all_leads=True)
    assert signal.lead == "II" and [n for n, _ in signal.other_leads] == ["V1", "V5"]
    np.testing.assert_allclose(signal.other_leads[0][1], -x, atol=1e-5)
    np.testing.assert_allclose(signal.other_leads[1][1], 0.5 * x, atol=1e-4)  # µV to mV

    headers = [highlevel.make_signal_header("ECG II", dimension="mV", sample_frequency=FS,
                                            physical_min=-5, physical_max=5),
               highlevel.make_signal_header("Resp", dimension="Ohm", sample_frequency=FS,
                                            physical_min=-5, physical_max=5),
               highlevel.make_signal_header("V1", dimension="uV", sample_frequency=FS,
                                            physical_min=-5000, physical_max=5000)]
    edf = tmp_path / "three.edf"
    highlevel.write_edf(str(edf), [x, x / 2, 500 * x], headers)
    signal = read_recording(edf, all_leads=True)
    assert [n for n, _ in signal.other_leads] == ["V1"]  # not a voltage: left out
    np.testing.assert_allclose(signal.other_leads[0][1], 0.5 * x, atol=1e-3)


def test_bounded_by_leads_and_samples(tmp_path: Path, monkeypatch) -> None:
    x = ecg_like()
    path = tmp_path / "many.csv"
    names = [f"L{i}" for i in range(20)]
    path.write_text("time," + ",".join(names) + "\n" + "".join(
        f"{i / FS:.4f}," + ",".join(f"{v * (k + 1):.4f}" for k in range(20)) + "\n" for i, v in enumerate(x)))
    signal = read_recording(path, all_leads=True)
    assert len(signal.stored_leads) == signal_module.MAX_STORED_LEADS == 16
    assert [n for n, _ in signal.stored_leads][:3] == ["L0", "L1", "L2"]
    monkeypatch.setattr(signal_module, "MAX_STORED_SAMPLES", 3 * x.size + 10)
    assert [n for n, _ in read_recording(path, all_leads=True).stored_leads] == ["L0", "L1", "L2"]
