"""One settings spine (issue 25): the explainer holds its Settings and copies none of it; the
execution options reach the solver as one Execution; twins are ``settings.replace``; and the
constraints declared on a dataclass's fields drive one validator and the command-line flags.
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
from tiny_model import make_tiny_module

from prsg_widgets import Explainer, Settings, SettingsError, split_generator
from prsg_widgets.backend import explainer as explainer_module
from prsg_widgets.backend.constraints import (
    Flag,
    Integer,
    OneOf,
    Rule,
    Seed,
    argument_options,
    check_fields,
    command_line_fields,
    invalid_values,
    setting,
)
from prsg_widgets.defaults import DEFAULT_EXECUTION, Execution

# the attributes the explainer had as copies of its settings; they stay, read from the settings
READ_FROM_SETTINGS = ("config", "batch_size", "max_patches", "precision", "compile", "channels_last",
                      "baseline_samples", "baseline_seed", "progress", "execution")


def _tiny():
    return split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")


@pytest.fixture(scope="module")
def explainer():
    settings = Settings(model=_tiny(), grid=4, solver="tiny", overrides={"iterations": 20}, progress=False,
                        baseline_samples=16, precision="bf16", channels_last=True, batch_size=4, max_patches=5)
    with Explainer(settings=settings) as ex:
        yield ex


# ----------------------------------------------------------------------------- the explainer's settings
def test_the_explainer_holds_its_settings_and_copies_none(explainer):
    settings = explainer.settings
    for name in READ_FROM_SETTINGS:
        assert getattr(explainer, name) == getattr(settings, name), name
        assert name not in vars(explainer), f"{name} is a copy of a setting"
        with pytest.raises(AttributeError):
            setattr(explainer, name, getattr(settings, name))  # read-only: change the settings instead
    with pytest.raises(AttributeError):
        explainer.settings = settings.replace(grid=2)
    assert explainer.execution == Execution(precision="bf16", compile=False, channels_last=True)


def test_the_settings_given_are_the_settings_kept():
    settings = Settings(model=_tiny(), grid=4, progress=False, baseline_samples=8)
    with Explainer(settings=settings) as ex:
        assert ex.settings is settings


def test_the_solver_receives_the_one_execution(explainer, monkeypatch):
    seen = []
    real = explainer_module.solve_minimal_features

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(explainer_module, "solve_minimal_features", spy)
    explainer.explain(0, patches=[0, 5]).solve_all()
    assert seen, "the explainer did not solve through solve_minimal_features"
    for kwargs in seen:
        assert kwargs["execution"] is explainer.settings.execution
        assert not {"precision", "compile", "channels_last"} & set(kwargs)  # no loose options beside it


def test_execution_is_one_frozen_value_with_the_settings_defaults():
    assert Settings().execution == DEFAULT_EXECUTION == Execution()
    for f in dataclasses.fields(Execution):  # the settings declare the same fields, with its defaults
        assert Settings.__dataclass_fields__[f.name].default == f.default, f.name
    got = Settings.of(precision="bf16", compile=1).execution
    assert got == Execution(precision="bf16", compile=True, channels_last=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.precision = "fp32"  # type: ignore[misc]


def test_replace_makes_a_checked_twin_that_keeps_every_other_setting():
    s = Settings.of(preset="tiny", iterations=7, precision="bf16", channels_last=True, compile=True,
                    batch_size=3, max_patches=5, baseline_seed=2)
    twin = s.replace(solver="fast", overrides=())
    assert twin.solver == "fast" and twin.overrides == ()
    for f in dataclasses.fields(Settings):
        if f.name not in ("solver", "overrides"):
            assert getattr(twin, f.name) == getattr(s, f.name), f.name
    assert twin.execution == s.execution
    with pytest.raises(SettingsError, match="grid must be between 1 and 4096"):
        s.replace(grid=0)


# ----------------------------------------------------------------------------- constraints on any dataclass
def _odd(value, name):
    if value % 2 == 0:
        raise SettingsError(f"{name} must be odd, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class _Toy:
    count: int = setting(3, Integer(min=1, max=9), "--count", "how many")
    mode: str = setting("a", OneOf(options=("a", "b")), "--mode", "which way")
    on: bool = setting(False, Flag(), "--on", "a switch")
    seed: int | None = setting(None, Seed(optional=True))
    odd: int = setting(1, Rule(rule=_odd, bad=((2, "odd must be odd"),)), "--odd", "an odd number", metavar="K")
    free: object = None

    def __post_init__(self) -> None:
        check_fields(self)


def test_the_validator_checks_each_field_and_sets_its_canonical_value():
    toy = _Toy(count=np.int64(4), on=1, seed=None, free="anything")
    assert toy.count == 4 and type(toy.count) is int and toy.on is True and toy.seed is None
    assert _Toy(seed=np.int32(5)).seed == 5
    with pytest.raises(SettingsError, match="count must be between 1 and 9, got 0"):
        _Toy(count=0, mode="c")  # fields are checked in their order: the first bad one is named


@pytest.mark.parametrize("field, value, words", list(invalid_values(_Toy)))
def test_the_bad_values_of_a_constraint_are_refused(field, value, words):
    with pytest.raises(SettingsError, match=field) as err:
        _Toy(**{field: value})
    assert words in str(err.value)


def test_every_kind_of_constraint_makes_its_bad_values():
    made = {(field, repr(value)) for field, value, _ in invalid_values(_Toy)}
    assert {("count", "0"), ("count", "10"), ("count", "1.5"), ("count", "True"), ("count", "None")} <= made
    assert {("mode", "'not a or b'"), ("mode", "3"), ("seed", "1.5"), ("odd", "2")} <= made
    assert not [f for f, _ in made if f in ("on", "free")]  # a switch and a free field refuse nothing
    assert ("seed", "None") not in made  # optional: None is allowed


def test_the_flags_are_made_from_the_constraints():
    parser = argparse.ArgumentParser()
    for f in command_line_fields(_Toy):
        parser.add_argument(f.metadata["flag"], **argument_options(f))
    actions = {a.dest: a for a in parser._actions}
    assert actions["count"].type is int and actions["count"].help == "how many; an integer from 1 to 9"
    assert actions["mode"].choices == ("a", "b") and actions["mode"].help == "which way"
    assert isinstance(actions["on"], argparse._StoreTrueAction)
    assert actions["odd"].metavar == "K" and "seed" not in actions  # no flag declared: not on the command line
    args = parser.parse_args(["--count", "5", "--mode", "b", "--on"])
    parsed = _Toy(**{f.name: getattr(args, f.name) for f in command_line_fields(_Toy)})
    assert parsed == _Toy(count=5, mode="b", on=True)
    assert parser.parse_args([]).count == 3  # the field's default
