"""Solver settings: :class:`SolverConfig`, the named :data:`PRESETS` and :func:`get_solver_config`.

Every setting is checked in one place, :func:`prsg_widgets.core.validate.check_solver_settings`,
whether it comes as a keyword override or a :class:`SolverConfig` built directly.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ...defaults import DEFAULT_PRESET
from ..errors import SettingsError
from ..validate import check_solver_settings

SOLVER_VERSION = 3
"""Bumped whenever the solver can return other minimal features for the same settings (part of
every cache key): 3 = the bound stop, a shorter patience, the polish, per-block evaluation."""

CONSTRAINTS = ("patch", "mean")


def max_steps_of(iterations: int, restart: bool = True, polish: int = 0) -> int:
    """:attr:`SolverConfig.max_steps` from the three settings it depends on (saved solver
    settings are plain dicts, possibly of an older version).
    """
    return (2 if restart else 1) * int(iterations) + int(polish) + 2


def recorded_max_steps(solver: Mapping[str, Any]) -> int | None:
    """:func:`max_steps_of` saved solver settings (a plain dict, possibly from an older version:
    no ``restart`` means a restart, no ``polish`` none), or ``None`` when they hold no valid
    ``iterations`` or ``polish`` — a file check then falls back to the largest budget.
    """
    its, polish = solver.get("iterations"), solver.get("polish", 0)
    if not (isinstance(its, int) and its > 0 and isinstance(polish, int) and polish >= 0):
        return None
    return max_steps_of(its, bool(solver.get("restart", True)), polish)


def settle_iterations(config: SolverConfig) -> float:
    """Iterations a nested subset that starts on its bound but must move takes: a few steps up,
    then ``patience`` without improvement (the convergence stop), then the ``polish`` — what a
    progress model expects of a climb before any has finished.
    """
    return 5.0 + config.patience + config.polish


@dataclass(frozen=True)
class SolverConfig:
    """Settings of the minimal-feature optimisation (Eq. 10).

    ``epsilon`` is the mse tolerance on a [-1, 1] image (rescaled to other value ranges by
    :meth:`epsilon_for`); ``lam`` is λ.  ``init`` is the start value of every mask element
    (0: ``f_T = b``).  ``constraint`` is ``"patch"`` (every patch of ``T`` within ε, default) or
    ``"mean"`` (one mse over all of T's pixels).  ``nested`` solves subsets by increasing size
    under the union bound of their maximal proper subsets.

    When a subset stops (see :mod:`prsg_widgets.core.solver.steps` for why these rules):

    * ``bound_stop`` (nested only): at its first step, when the union bound already puts every
      patch within ε — on the bound the L1 objective is minimal, since the bound only lets it grow;
    * otherwise, once feasible, when its objective has not improved by a fraction ``rel_tol`` for
      ``patience`` steps, or after ``iterations`` steps; then, with ``polish`` > 0, it goes back
      to its best feasible iterate and runs ``polish`` sign steps that halve at each sign flip
      (Rprop), so it settles on the tolerance boundary (where the minimum of Eq. 10 lies)
      instead of circling it; it returns the last feasible iterate of the polish.

    ``restart``: a subset never feasible when its violation stopped falling for ``patience`` steps,
    or when its budget is spent, starts once more from ``m = 1`` with a fresh budget.  ``margin``:
    the penalty aims at ``(1 − margin)·ε`` so iterates settle strictly within ε.
    """

    lr: float = 1e-3
    iterations: int = 10_000
    lam: float = 200.0
    epsilon: float = 1e-3
    early_stop: bool = True
    patience: int = 100
    rel_tol: float = 1e-3
    init: float = 0.0
    constraint: str = "patch"
    nested: bool = False
    restart: bool = True
    margin: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    bound_stop: bool = True
    polish: int = 0

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        checked = check_solver_settings(values)
        for name, value in checked.items():  # canonical types (float, int, tuple), set once
            object.__setattr__(self, name, value)

    def epsilon_for(self, value_range: tuple[float, float]) -> float:
        """ε in the units of an image whose values span ``value_range`` (ε is set on [-1, 1])."""
        half = (value_range[1] - value_range[0]) / 2.0
        return self.epsilon * half * half

    @property
    def max_steps(self) -> int:
        """The most steps one subset can report: ``iterations`` (twice with ``restart``: a rescued
        subset gets a fresh budget), then ``polish`` steps and the step that ends the polish, plus
        one for the step that stops a climb.  File checks read this bound; it must never be below
        what the solver can legitimately record.
        """
        return max_steps_of(self.iterations, self.restart, self.polish)

    def as_dict(self) -> dict:
        """The settings as plain values (for metadata and cache keys)."""
        return asdict(self)

    def describe(self) -> str:
        """A short label for screens and logs, e.g. ``"nested, per patch ≤ ε, start m=0, ≤300 it, lr 0.02"``."""
        mode = "nested" if self.nested else "independent"
        rule = "per patch" if self.constraint == "patch" else "mean over T"
        return f"{mode}, {rule} ≤ ε, start m={self.init:g}, ≤{self.iterations} it, lr {self.lr:g}"


_CPU: dict[str, Any] = dict(lr=2e-2, iterations=300, lam=200.0, patience=15, rel_tol=1e-3)

PRESETS: dict[str, SolverConfig] = {
    # After the paper's Table 2.
    "biggan": SolverConfig(lr=1e-4, iterations=1_000, lam=500.0),
    "stylegan": SolverConfig(lr=1e-3, iterations=10_000, lam=500.0),
    "nvae": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    "sid": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    # Our CPU settings: a stop on convergence (patience 15, the bound stop) instead of patience 30.
    # independent: no polish (each subset's own polish decorrelates their errors: cancellation 21–25
    # at n = 9 on faces, docs/solver.md)
    "fast": SolverConfig(**_CPU, polish=0),
    "tiny": SolverConfig(lr=5e-2, iterations=150, lam=200.0, patience=10, rel_tol=1e-3),
    # The widgets' mode on a CPU: `fast` solved nested.
    "interactive": SolverConfig(**_CPU, nested=True, polish=20),
    # prsg_widgets 0.1.0's solver, kept for comparison only: its components cancel.
    "legacy": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3, init=1.0,
                           constraint="mean", restart=False, margin=0.0, bound_stop=False, polish=0),
}
"""Named solver settings. ``biggan``/``stylegan``/``nvae``/``sid`` follow Table 2; ``fast``/``tiny``
are for CPUs; ``interactive`` is ``fast`` with ``nested=True``; ``legacy`` is 0.1.0's ``fast``
(start from 1, one mse over T), for comparison only."""

RELEASE_0_2: dict[str, SolverConfig] = {
    "fast": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3, bound_stop=False,
                         polish=0),
    "interactive": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3, nested=True,
                                bound_stop=False, polish=0),
}
"""prsg_widgets 0.2.0's ``fast`` and ``interactive`` (a fixed patience of 30, a constant step, no
bound stop), kept so ``benchmarks/bench_solver.py`` can put them beside today's in one run."""


def get_solver_config(solver: str | SolverConfig | None = None, **overrides) -> SolverConfig:
    """A :class:`SolverConfig` from a preset name (``None``: ``prsg_widgets.defaults.DEFAULT_PRESET``) or a config,
    with keyword overrides (checked).
    """
    if solver is None:
        solver = DEFAULT_PRESET
    if isinstance(solver, str):
        if solver not in PRESETS:
            raise SettingsError(f"unknown solver preset {solver!r}; presets: {', '.join(PRESETS)}")
        solver = PRESETS[solver]
    elif not isinstance(solver, SolverConfig):
        raise SettingsError(f"solver must be a preset name ({', '.join(PRESETS)}) or a SolverConfig, "
                         f"got {type(solver).__name__}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - set(SolverConfig.__dataclass_fields__)
    if unknown:
        raise SettingsError(f"unknown solver settings {sorted(unknown)}; settings: "
                         f"{', '.join(SolverConfig.__dataclass_fields__)}")
    return replace(solver, **overrides) if overrides else solver
