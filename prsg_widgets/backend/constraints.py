"""Constraints declared once on the fields of a settings dataclass, and what they drive.

A field says what it accepts in one place, its metadata (:func:`setting`): a :class:`Constraint`
(:class:`Integer`, :class:`Seed`, :class:`OneOf`, :class:`Flag`, or a :class:`Rule` — a named
check for what a range or a list of options cannot say), and, for the command line, its flag and
help.  From that one declaration

* :func:`check_fields` — the one validator — checks every field and sets its canonical value,
  raising a :class:`~prsg_widgets.core.errors.SettingsError` that names the field;
* :func:`argument_options` builds the field's ``argparse`` flag (``type``, ``choices``,
  ``action``, the allowed values in the help);
* :func:`invalid_values` yields, for every constrained field, values it must refuse and the words
  the refusal must say (the generated bad-value tests).

Checks that involve several fields (patch ids within the grid, ``n`` within ``max_patches``)
belong to the class that owns the fields, after :func:`check_fields`.

This module imports nothing heavy: the checks import :mod:`prsg_widgets.core.validate` (torch)
when they run, so a parser built from the constraints answers ``--help`` without loading torch.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Constraint", "Flag", "Integer", "OneOf", "Rule", "Seed", "argument_options", "check_fields",
           "constraint_of", "invalid_values", "setting"]

Check = Callable[[Any, str], Any]
"""A check: ``(value, field name) → the canonical value``, or a ``SettingsError`` naming the field."""


@dataclass(frozen=True, kw_only=True)
class Constraint:
    """What one field accepts; ``optional``: ``None`` too (kept as ``None``)."""

    optional: bool = False

    def check(self, value: Any, name: str) -> Any:
        """``value`` in its canonical form, or a ``SettingsError`` naming ``name``."""
        raise NotImplementedError

    def describe(self) -> str | None:
        """The allowed values in words, for ``--help`` (``None``: the flag already shows them)."""
        return None

    def argparse(self) -> dict[str, Any]:
        """``argparse`` options of the field's flag (``type``, ``choices``, ``action``)."""
        return {}

    def bad_values(self) -> list[tuple[Any, str]]:
        """``(value, words)``: values the check refuses, each with words its message must hold."""
        return []

    def _none_is_bad(self, words: str) -> list[tuple[Any, str]]:
        return [] if self.optional else [(None, words)]


@dataclass(frozen=True, kw_only=True)
class Integer(Constraint):
    """A true integer (not a bool, not ``3.0``) in ``min..max`` (``max=None``: no upper bound)."""

    min: int
    max: int | None = None

    def need(self) -> str:
        """The bounds, as the check's message says them."""
        return f"between {self.min} and {self.max}" if self.max is not None else f"at least {self.min}"

    def check(self, value: Any, name: str) -> int:
        """See :meth:`Constraint.check`."""
        from ..core.validate import check_int

        return check_int(value, name, min=self.min, max=self.max)

    def describe(self) -> str:
        """See :meth:`Constraint.describe`."""
        return f"an integer from {self.min} to {self.max}" if self.max is not None else f"an integer ≥ {self.min}"

    def argparse(self) -> dict[str, Any]:
        """See :meth:`Constraint.argparse`."""
        return {"type": int}

    def bad_values(self) -> list[tuple[Any, str]]:
        """See :meth:`Constraint.bad_values`."""
        bad = [(self.min - 1, self.need()), (self.min + 0.5, "must be an integer"),
               (True, "must be an integer, got a bool"), (str(self.min), "must be an integer")]
        if self.max is not None:
            bad.append((self.max + 1, self.need()))
        return bad + self._none_is_bad("must be an integer")


@dataclass(frozen=True, kw_only=True)
class Seed(Constraint):
    """A seed torch's generators accept (:data:`~prsg_widgets.core.validate.SEED_RANGE`)."""

    def check(self, value: Any, name: str) -> int:
        """See :meth:`Constraint.check`."""
        from ..core.validate import check_seed

        return check_seed(value, name)

    def argparse(self) -> dict[str, Any]:
        """See :meth:`Constraint.argparse`."""
        return {"type": int}

    def bad_values(self) -> list[tuple[Any, str]]:
        """See :meth:`Constraint.bad_values`."""
        return [(1.5, "must be an integer"), (2**64, "must be between"), (True, "must be an integer, got a bool"),
                *self._none_is_bad("must be an integer")]


