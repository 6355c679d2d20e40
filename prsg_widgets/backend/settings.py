"""``Settings``: every setting of an explanation run, in one frozen object checked once.

The :class:`~prsg_widgets.backend.Explainer`, the worker description a Dask cluster rebuilds it
from (:class:`~prsg_widgets.backend.remote.ExplainerSpec`), :func:`prsg_widgets.sweep` and the
``prsg explain`` / ``prsg sweep`` commands are all built from a :class:`Settings`; their keyword
arguments are routed into one (:meth:`Settings.of`).  What each field accepts is declared once,
on the field (:mod:`~prsg_widgets.backend.constraints`), and checked in ``__post_init__`` by one
validator with the checks of :mod:`prsg_widgets.core.validate`, so a bad value fails before a
model loads or a cluster starts, with a :class:`~prsg_widgets.core.errors.SettingsError` (a
``ValueError``) that names the field.  The same declarations make the command line's flags.

This module imports nothing heavy at import time (the checks import torch when they run), so
the command line can build its parser from the fields (:func:`add_arguments`) and answer
``--help`` without loading torch.
"""
from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from ..defaults import (
    DEFAULT_EXECUTION,
    DEFAULT_MAX_PATCHES,
    DEFAULT_PRESET,
    PRECISION_CHOICES,
    Execution,
)
from .constraints import Flag, Integer, OneOf, Rule, Seed, argument_options, check_fields, command_line_fields, setting

if TYPE_CHECKING:  # pragma: no cover
    from ..core.solver import SolverConfig

__all__ = ["DEFAULT_N", "Execution", "Settings", "add_arguments"]

DEFAULT_N = 4
"""Patches chosen on the foreground when neither ``n`` nor ``patches`` is given."""


def parse_patch_list(text: str) -> list[int]:
    """``"3,8,14"`` → ``[3, 8, 14]`` (the ``--patches`` argument)."""
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--patches takes comma-separated ids like 3,8,14, got {text!r}") from None


# ------------------------------------------------------------------ the rules of single fields
# (what a range or a list of options cannot say; the checks import torch when they run)
def _model(value: Any, name: str) -> Any:
    from ..core.errors import SettingsError
    from ..models import SplitGenerator, model_info

    if isinstance(value, str):
        model_info(value)  # an UnknownModelError lists the names
    elif not isinstance(value, SplitGenerator):
        raise SettingsError(f"{name} must be a built-in name or a SplitGenerator, got {type(value).__name__}")
    return value


def _layer(value: Any, name: str) -> Any:
    from ..core.validate import check_layer_name

    check_layer_name(value, None, what=name)
    return value


def _patch_ids(value: Any, name: str) -> tuple[int, ...]:
    from ..core.errors import SettingsError
    from ..core.validate import check_patch_ids

    ids = check_patch_ids(value, None, what=name)  # within the grid: Settings._check_together
    if not ids:
        raise SettingsError(f"{name} is empty; give patch ids such as [3, 8] or leave it out")
    return tuple(ids)


def _solver(value: Any, name: str) -> Any:
    from ..core.errors import SettingsError
    from ..core.solver import SolverConfig, get_solver_config

    if value is None:
        return DEFAULT_PRESET
    if not isinstance(value, (str, SolverConfig)):
        raise SettingsError(f"{name} must be a preset name or a SolverConfig, got {type(value).__name__}")
    get_solver_config(value)  # an unknown preset lists the presets
    return value


def _overrides(value: Any, name: str) -> tuple:
    from ..core.errors import SettingsError

    pairs = value.items() if isinstance(value, Mapping) else value
    try:
        return tuple(sorted((str(k), v) for k, v in pairs if v is not None))
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be solver settings as a mapping such as {{'iterations': 100}}, "
                            f"got {value!r}") from None


def _device(value: Any, name: str) -> Any:
    from ..core.errors import SettingsError

    if not isinstance(value, str):
        import torch

        if not isinstance(value, torch.device):
            raise SettingsError(f"{name} must be a string such as 'cpu' or 'cuda' (or a torch.device), "
                                f"got {value!r}")
    return value


def _writable_dir(value: Any, name: str) -> Any:
    from ..core.validate import check_writable_dir

    check_writable_dir(value, name)
    return value


