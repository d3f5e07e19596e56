"""Options shared by several commands: many-valued ``--seeds`` and ``--records``, ``--arch``."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from ecgad.cli import evaluate_command, main
from ecgad.cli.train import train
from ecgad.nn import ARCHITECTURES

EVALUATE = ["evaluate", "--data", "x", "--protocol", "ucr"]


def records_of(*args: str) -> tuple[str, ...]:
    ctx = train.make_context("train", ["--data", "x", "--data-format", "wfdb", "--out", "m.safetensors", *args])
    return ctx.params["records"]


def test_records_accept_every_spelling():
    assert records_of() == ()
    assert records_of("--records", "101", "106", "108") == ("101", "106", "108")
    assert records_of("--records", "101", "--seed", "1", "--records", "106") == ("101", "106")
    assert records_of("--records=101", "106,108", "--seed", "2") == ("101", "106", "108")
    assert records_of("--records", "101 106,108") == ("101", "106", "108")


def test_options_after_the_seeds_still_count():
    ctx = evaluate_command.make_context("evaluate", ["--data", "x", "--seeds", "4", "2", "--json", "--protocol",
                                                     "resplit", "--seeds", "7"])
    # Each --seeds' first value, then the others: click parses options before arguments.
    assert ctx.params["seeds"] == (4, 7, 2) and ctx.params["as_json"] and ctx.params["protocol"] == "resplit"


@pytest.mark.parametrize("args, message", [
    (["3"], "Got unexpected extra argument (3)"),  # a value with no --seeds before it is no seed
    (["3", "4"], "Got unexpected extra arguments (3 4)"),
    (["--seeds", "1", "x"], "Invalid value for '--seeds': 'x' is not a seed (a whole number >= 0)"),
    (["--seeds", "1,2", "-1"], "No such option '-1'"),
    (["--seeds", "1", "2", "--seeds", "2"], "Invalid value for '--seeds': seeds repeat: 1 2 2"),
])
def test_bad_seed_lists_are_usage_errors_that_say_why(args, message):
    result = CliRunner().invoke(main, [*EVALUATE, *args])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_extra_values_go_nowhere_else():
    result = CliRunner().invoke(main, ["train", "--data", "x", "--out", "m.safetensors", "101"])
    assert result.exit_code == 2 and "Got unexpected extra argument (101)" in result.stderr


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_usage_line_shows_options_only(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert f"Usage: main {command} [OPTIONS]\n" in result.output
    assert "TAIL" not in result.output


@pytest.mark.parametrize("args", [EVALUATE, ["train", "--data", "x", "--out", "m.safetensors"]])
def test_arch_choices_are_the_registered_architectures(args):
    names = tuple(ARCHITECTURES)
    result = CliRunner().invoke(main, [args[0], "--help"])
    assert f"[{'|'.join(names)}]" in result.output
    result = CliRunner().invoke(main, [*args, "--arch", "nope"])
    assert result.exit_code == 2
    assert "'nope' is not one of " + ", ".join(repr(n) for n in names) in result.stderr
