"""Private folders where uploaded files are read, under the instance folder, and the cleaning,
at start-up, of those that a killed worker (kill -9, out of memory) left behind.

A folder in use holds an exclusive ``flock`` on its ``.lock`` file; the kernel releases it when
its process dies, however it dies. So a folder whose lock can be taken belongs to no live
upload, whatever its age: ``clean_stale`` removes it, sparing only folders younger than a
grace period (the instant between a folder's creation and its lock).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: folders are then cleaned by age only
    fcntl = None

FOLDER = "uploads"
PREFIX = "upload-"
LOCK = ".lock"
GRACE_S = 60.0
UNLOCKED_AGE_S = 24 * 3600.0  # without flock, a folder this old is taken as abandoned


def root(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path) / FOLDER


@contextmanager
def upload_folder(instance_path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new private folder for one upload, locked while in use and removed afterwards."""
    base = root(instance_path)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=PREFIX, dir=base) as tmp:
        with open(Path(tmp) / LOCK, "w") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield Path(tmp)


def _in_use(folder: Path) -> bool:
    if fcntl is None:
        return time.time() - folder.stat().st_mtime < UNLOCKED_AGE_S
    try:
        with open(folder / LOCK, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on close
    except FileNotFoundError:
        return False  # made, but never locked: its process died at once
    except BlockingIOError:
        return True
    return False


def clean_stale(instance_path: str | os.PathLike[str], grace_s: float = GRACE_S) -> list[Path]:
    """Remove the upload folders that no live process holds; the folders removed."""
    base = root(instance_path)
    if not base.is_dir():
        return []
    removed = []
    now = time.time()
    for folder in base.iterdir():
        try:
            if not folder.name.startswith(PREFIX) or not folder.is_dir() or now - folder.stat().st_mtime < grace_s:
                continue
            if not _in_use(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except FileNotFoundError:  # removed meanwhile by its own upload, or by another worker
            continue
    return removed
