"""The paper's experimental setting, as the figure notebooks use it.

Every paper notebook (``notebooks/01_…`` to ``10_…``) starts from the same values in its
``parameters`` cell — ``MODEL, CHEAP, GRID, N, SOLVER, SEEDS, REGION`` and ``FULL`` — and needs
the same things from them: the explainer (solves cached on disk), the patches ``N`` of an image
chosen by the paper's rule, and one line saying what runs.  :class:`PaperSetting` is that, once::

    setting = PaperSetting(MODEL, cheap=CHEAP, grid=GRID, n=N, solver=SOLVER, seeds=SEEDS,
                           region=REGION, full=FULL)
    ex = setting.explainer()          # built once, shared by setting.explain
    print(setting.describe())         # dcgan-faces split at main.3 (d = …), grid 6×6, n = 4, …
    e = setting.explain(setting.seeds[0])

``full=True`` is the paper's setting (:data:`FULL_VALUES`: the model's middle layer, ``n = 9``,
the ``nvae`` schedule of Table 2, at least 5 images), meant for a GPU; a notebook whose paper
setting differs passes ``full_values`` (Table 2: ``{"n": 6}``).  The resolved values are the
attributes ``model, cheap, grid, n, solver, seeds, region``.

``scripts/reproduce.py`` has its own ``Setting``: a run of every figure from one patch set shared
by all images, with its own presets (``tiny`` / ``biggan``) and the paper's ``k`` scaled to ``n``;
it is a different experiment and stays separate.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .core.validate import LayerNotFoundError, check_grid, check_layer_name, check_positive_int, check_seed, short_repr

if TYPE_CHECKING:  # pragma: no cover
    from torch import Tensor

    from .backend import Explainer, Explanation

__all__ = ["DEFAULT_CACHE_DIR", "FULL_VALUES", "REGIONS", "PaperSetting", "cache_dir", "centre_patches"]

DEFAULT_CACHE_DIR = "~/.cache/prsg_widgets/solves"
"""Where solves are cached when ``$PRSG_SOLVE_CACHE`` is not set."""

FULL_VALUES: Mapping[str, Any] = {"cheap": False, "n": 9, "solver": "nvae", "images": 5}
"""What ``full=True`` changes: the model's middle layer, ``n = 9`` patches (511 components), the
``nvae`` schedule of Table 2, and ``images`` — at least that many seeds (``0, 1, …``)."""

REGIONS = ("foreground", "centre")
"""How ``N`` is drawn: ``"foreground"``, at random on the object (the model's foreground rule,
e.g. the face region); ``"centre"``, at random in the central block (the grid without its
outer ring of patches)."""

_FULL_KEYS = ("model", "cheap", "grid", "n", "solver", "region", "images")


def cache_dir() -> Path:
    """The solve cache of the notebooks: ``$PRSG_SOLVE_CACHE`` when set (and not empty), else
    :data:`DEFAULT_CACHE_DIR`, with ``~`` expanded.
    """
    return Path(os.path.expanduser(os.environ.get("PRSG_SOLVE_CACHE") or DEFAULT_CACHE_DIR))


def centre_patches(grid: int) -> list[int]:
    """Ids of the central block of a ``grid × grid`` patch grid (every patch but the outer ring;
    id = row * grid + col).
    """
    grid = check_grid(grid)
    return [r * grid + c for r in range(1, grid - 1) for c in range(1, grid - 1)]


def _check_name(value: Any, names: Iterable[str], what: str) -> str:
    """``value`` when it is one of ``names``, else ``ValueError`` (listing close matches)."""
    try:
        return check_layer_name(value, names, what=what)
    except LayerNotFoundError as err:   # a KeyError there (a layer lookup); a bad value here
        raise ValueError(str(err)) from None


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


class PaperSetting:
    """The values of a paper notebook's ``parameters`` cell, resolved and checked.

    ``model`` a built-in model; ``cheap`` its cheaper layer (else the middle layer); ``grid`` the
    ``P × P`` patch grid; ``n`` the patches selected (``2^n`` minimal features); ``solver`` a
    preset of :data:`prsg_widgets.PRESETS`; ``seeds`` the images; ``region`` one of
    :data:`REGIONS`.  ``full=True`` replaces them with the paper's setting, :data:`FULL_VALUES`
    updated with ``full_values`` (any of ``model, cheap, grid, n, solver, region, images``).

    Every value is checked here, before a model is loaded: a bad one is a ``ValueError`` naming
    it (a wrong model or preset name lists the valid ones).
    """

    model: str
    cheap: bool
    grid: int
    n: int
    solver: str
    seeds: list[int]
    region: str
    full: bool

    def __init__(
        self,
        model: str = "dcgan-faces",
        *,
        cheap: bool = True,
        grid: int = 6,
        n: int = 4,
        solver: str = "fast",
        seeds: Iterable[int] = (0,),
        region: str = "foreground",
        full: bool = False,
        full_values: Mapping[str, Any] | None = None,
    ) -> None:
        self.full = _check_bool(full, "full")
        values = self._checked(dict(model=model, cheap=cheap, grid=grid, n=n, solver=solver, region=region))
        seeds = self._checked_seeds(seeds)
        if full_values is not None and not isinstance(full_values, Mapping):
            raise ValueError(f"full_values must be a mapping such as {{'n': 6}}, got {short_repr(full_values)}")
        unknown = sorted(set(full_values or {}) - set(_FULL_KEYS), key=str)
        if unknown:
            raise ValueError(f"full_values has unknown names {unknown}; it may set {', '.join(_FULL_KEYS)}")
        # the paper's values are checked even when not used (a typo shows on the CPU run too);
        # whether n fits the grid only for the values in use
        paper = {**FULL_VALUES, **(full_values or {})}
        images = check_positive_int(paper.pop("images"), "full_values['images']", max=10**6)
        paper = self._checked({**values, **paper}, fit=self.full)
        if self.full:
            values, seeds = paper, list(range(max(images, len(seeds))))
        self.model = values["model"]
        self.cheap = values["cheap"]
        self.grid = values["grid"]
        self.n = values["n"]
        self.solver = values["solver"]
        self.region = values["region"]
        self.seeds = seeds
        self._explainer: Explainer | None = None

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _checked(values: dict, fit: bool = True) -> dict:
        """``values`` checked one by one, and (``fit``) whether ``n`` patches fit the region."""
        from .backend.settings import Settings

        out = dict(values)
        out["cheap"] = _check_bool(values["cheap"], "cheap")
        if not isinstance(values["solver"], str):
            raise ValueError(f"solver must be a preset name, got {short_repr(values['solver'])}")
        # model, grid, n and the preset are checked where every setting is: by Settings
        checked = Settings(model=values["model"], cheap=out["cheap"], grid=values["grid"], n=values["n"],
                           solver=values["solver"])
        out["model"], out["grid"], out["n"] = checked.model, checked.grid, checked.n
        out["region"] = _check_name(values["region"], REGIONS, "region")
        room = out["grid"] ** 2 if out["region"] == "foreground" else len(centre_patches(out["grid"]))
        if fit and out["n"] > room:
            where = "" if out["region"] == "foreground" else "the central block of "
            raise ValueError(f"n = {out['n']} patches do not fit {where}a {out['grid']}×{out['grid']} grid "
                             f"({room} patches); choose n ≤ {room} or a finer grid")
        return out

    @staticmethod
    def _checked_seeds(seeds: Any) -> list[int]:
        if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, Iterable):
            raise ValueError(f"seeds must be a list of integers such as [0, 1], got {short_repr(seeds)}")
        out = [check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
        if not out:
            raise ValueError("seeds is empty; give at least one image seed, e.g. [0]")
        return out

    # ------------------------------------------------------------------ explaining
    @property
    def cache_dir(self) -> Path:
        """Where solves are cached (see :func:`cache_dir`)."""
        return cache_dir()

    def explainer(self, **overrides: Any) -> Explainer:
        """The :class:`~prsg_widgets.Explainer` of this setting (``model``, ``grid``, ``solver``,
        ``cheap``, solves cached in :attr:`cache_dir`, no progress bars).

        Without ``overrides`` it is built on the first call and then shared (``explain`` and
        ``describe`` use it).  With overrides — any :class:`Explainer` argument, e.g.
        ``model="toy-scenes", grid=4``, ``solver="tiny", iterations=300`` or ``cache_dir=None``
        (no disk cache) — a new one is built each call.
        """
        from .backend import Explainer

        if not overrides and self._explainer is not None:
            return self._explainer
        kwargs: dict[str, Any] = dict(grid=self.grid, solver=self.solver, cheap=self.cheap,
                                      cache_dir=self.cache_dir, progress=False)
        kwargs.update(overrides)
        model = kwargs.pop("model", self.model)
        ex = Explainer(model, **kwargs)
        if not overrides:
            self._explainer = ex
        return ex

    def region_mask(self, explainer: Explainer | None = None) -> Tensor | None:
        """The pixel mask ``N`` is drawn in: ``None`` for ``"foreground"`` (the model's own rule),
        the central block of ``explainer``'s grid (default: the setting's) for ``"centre"``.
        """
        if self.region == "foreground":
            return None
        ex = explainer if explainer is not None else self.explainer()
        return ex.grid.mask(centre_patches(ex.grid.size))

    def explain(self, seed: int, explainer: Explainer | None = None) -> Explanation:
        """An explanation of the image of ``seed`` over ``n`` patches drawn as the paper does: at
        random on the object (``region="foreground"``) or in the central block (``"centre"``).
        Nothing is solved yet.  ``explainer``: another one than the setting's own.
        """
        ex = explainer if explainer is not None else self.explainer()
        return ex.explain(seed, n=self.n, mask=self.region_mask(ex))

    def describe(self) -> str:
        """One line: the model, where it is split, the grid, ``n``, the solver and its ε
        (builds the setting's explainer if needed).
        """
        ex = self.explainer()
        return (f"{self.model} split at {ex.generator.layer} (d = {ex.generator.d}), grid {self.grid}×{self.grid}, "
                f"n = {self.n}, solver {self.solver!r}, ε = {ex.epsilon:g}")

    def __repr__(self) -> str:
        return (f"PaperSetting({self.model!r}, cheap={self.cheap}, grid={self.grid}, n={self.n}, "
                f"solver={self.solver!r}, seeds={self.seeds}, region={self.region!r}, full={self.full})")
