"""The ``ecgad`` command: data, train, score, evaluate, serve.

Errors in what the user gave (a bad file, a bad option) exit with code 2 and
one line on stderr.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click


def fail(message: str) -> None:
    """Exit with code 2 and one line on stderr."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="ecgad")
def main() -> None:
    """Find abnormal heartbeats in ECG signals."""


# ------------------------------------------------------------------ data (data helper)
@main.group()
def data() -> None:
    """Download and split data sets."""


# ------------------------------------------------------------------ train / score (core)


# ------------------------------------------------------------------ evaluate (evaluation helper)


# ------------------------------------------------------------------ serve / users (web helper)


if __name__ == "__main__":
    main()