@dataclass(frozen=True, kw_only=True)
class OneOf(Constraint):
    """One of the strings ``options``."""

    options: tuple[str, ...]

    def check(self, value: Any, name: str) -> str:
        """See :meth:`Constraint.check`."""
        from ..core.validate import check_choice

        return check_choice(value, name, self.options)

    def argparse(self) -> dict[str, Any]:
        """See :meth:`Constraint.argparse`."""
        return {"choices": self.options}

    def bad_values(self) -> list[tuple[Any, str]]:
        """See :meth:`Constraint.bad_values`."""
        words = f"must be one of {self.options}"
        return [(f"not {' or '.join(self.options)}", words), (3, words), *self._none_is_bad(words)]


@dataclass(frozen=True, kw_only=True)
class Flag(Constraint):
    """A switch: any value, kept as its truth (``cheap=1`` is ``True``); nothing to refuse."""

    def check(self, value: Any, name: str) -> bool:
        """See :meth:`Constraint.check`."""
        return bool(value)

    def argparse(self) -> dict[str, Any]:
        """See :meth:`Constraint.argparse`."""
        return {"action": "store_true"}


@dataclass(frozen=True, kw_only=True)
class Rule(Constraint):
    """A named check for what a range or options cannot say (a model name, a folder one can
    write to), with the values it refuses (``bad``) and the command line's parser (``parse``).
    """

    rule: Check
    bad: tuple[tuple[Any, str], ...] = ()
    parse: Callable[[str], Any] | None = None

    def check(self, value: Any, name: str) -> Any:
        """See :meth:`Constraint.check`."""
        return self.rule(value, name)

    def argparse(self) -> dict[str, Any]:
        """See :meth:`Constraint.argparse`."""
        return {} if self.parse is None else {"type": self.parse}

    def bad_values(self) -> list[tuple[Any, str]]:
        """See :meth:`Constraint.bad_values`."""
        return list(self.bad)


# ---------------------------------------------------------------------------------------- fields
def setting(default: Any, constraint: Constraint | None = None, flag: str | None = None, help: str = "",
            **cli: Any) -> Any:
    """A dataclass field with its ``constraint`` and, when ``flag`` is given, its command-line flag
    (``help``; ``cli``: presentation such as ``metavar``, never what the constraint says).
    """
    return dataclasses.field(default=default, metadata={
        "constraint": constraint, "flag": flag, "help": help, "cli": cli})


def constraint_of(field: dataclasses.Field) -> Constraint | None:
    """The constraint a field declares (``None``: it takes any value)."""
    return field.metadata.get("constraint")


def check_fields(obj: Any) -> None:
    """The one validator: check every constrained field of the dataclass ``obj`` in the order of
    its fields and set its canonical value (``obj`` may be frozen: this is its ``__post_init__``).
    """
    for field in dataclasses.fields(obj):
        constraint = constraint_of(field)
        value = getattr(obj, field.name)
        if constraint is None or (value is None and constraint.optional):
            continue
        object.__setattr__(obj, field.name, constraint.check(value, field.name))


def argument_options(field: dataclasses.Field) -> dict[str, Any]:
    """``add_argument`` keywords of a field with a flag: its name, default and help, with what the
    constraint says (``type``/``choices``/``action``, and the allowed values after the help).
    """
    constraint = constraint_of(field)
    text = field.metadata["help"]
    allowed = constraint.describe() if constraint is not None else None
    options = dict(dest=field.name, default=field.default, help=f"{text}; {allowed}" if allowed else text)
    options.update(constraint.argparse() if constraint is not None else {})
    options.update(field.metadata["cli"])
    return options


def command_line_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that have a command-line flag, in their order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("flag")]


def invalid_values(cls: type, only: Sequence[str] | None = None) -> Iterator[tuple[str, Any, str]]:
    """``(field, value, words)`` for every value a constrained field of ``cls`` refuses: made from
    the constraints, for tests that every refusal is a ``SettingsError`` saying these words.
    """
    for field in dataclasses.fields(cls):
        constraint = constraint_of(field)
        if constraint is not None and (only is None or field.name in only):
            for value, words in constraint.bad_values():
                yield field.name, value, words
