"""``Settings``: every setting of an explanation run, in one frozen object checked once.

The :class:`~prsg_widgets.backend.Explainer`, the worker description a Dask cluster rebuilds it
from (:class:`~prsg_widgets.backend.remote.ExplainerSpec`), :func:`prsg_widgets.sweep` and the
``prsg explain`` / ``prsg sweep`` commands are all built from a :class:`Settings`; their keyword
arguments are routed into one (:meth:`Settings.of`).  Every field is checked in
``__post_init__`` with the checks of :mod:`prsg_widgets.core.validate`, so a bad value fails
before a model loads or a cluster starts, with a
:class:`~prsg_widgets.core.errors.SettingsError` (a ``ValueError``) that names the field.

This module imports nothing heavy at import time (the checks import torch when they run), so
the command line can build its parser from the fields (:func:`add_arguments`) and answer
``--help`` without loading torch.
"""
from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from ..defaults import DEFAULT_MAX_PATCHES, DEFAULT_PRESET

if TYPE_CHECKING:  # pragma: no cover
    from ..core.solver import SolverConfig

__all__ = ["Settings", "add_arguments", "DEFAULT_N"]

DEFAULT_N = 4
"""Patches chosen on the foreground when neither ``n`` nor ``patches`` is given."""


def _cli(flag: str, help: str, **argparse_options: Any) -> dict:
    """Field metadata: how the command line spells the field (see :func:`add_arguments`)."""
    return {"cli": dict(flag=flag, help=help, **argparse_options)}


