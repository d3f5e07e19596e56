"""Upload folders: a recording's files are read in a private folder under the instance, removed
afterwards; folders left by a worker killed mid-upload (kill -9) are removed when an app starts,
while those of uploads still running in other workers are kept."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from heartbeats import synthetic_ecg
from webtools import upload_recording

HOLD = r"""
import sys, time
from ecgad.web.uploads import upload_folder
with upload_folder(sys.argv[1]) as folder:
    (folder / "rec.dat").write_bytes(b"x" * 1000)
    print(folder, flush=True)
    time.sleep(120)
"""


def _uploading(instance: Path) -> tuple[subprocess.Popen, Path]:
    """A process in the middle of an upload: (the process, its folder)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(instance)], stdout=subprocess.PIPE, text=True, env=env)
    return process, Path(process.stdout.readline().strip())


def _age(folder: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_folders_of_killed_uploads_are_removed_at_start_up(make_app, tmp_path) -> None:
    instance = tmp_path / "instance"
    killed, killed_folder = _uploading(instance)
    running, running_folder = _uploading(instance)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        _age(killed_folder)
        _age(running_folder)
        just_made = instance / "uploads" / "upload-just-made"  # not yet locked by its process
        just_made.mkdir()
        other = instance / "uploads" / "notes"
        other.mkdir()
        assert killed_folder.is_dir() and (killed_folder / "rec.dat").is_file()  # what kill -9 left behind

        make_app()
        assert not killed_folder.exists()
        assert (running_folder / "rec.dat").is_file() and just_made.is_dir() and other.is_dir()
    finally:
        running.kill()
        running.wait(timeout=30)
    _age(just_made)
    make_app()  # the next start: the upload that was running has ended without cleaning up
    assert not running_folder.exists() and not just_made.exists() and other.is_dir()


def test_recording_is_read_in_the_instance_and_leaves_nothing(app, client_for, world) -> None:
    x, _ = synthetic_ecg("N" * 20, 250.0)
    data = ("time,II\n" + "".join(f"{i / 250:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()
    client = client_for("doctor")
    assert upload_recording(client, world.p, [(data, "holter.csv")]).status_code == 302
    assert upload_recording(client, world.p, [(b"\x00\x01" * 100, "scan.csv")]).status_code == 400
    uploads = Path(app.instance_path) / "uploads"
    assert uploads.is_dir() and list(uploads.iterdir()) == []
