"""The command line's settings flags are made from the constraints declared on the Settings fields
(issue 25): their type, choices and allowed values come from there, and every bad value a
constraint makes is refused on the command line too, in one line that names the flag or field.
"""
from __future__ import annotations

import argparse

import pytest

from prsg_widgets import Settings, cli
from prsg_widgets.backend.constraints import Flag, Integer, OneOf, command_line_fields, constraint_of, invalid_values
from prsg_widgets.cli import build_parser, main
from prsg_widgets.defaults import PRECISION_CHOICES


def _explain_actions() -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["explain"]._actions}


def test_each_flag_says_what_its_constraint_says():
    actions = _explain_actions()
    fields = command_line_fields(Settings)
    assert {f.name for f in fields} <= set(actions)
    for f in fields:
        action, constraint = actions[f.name], constraint_of(f)
        assert action.option_strings == [f.metadata["flag"]] and action.default == f.default, f.name
        if isinstance(constraint, Integer):
            assert action.type is int and constraint.describe() in action.help, f.name
        elif isinstance(constraint, OneOf):
            assert tuple(action.choices) == constraint.options, f.name
        elif isinstance(constraint, Flag):
            assert isinstance(action, argparse._StoreTrueAction), f.name
    assert tuple(actions["precision"].choices) == PRECISION_CHOICES  # the one list of precisions
    assert "an integer from 1 to 4096" in actions["grid"].help
    assert "an integer from 1 to 30" in actions["max_patches"].help


# every bad value a constraint makes that a command line can spell: an integer for a flag of type
# int, a word for a flag that takes words as they are ("1" is a bad grid in Python but the good
# --grid 1 on the command line; 5 is a bad layer in Python but --layer 5 gives the word "5")
FLAGS = {f.name: f.metadata["flag"] for f in command_line_fields(Settings)}
TYPES = {f.name: constraint_of(f).argparse().get("type", str) for f in command_line_fields(Settings)}
BAD_ON_THE_COMMAND_LINE = [
    (field, str(value), words) for field, value, words in invalid_values(Settings, only=list(FLAGS))
    if (TYPES[field] is int and isinstance(value, int) and not isinstance(value, bool))
    or (TYPES[field] is str and isinstance(value, str) and value.strip())]


@pytest.mark.parametrize("field, text, words", BAD_ON_THE_COMMAND_LINE,
                         ids=[f"{f}={t}" for f, t, _ in BAD_ON_THE_COMMAND_LINE])
def test_a_bad_value_on_the_command_line_is_one_line_naming_it(tmp_path, capsys, monkeypatch, field, text, words):
    def accepted(*args):
        raise AssertionError(f"{FLAGS[field]} {text} was accepted")

    monkeypatch.setattr(cli, "_explain_into", accepted)  # nothing is loaded or solved
    try:
        rc = main(["explain", "--out", str(tmp_path / "out"), FLAGS[field], text])
    except SystemExit as exc:  # refused by argparse (choices, an int that is not one)
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert field in err or FLAGS[field] in err, err
    assert not (tmp_path / "out" / "explanation.npz").exists()


def test_the_command_line_covers_the_constrained_flags():
    covered = {field for field, _, _ in BAD_ON_THE_COMMAND_LINE}
    assert {"grid", "n", "precision", "batch_size", "max_patches", "solver", "model"} <= covered
