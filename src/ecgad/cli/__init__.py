"""The ``ecgad`` command: data, train, score, evaluate, analyze, serve, users, tokens, replay, export.

Errors in what the user gave (a bad file, a bad option) exit with code 2 and
one line on stderr (``common.fail``).
"""
from __future__ import annotations

import click

from .analyze import analyze
from .data import data
from .evaluate import evaluate_command
from .export import export
from .replay import replay
from .score import score
from .serve import serve
from .tokens import tokens
from .train import train
from .users import users


@click.group()
@click.version_option(package_name="ecgad")
def main() -> None:
    """Find abnormal heartbeats in ECG signals."""


for _command in (data, train, score, evaluate_command, analyze, serve, users, tokens, replay, export):
    main.add_command(_command)

__all__ = ["evaluate_command", "main"]
