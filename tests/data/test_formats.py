"""One table of formats (``ecgad.data.formats``): the readers dispatch on it and name its formats."""
from __future__ import annotations

from pathlib import Path

import pytest

from ecgad.data import formats, readers


def test_readers_dispatch_on_the_table(tmp_path):
    assert readers.FORMATS == tuple(f.name for f in formats.FORMATS)
    for fmt in formats.FORMATS:
        for ext in fmt.extensions:
            assert formats.format_of(f"Rec{ext.upper()}") is fmt
            path = tmp_path / f"missing{ext}"
            with pytest.raises(readers.RecordingError, match="not found|without its header"):  # dispatched
                readers.read_recording(path)
    with pytest.raises(readers.RecordingError, match="unknown recording format"):
        (tmp_path / "x.xyz").write_text("1\n")
        readers.read_recording(tmp_path / "x.xyz")
    assert formats.format_of(Path("a/b.json")) is None


def test_wfdb_signal_files_come_from_the_header(tmp_path):
    (tmp_path / "rec.hea").write_text("rec 2 250 1000\nrec.dat 16 200 16 0 0 0 0 II\nrec.dat 16 200 16 0 0 0 0 V1\n")
    assert readers.wfdb_signal_files(tmp_path / "rec.hea") == ["rec.dat", "rec.dat"]
    assert readers.wfdb_signal_files(tmp_path / "rec") == ["rec.dat", "rec.dat"]
    with pytest.raises(readers.RecordingError, match="not found"):
        readers.wfdb_signal_files(tmp_path / "other.hea")
