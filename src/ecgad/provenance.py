"""What a trained model records about how it was made: torch version, thread count and code commit.

The thread count matters because torch's CPU kernels sum in a thread-dependent order, so the exact
weights (and so the model id) of a retraining depend on it."""
from __future__ import annotations

import subprocess
from pathlib import Path

#: the checkout this package runs from, when it runs from one (``<repo>/src/ecgad``)
_REPO = Path(__file__).resolve().parent.parent.parent


def code_commit() -> str | None:
    """``git rev-parse HEAD`` of the checkout holding this package; None when installed elsewhere (an
    enclosing repository, e.g. one holding the virtual env, is not ours) or git is missing."""
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=_REPO, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != _REPO:
        return None
    return lines[1]


def training_environment() -> dict:
    """The three fields every newly trained model carries in its metadata."""
    import torch  # only when training: inference runs without torch

    return {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
            "code_commit": code_commit()}