@dataclass(frozen=True)
class Settings:
    """What to explain and how: the model, the patches, the solver and where it runs.

    ``model`` is a built-in name (:data:`prsg_widgets.models.MODELS`) or, for an explainer in this
    process only, a :class:`~prsg_widgets.models.SplitGenerator`; ``layer`` the layer to split a
    built-in model at (``None``: its middle layer; ``cheap=True``: its cheaper layer).  ``grid``
    is P of the P×P patch grid; ``patches`` explicit patch ids, else ``n`` patches (default 4) on
    the foreground; with ids, ``n`` is their number.  ``solver`` is a preset name or a
    :class:`~prsg_widgets.core.solver.SolverConfig` and ``overrides`` single solver settings
    (``{"iterations": 100}``, kept as sorted ``(name, value)`` pairs); :attr:`config` is the
    result.  ``precision``/``compile``/``channels_last`` are the solver's execution options, handed
    on as one :attr:`execution`; ``device`` ``None`` picks CUDA when available; ``batch_size``
    ``None`` lets a memory budget choose; ``cache_dir`` keeps every solved subset on disk.
    ``max_patches`` (default 12) bounds ``n``; ``baseline_samples``/``baseline_seed`` define the
    baseline ``b``; ``threads`` sets torch's threads on a Dask worker; ``progress`` shows the
    solver's progress bar.

    What each field accepts is declared once, on the field (:mod:`~prsg_widgets.backend.constraints`):
    it drives the checks, the command line's flags and the tests of bad values.  Every invalid
    field raises a :class:`~prsg_widgets.core.errors.SettingsError` (or its
    :class:`~prsg_widgets.core.errors.PatchError`) naming the field; an unknown model an
    :class:`~prsg_widgets.models.UnknownModelError`.  Build one with keywords, or with
    :meth:`of`, which also takes solver settings (``iterations=…``) and ``preset=``; change one
    with :meth:`replace`.
    """

    model: Any = setting("dcgan-faces", Rule(rule=_model, bad=(
        (3, "model must be a built-in name or a SplitGenerator"), ("dcgan-face", "did you mean dcgan-faces"))),
        "--model", "built-in model name (an unknown name lists them)", metavar="NAME")
    layer: str | None = setting(None, Rule(rule=_layer, optional=True, bad=(
        ("  ", "layer name is empty; give a layer name"), (5, "layer must be a name"))),
        "--layer", "layer to split at (default: the model's middle layer)")
    cheap: bool = setting(False, Flag(), "--cheap", "use the model's cheaper layer for quick CPU runs")
    grid: int = setting(6, Integer(min=1, max=4096), "--grid", "P of the P×P patch grid")
    n: int | None = setting(None, Integer(min=1, optional=True), "--n",
                            "number of patches, chosen on the foreground, when --patches is not given "
                            f"(default: {DEFAULT_N})")
    patches: tuple | None = setting(None, Rule(rule=_patch_ids, optional=True, parse=parse_patch_list, bad=(
        ([3, 3], "patches must be distinct"), ([1.0], "patches must be integers"),
        ("12", "patches must be integers, got the string"), ([], "patches is empty; give patch ids"),
        ([99], "a 6×6 grid has ids 0..35"))),
        "--patches", "explicit patch ids, e.g. 3,8,14,20 (id = row*P + col)")
    solver: Any = setting(DEFAULT_PRESET, Rule(rule=_solver, bad=(
        ("nope", "unknown solver preset 'nope'; presets: "), (3, "solver must be a preset name or a SolverConfig"))),
        "--preset", "solver preset: interactive (nested; components that do not cancel) or fast (independent "
        "subsets; the paper's baseline for sparsity claims); an unknown name lists them all", metavar="PRESET")
    overrides: tuple = setting((), Rule(rule=_overrides, bad=(
        (5, "overrides must be solver settings as a mapping"),
        ({"iterations": 0}, "solver setting iterations must be between 1"),
        ({"lr": float("nan")}, "solver setting lr must be a finite number"),
        ({"bogus": 1}, "unknown solver settings ['bogus']"))))
    precision: str = setting(DEFAULT_EXECUTION.precision, OneOf(options=PRECISION_CHOICES), "--precision",
                             "the generator tail's precision: fp32; mixed (bf16 steps, every answer checked in "
                             "fp32); bf16; or auto (mixed where the device has a bf16 matrix engine, else fp32); "
                             "part of the cache key")
    compile: bool = setting(DEFAULT_EXECUTION.compile, Flag(), "--compile", "torch.compile the generator tail")
    channels_last: bool = setting(DEFAULT_EXECUTION.channels_last, Flag(),
                                  "--channels-last", "channels-last memory format for the generator tail")
    device: Any = setting(None, Rule(rule=_device, optional=True, bad=((3, "device must be a string such as 'cpu'"),)),
                          "--device", "cpu, cuda, cuda:1 … (default: cuda if available)")
    batch_size: int | None = setting(None, Integer(min=1, max=1 << 20, optional=True), "--batch-size",
                                     "subsets per solver batch (default: from memory; fix it for bit-equal "
                                     "results across devices)")
    cache_dir: Any = setting(None, Rule(rule=_writable_dir, optional=True), "--cache-dir",
                             "keep solves in this directory; a rerun solves only what is missing")
    max_patches: int | None = setting(None, Integer(min=1, max=30, optional=True), "--max-patches",
                                      "the most patches an explanation may have "
                                      f"(2^n minimal features each; default: {DEFAULT_MAX_PATCHES})")
    baseline_samples: int = setting(1000, Integer(min=1, max=10**7))
    baseline_seed: int = setting(0, Seed())
    threads: int | None = setting(None, Integer(min=1, max=4096, optional=True))
    progress: Any = True

    def __post_init__(self) -> None:
        check_fields(self)  # each field against its constraint, canonical values set once
        self._check_together()

    def _check_together(self) -> None:
        """The rules that tie fields together (each field is checked on its own before)."""
        from ..core.grid import check_num_patches
        from ..core.solver import get_solver_config
        from ..core.validate import check_n_matches_patches, check_patch_ids

        limit = DEFAULT_MAX_PATCHES if self.max_patches is None else self.max_patches
        object.__setattr__(self, "max_patches", limit)
        if self.patches is not None:
            check_patch_ids(self.patches, self.grid * self.grid, grid_size=self.grid, what="patches")
            check_n_matches_patches(self.n, self.patches)
            check_num_patches(len(self.patches), limit)
        if self.n is not None:
            check_num_patches(self.n, limit)
        get_solver_config(self.solver, **dict(self.overrides))  # unknown or out-of-range solver settings fail here

    # ------------------------------------------------------------------ building
    @classmethod
    def of(cls, base: Settings | None = None, **keywords: Any) -> Settings:
        """Settings from keywords, on top of ``base`` (default: the defaults).

        Keywords are fields, ``preset`` (the same as ``solver``), ``generator`` (the same as
        ``model``) or single solver settings such as ``iterations=300`` (merged into
        ``overrides``; ``None`` values are left out).  An unknown name is a
        :class:`~prsg_widgets.core.errors.SettingsError` listing the solver settings.
        """
        from ..core.errors import SettingsError

        names = {f.name for f in fields(cls)}
        for alias, name in (("preset", "solver"), ("generator", "model")):
            if alias in keywords:
                if name in keywords:
                    raise SettingsError(f"give {name}= or {alias}=, not both (they are the same setting)")
                keywords[name] = keywords.pop(alias)
        values = {} if base is None else {f.name: getattr(base, f.name) for f in fields(cls)}
        overrides = dict(values.get("overrides", ()))
        given = keywords.pop("overrides", None)
        if given is not None:
            overrides = dict(given.items() if isinstance(given, Mapping) else given)
        for key in [k for k in keywords if k not in names]:
            overrides[key] = keywords.pop(key)
        values.update(keywords)
        values["overrides"] = overrides
        return cls(**values)

    def replace(self, **keywords: Any) -> Settings:
        """A copy with ``keywords`` changed (the keywords of :meth:`of`: fields, ``preset``,
        single solver settings), checked again — how a twin with another solver or device is made.
        """
        return type(self).of(self, **keywords)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        """The settings of a command line parsed by a parser :func:`add_arguments` filled."""
        values = {f.name: getattr(args, f.name) for f in command_line_fields(cls)}
        values["overrides"] = {name: getattr(args, name) for name, _ in _SOLVER_FLAGS}
        return cls(**values)

    # ------------------------------------------------------------------ derived
    @functools.cached_property
    def config(self) -> SolverConfig:
        """The solver settings: the preset (or config) with ``overrides`` applied."""
        from ..core.solver import get_solver_config

        return get_solver_config(self.solver, **dict(self.overrides))

    @functools.cached_property
    def execution(self) -> Execution:
        """The solver's execution options (``precision``, ``compile``, ``channels_last``) as one value."""
        return Execution(**{f.name: getattr(self, f.name) for f in fields(Execution)})

    @property
    def num_patches(self) -> int:
        """How many patches an explanation has: ``len(patches)``, else ``n``, else 4."""
        if self.patches is not None:
            return len(self.patches)
        return DEFAULT_N if self.n is None else self.n

    @property
    def preset_name(self) -> str | None:
        """The preset's name, or ``None`` when ``solver`` is a ``SolverConfig``."""
        return self.solver if isinstance(self.solver, str) else None


