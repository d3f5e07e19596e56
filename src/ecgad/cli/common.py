"""What the command modules share: the exit-2 error, ``--data``, options that take several values."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource

from ecgad.nn import ARCHITECTURES

ARCH_CHOICE = click.Choice(tuple(ARCHITECTURES))  # ``--arch``: the registered autoencoders


def fail(message: str) -> None:
    """Exit with code 2 and one line on stderr."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def require_training(command: str) -> None:
    """Exit 2 with a clear line when the training extra (torch, scikit-learn) is not installed:
    scoring, analysing and serving run without it, training and evaluating do not."""
    from ecgad.onnx_runtime import importable

    missing = [m for m in ("torch", "sklearn") if not importable(m)]
    if missing:
        fail(f"`ecgad {command}` needs {' and '.join(missing)}, which this install leaves out: "
             f"pip install 'ecgad[train]'")


def database_problem(exc: Exception) -> str:
    """One line for a database that cannot be opened (SQLAlchemy's messages run over many lines)."""
    return f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"


def data_dir_option(command: click.decorators.FC) -> click.decorators.FC:
    """``--data DIR`` (env ``ECGAD_DATA_DIR``, required), passed as ``data_dir: Path``."""
    return click.option(
        "--data", "data_dir", envvar="ECGAD_DATA_DIR", show_envvar=True, required=True,
        type=click.Path(path_type=Path),  # existence is checked by the loaders, with a clearer message
        help="Folder holding the data sets (or the data set's own folder); for train and evaluate also "
             "a labelled beat file of one's own (with --normal-label).",
    )(command)


class _Tail(click.Argument):
    """The values after a many-valued option's first: in ``--seeds 0 1 2``, click gives ``--seeds`` its
    one value, ``0``, and leaves ``1 2`` as arguments, which this collects. Hidden from the usage line."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return []


def many_values_option(name: str, convert: Callable[[list[str]], tuple], **kwargs) -> Callable:
    """An option that takes several values in any of these spellings, for a command without arguments:
    ``--seeds 0 1 2``, ``--seeds 0 --seeds 1 --seeds 2``, ``--seeds=0 1 2``, ``--seeds "0,1 2"``.

    ``convert`` turns every value given, split at commas and spaces, into the parameter's value
    (``[]`` when the option is not given); it raises ``click.BadParameter`` for a bad one.
    """
    key = name.lstrip("-").replace("-", "_")

    def tokens(values) -> list[str]:
        return " ".join(values).replace(",", " ").split()

    def given(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple:
        ctx.meta[f"ecgad.{key}"] = values
        return convert(tokens(values))

    def more(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> None:
        if not values:
            return
        # Options on the command line are processed before arguments: the option's own values are in.
        if ctx.get_parameter_source(key) is not ParameterSource.COMMANDLINE:
            s = "s" if len(values) > 1 else ""
            raise click.UsageError(f"Got unexpected extra argument{s} ({' '.join(values)})", ctx=ctx)
        option = next(p for p in ctx.command.params if p.name == key)
        try:
            ctx.params[key] = convert(tokens(ctx.meta[f"ecgad.{key}"] + values))
        except click.BadParameter as e:
            e.ctx, e.param = ctx, option
            raise

    def decorate(command: click.decorators.FC) -> click.decorators.FC:
        command = click.argument(f"{key}_tail", cls=_Tail, nargs=-1, expose_value=False, callback=more)(command)
        return click.option(name, multiple=True, callback=given, **kwargs)(command)

    return decorate