def parse_patch_list(text: str) -> list[int]:
    """``"3,8,14"`` → ``[3, 8, 14]`` (the ``--patches`` argument)."""
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--patches takes comma-separated ids like 3,8,14, got {text!r}") from None


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
    result.  ``precision``/``compile``/``channels_last`` are the solver's execution options;
    ``device`` ``None`` picks CUDA when available; ``batch_size`` ``None`` lets a memory budget
    choose; ``cache_dir`` keeps every solved subset on disk.  ``max_patches`` (default 12) bounds
    ``n``; ``baseline_samples``/``baseline_seed`` define the baseline ``b``; ``threads`` sets
    torch's threads on a Dask worker; ``progress`` shows the solver's progress bar.

    Every invalid field raises a :class:`~prsg_widgets.core.errors.SettingsError` (or its
    :class:`~prsg_widgets.core.errors.PatchError`) naming the field; an unknown model an
    :class:`~prsg_widgets.models.UnknownModelError`.  Build one with keywords, or with
    :meth:`of`, which also takes solver settings (``iterations=…``) and ``preset=``.
    """

    model: Any = field(default="dcgan-faces", metadata=_cli(
        "--model", "built-in model name (an unknown name lists them)", metavar="NAME"))
    layer: str | None = field(default=None, metadata=_cli(
        "--layer", "layer to split at (default: the model's middle layer)"))
    cheap: bool = field(default=False, metadata=_cli(
        "--cheap", "use the model's cheaper layer for quick CPU runs", action="store_true"))
    grid: int = field(default=6, metadata=_cli("--grid", "P of the P×P patch grid", type=int))
    n: int | None = field(default=None, metadata=_cli(
        "--n", f"number of patches, chosen on the foreground, when --patches is not given (default: {DEFAULT_N})",
        type=int))
    patches: tuple | None = field(default=None, metadata=_cli(
        "--patches", "explicit patch ids, e.g. 3,8,14,20 (id = row*P + col)", type=parse_patch_list))
    solver: Any = field(default=DEFAULT_PRESET, metadata=_cli(
        "--preset", "solver preset: interactive (nested; components that do not cancel) or fast (independent "
        "subsets; the paper's baseline for sparsity claims); an unknown name lists them all", metavar="PRESET"))
    overrides: tuple = ()
    precision: str = field(default="fp32", metadata=_cli(
        "--precision", "autocast of the generator tail (bf16 is part of the cache key)", metavar="{fp32,bf16}"))
    compile: bool = field(default=False, metadata=_cli(
        "--compile", "torch.compile the generator tail", action="store_true"))
    channels_last: bool = field(default=False, metadata=_cli(
        "--channels-last", "channels-last memory format for the generator tail", action="store_true"))
    device: Any = field(default=None, metadata=_cli(
        "--device", "cpu, cuda, cuda:1 … (default: cuda if available)"))
    batch_size: int | None = field(default=None, metadata=_cli(
        "--batch-size", "subsets per solver batch (default: from memory; fix it for bit-equal results "
        "across devices)", type=int))
    cache_dir: Any = field(default=None, metadata=_cli(
        "--cache-dir", "keep solves in this directory; a rerun solves only what is missing"))
    max_patches: int | None = field(default=None, metadata=_cli(
        "--max-patches", "the most patches an explanation may have "
        f"(2^n minimal features each; default: {DEFAULT_MAX_PATCHES})",
        type=int))
    baseline_samples: int = 1000
    baseline_seed: int = 0
    threads: int | None = None
    progress: Any = True

    def __post_init__(self) -> None:
        # the checks load torch; imported here so that importing this module stays light
        from ..core.errors import SettingsError
        from ..core.grid import check_num_patches
        from ..core.solver import SolverConfig, get_solver_config
        from ..core.validate import (
            check_grid,
            check_layer_name,
            check_n_matches_patches,
            check_patch_ids,
            check_positive_int,
            check_precision,
            check_seed,
            check_writable_dir,
        )
        from ..models import SplitGenerator, model_info

        def put(name: str, value: Any) -> None:  # canonical values, set once
            object.__setattr__(self, name, value)

        if isinstance(self.model, str):
            model_info(self.model)
        elif not isinstance(self.model, SplitGenerator):
            raise SettingsError(f"model must be a built-in name or a SplitGenerator, got {type(self.model).__name__}")
        if self.layer is not None:
            check_layer_name(self.layer, None)
        put("cheap", bool(self.cheap))
        put("grid", check_grid(self.grid))
        max_patches = (DEFAULT_MAX_PATCHES if self.max_patches is None
                       else check_positive_int(self.max_patches, "max_patches", max=30))
        put("max_patches", max_patches)
        if self.patches is not None:
            ids = check_patch_ids(self.patches, self.grid * self.grid, grid_size=self.grid, what="patches")
            if not ids:
                raise SettingsError("patches is empty; give patch ids such as [3, 8] or leave it out")
            check_n_matches_patches(self.n, ids)
            check_num_patches(len(ids), max_patches)
            put("patches", tuple(ids))
        if self.n is not None:
            put("n", check_num_patches(self.n, max_patches))
        solver = DEFAULT_PRESET if self.solver is None else self.solver
        if not isinstance(solver, (str, SolverConfig)):
            raise SettingsError(f"solver must be a preset name or a SolverConfig, got {type(solver).__name__}")
        put("solver", solver)
        pairs = self.overrides.items() if isinstance(self.overrides, Mapping) else self.overrides
        try:
            overrides = tuple(sorted((str(k), v) for k, v in pairs if v is not None))
        except (TypeError, ValueError):
            raise SettingsError("overrides must be solver settings as a mapping such as {'iterations': 100}, "
                                f"got {self.overrides!r}") from None
        put("overrides", overrides)
        get_solver_config(solver, **dict(overrides))  # unknown or out-of-range solver settings fail here
        put("precision", check_precision(self.precision))
        put("compile", bool(self.compile))
        put("channels_last", bool(self.channels_last))
        if self.device is not None and not isinstance(self.device, str):
            import torch

            if not isinstance(self.device, torch.device):
                raise SettingsError(f"device must be a string such as 'cpu' or 'cuda' (or a torch.device), "
                                    f"got {self.device!r}")
        if self.batch_size is not None:
            put("batch_size", check_positive_int(self.batch_size, "batch_size", max=1 << 20))
        if self.cache_dir is not None:
            check_writable_dir(self.cache_dir, "cache_dir")
        put("baseline_samples", check_positive_int(self.baseline_samples, "baseline_samples", max=10**7))
        put("baseline_seed", check_seed(self.baseline_seed, "baseline_seed"))
        if self.threads is not None:
            put("threads", check_positive_int(self.threads, "threads", max=4096))

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
        """A copy with ``keywords`` changed (the keywords of :meth:`of`), checked again."""
        return type(self).of(self, **keywords)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        """The settings of a command line parsed by a parser :func:`add_arguments` filled."""
        values = {f.name: getattr(args, f.name) for f in fields(cls) if "cli" in f.metadata}
        values["overrides"] = {name: getattr(args, name) for name, _ in _SOLVER_FLAGS}
        return cls(**values)

    # ------------------------------------------------------------------ derived
    @functools.cached_property
    def config(self) -> SolverConfig:
        """The solver settings: the preset (or config) with ``overrides`` applied."""
        from ..core.solver import get_solver_config

        return get_solver_config(self.solver, **dict(self.overrides))

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
    ``parser``, with the field's default; :meth:`Settings.from_args` reads them back.
    """
    group = parser.add_argument_group("settings (shared by explain and sweep)")
    for f in fields(Settings):
        spec = f.metadata.get("cli")
        if spec is None:
            continue
        options = {k: v for k, v in spec.items() if k != "flag"}
        group.add_argument(spec["flag"], dest=f.name, default=f.default, **options)
    solver = parser.add_argument_group("solver settings (default: the preset's)")
    for name, spec in _SOLVER_FLAGS:
        options = {k: v for k, v in spec.items() if k != "flag"}
        solver.add_argument(spec["flag"], dest=name, default=None, **options)
    return parser