_SOLVER_FLAGS: tuple[tuple[str, dict], ...] = (
    ("iterations", dict(flag="--iterations", type=int, help="override the preset's iterations per subset")),
    ("lr", dict(flag="--lr", type=float, help="override the preset's learning rate")),
    ("nested", dict(flag="--nested", action="store_const", const=True,
                    help="solve subsets by increasing size under the union bound (fast; see the README)")),
    ("constraint", dict(flag="--constraint", metavar="{patch,mean}",
                        help="every patch within ε (patch) or one mse over T (mean, the literal Eq. 5) "
                             "(default: the preset's)")),
    ("init", dict(flag="--init", type=float, help="start value of the masks (default: the preset's, 0: f_T = b)")),
)
"""The solver settings the command line can override (``None``: the preset's value)."""


_P = TypeVar("_P", bound=argparse.ArgumentParser)


def add_arguments(parser: _P) -> _P:
    """Add one flag per command-line field of :class:`Settings` (and the solver overrides) to
    ``parser``, with the field's default and, from its constraint, its type, choices and allowed
    values; :meth:`Settings.from_args` reads them back.
    """
    group = parser.add_argument_group("settings (shared by explain and sweep)")
    for f in command_line_fields(Settings):
        group.add_argument(f.metadata["flag"], **argument_options(f))
    solver = parser.add_argument_group("solver settings (default: the preset's)")
    for name, spec in _SOLVER_FLAGS:
        options = {k: v for k, v in spec.items() if k != "flag"}
        solver.add_argument(spec["flag"], dest=name, default=None, **options)
    return parser
