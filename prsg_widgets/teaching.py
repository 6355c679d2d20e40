"""Small cooperative games for teaching AND / OR Harsanyi interactions, and the checks behind
``notebooks/teaching_interactions.ipynb``.

A game over ``n`` players is a 1-D tensor ``v`` of length ``2^n``: ``v[T]`` is the worth of the
coalition ``T``, a bitmask (bit i ⇔ player i), the same storage the toolkit uses for the patch
subsets of an explanation (DESIGN.md §1).  Everything here is plain functions over such tensors;
the interactions themselves come from :mod:`prsg_widgets.core.harsanyi`, so the notebook teaches
exactly the code that computes the feature components of a generator.  Only the panels at the
end (:func:`game_explorer`, :func:`axiom_panel`, :func:`component_browser` and the ipycanvas
:class:`LatticeView`) build widgets, and they only wire controls to these functions; even the
lattice diagram's layout and colours are plain functions (:func:`lattice_positions`,
:func:`value_colors`).

The axioms are checked the way a theorem is: every check builds a game in which the axiom's
premise holds *by construction* (a dummy player is added, two players are made symmetric, ...)
from whatever game the student dialled in, and measures the residual of its conclusion.  For the
Harsanyi transforms all four residuals are at float precision for every game; the naive
"marginal contribution" attribution is checked beside them as a counter-example that fails
efficiency as soon as the game has interactions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence, Union

import torch
from torch import Tensor

from .core import harsanyi

__all__ = [
    "AxiomCheck", "PRESET_GAMES", "ObjectOverlap",
    "subset_label", "all_subsets", "make_game", "preset_game", "and_interactions", "or_interactions",
    "interaction_table", "add_dummy_player", "symmetrize", "swap_players",
    "check_efficiency", "check_linearity", "check_dummy", "check_symmetry", "check_axioms",
    "format_checks", "marginal_attribution", "patches_on_objects", "object_overlaps", "overlap_share",
    "show_scene", "show_components", "game_report", "game_explorer", "axiom_panel", "component_browser",
    "LATTICE_MODES", "MAX_LATTICE_PLAYERS", "lattice_values", "lattice_positions", "lattice_edges",
    "lattice_node_at", "diverging_color", "value_colors", "LatticeView",
]

TOL = 1e-9
"""Residuals below this count as ✓ (games are computed in float64)."""


# ---------------------------------------------------------------------- games
def _players(v: Tensor) -> int:
    n = v.shape[0].bit_length() - 1
    if v.dim() != 1 or (1 << n) != v.shape[0]:
        raise ValueError(f"a game is a 1-D tensor of length 2^n, got shape {tuple(v.shape)}")
    return n


def subset_label(T: int, names: Optional[Sequence[str]] = None) -> str:
    """``"{1,3}"``-style label of a bitmask (players numbered from 1 unless ``names`` are given)."""
    n = max(T.bit_length(), len(names) if names else 0)
    labels = [names[i] if names else str(i + 1) for i in range(n) if (T >> i) & 1]
    return "∅" if not labels else "{" + ",".join(labels) + "}"


def all_subsets(n: int) -> list[int]:
    """All bitmasks of ``n`` players, ordered by size then value (∅, singletons, pairs, ...)."""
    return sorted(range(1 << n), key=lambda t: (bin(t).count("1"), t))


def make_game(values: Union[Sequence[float], dict, Tensor], n: Optional[int] = None) -> Tensor:
    """A game from a list/tensor of ``2^n`` worths (bitmask order) or a ``{bitmask: worth}`` dict
    (missing coalitions are worth 0)."""
    if isinstance(values, dict):
        if n is None:
            n = max(int(k) for k in values).bit_length() if values else 0
        v = torch.zeros(1 << n, dtype=torch.float64)
        for k, x in values.items():
            v[int(k)] = float(x)
        return v
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1).clone()
    _players(v)
    return v


def _pure(n: int, rule: Callable[[int], bool]) -> Tensor:
    return torch.tensor([1.0 if rule(t) else 0.0 for t in range(1 << n)], dtype=torch.float64)


PRESET_GAMES: dict[str, Callable[[int], Tensor]] = {
    # v(T) = 1 iff players 1 AND 2 are both in T: one AND dividend, three OR interactions
    "AND of players 1 and 2": lambda n: _pure(n, lambda t: (t & 0b11) == 0b11),
    # v(T) = 1 iff player 1 OR player 2 is in T: one OR interaction, three AND dividends
    "OR of players 1 and 2": lambda n: _pure(n, lambda t: (t & 0b11) != 0),
    # each player adds its own worth: only singletons interact, in both views
    "additive (1, 2, 3, ...)": lambda n: torch.tensor(
        [float(sum(i + 1 for i in range(n) if (t >> i) & 1)) for t in range(1 << n)], dtype=torch.float64),
    "majority (at least 2 players)": lambda n: _pure(n, lambda t: bin(t).count("1") >= 2),
    "unanimity (all players)": lambda n: _pure(n, lambda t: t == (1 << n) - 1),
}
"""Named games with a known interaction pattern, for the notebook's preset menu."""


def preset_game(name: str, n: int = 3) -> Tensor:
    """One of :data:`PRESET_GAMES` over ``n`` players."""
    if name not in PRESET_GAMES:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESET_GAMES)}")
    return PRESET_GAMES[name](n)


def and_interactions(v: Tensor) -> Tensor:
    """Harsanyi dividends ``I_and(S) = Σ_{L⊆S} (−1)^{|S|−|L|} v(L)`` (DESIGN.md §1), via the
    toolkit's butterfly transform."""
    _players(v)
    return harsanyi.and_interactions(v.double().unsqueeze(1))[:, 0]


def or_interactions(v: Tensor) -> Tensor:
    """OR interactions of Eq. 6 with ``u = v``: ``I_or(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} v(N∖L)`` for
    ``S ≠ ∅``, ``I_or(∅) = v(∅)``, via the toolkit's transform (the one used for feature components)."""
    _players(v)
    return harsanyi.or_interactions(v.double().unsqueeze(1))[:, 0]


def interaction_table(v: Tensor, names: Optional[Sequence[str]] = None, digits: int = 3) -> str:
    """A fixed-width text table: every coalition ``T`` with ``v(T)``, ``I_and(T)``, ``I_or(T)``, and
    the two reconstructions of ``v`` (AND: ``Σ_{S⊆T}``; OR, Eq. 7: ``Σ_{S∩T≠∅}``) as a check."""
    n = _players(v)
    a, o = and_interactions(v), or_interactions(v)
    rec_and = harsanyi.and_inverse(a.unsqueeze(1))[:, 0]
    rec_or = harsanyi.or_inverse(o.unsqueeze(1))[:, 0]
    w = max(8, *(len(subset_label(t, names)) for t in range(1 << n)))
    num = digits + 6
    rows = [f"{'T':<{w}} {'v(T)':>{num}} {'I_and(T)':>{num}} {'I_or(T)':>{num}}"
            f" {'Σ_{S⊆T}I_and':>{num + 4}} {'Σ_{S∩T≠∅}I_or':>{num + 5}}"]
    for t in all_subsets(n):
        rows.append(f"{subset_label(t, names):<{w}} {_fmt(v[t], digits, num)} {_fmt(a[t], digits, num)} "
                    f"{_fmt(o[t], digits, num)} {_fmt(rec_and[t], digits, num + 4)} {_fmt(rec_or[t], digits, num + 5)}")
    return "\n".join(rows)


def _fmt(x: Union[float, Tensor], digits: int, width: int) -> str:
    x = float(x)
    if abs(x) < 0.5 * 10 ** (-digits):
        x = 0.0  # no "-0.000" from rounding noise
    return f"{x:>{width}.{digits}f}"


# ---------------------------------------------------------------------- derived games
def add_dummy_player(v: Tensor, worth: float) -> Tensor:
    """The game over ``n+1`` players where the new last player is a dummy worth ``worth``:
    ``v⁺(T) = v(T)`` and ``v⁺(T ∪ {new}) = v(T) + worth``."""
    _players(v)
    return torch.cat([v.double(), v.double() + float(worth)])


def swap_players(v: Tensor, i: int, j: int) -> Tensor:
    """``v∘π``: the game with players ``i`` and ``j`` exchanged."""
    n = _players(v)
    out = torch.empty_like(v)
    for t in range(1 << n):
        bi, bj = (t >> i) & 1, (t >> j) & 1
        s = t & ~((1 << i) | (1 << j)) | (bi << j) | (bj << i)
        out[s] = v[t]
    return out


def symmetrize(v: Tensor, i: int = 0, j: int = 1) -> Tensor:
    """``(v + v∘π_ij) / 2``: the closest game in which players ``i`` and ``j`` are symmetric."""
    return 0.5 * (v.double() + swap_players(v.double(), i, j))


# ---------------------------------------------------------------------- axioms
@dataclass(frozen=True)
class AxiomCheck:
    """One axiom checked on one interaction type: ``residual`` is the largest violation."""

    axiom: str
    kind: str
    statement: str
    residual: float
    tol: float = TOL

    @property
    def ok(self) -> bool:
        return bool(self.residual <= self.tol)

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.axiom:<11} {self.kind:<8} residual {self.residual:.2e}   {self.statement}"


Transform = Callable[[Tensor], Tensor]
_KINDS: dict[str, Transform] = {"AND": and_interactions, "OR": or_interactions}


def _transform(kind: str) -> Transform:
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "marginal":
        return marginal_attribution
    raise ValueError(f"unknown interaction kind {kind!r}: 'AND', 'OR' or 'marginal'")


def marginal_attribution(v: Tensor) -> Tensor:
    """The naive attribution used as a counter-example: each singleton gets its marginal worth
    ``v({i}) − v(∅)``, larger coalitions get nothing (so interactions are simply dropped)."""
    n = _players(v)
    out = torch.zeros_like(v, dtype=torch.float64)
    out[0] = v[0]
    for i in range(n):
        out[1 << i] = v[1 << i] - v[0]
    return out


def check_efficiency(v: Tensor, kind: str = "AND") -> AxiomCheck:
    """Efficiency / completeness (Axiom 1, Eq. 7 with ``T = N``): ``Σ_{S≠∅} I(S) = v(N) − v(∅)``."""
    i = _transform(kind)(v.double())
    res = abs(float(i[1:].sum() - (v[-1] - v[0])))
    return AxiomCheck("efficiency", kind, "Σ_{S≠∅} I(S) = v(N) − v(∅)", res)


def check_linearity(v: Tensor, w: Tensor, alpha: float = 2.0, beta: float = -0.5, kind: str = "AND") -> AxiomCheck:
    """Linearity: ``I[αv + βw] = α·I[v] + β·I[w]`` for the second game ``w``."""
    f = _transform(kind)
    v, w = v.double(), w.double()
    res = float((f(alpha * v + beta * w) - alpha * f(v) - beta * f(w)).abs().max())
    return AxiomCheck("linearity", kind, f"I[{alpha:g}·v {beta:+g}·w] = {alpha:g}·I[v] {beta:+g}·I[w]", res)


def check_dummy(v: Tensor, worth: float = 1.0, kind: str = "AND") -> AxiomCheck:
    """Dummy: add a player ``d`` that adds ``worth`` to every coalition; then ``I({d}) = worth`` and
    ``I(S) = 0`` for every larger ``S ∋ d``."""
    f = _transform(kind)
    vp = add_dummy_player(v, worth)
    n1 = _players(vp)
    d = 1 << (n1 - 1)
    i = f(vp)
    res = abs(float(i[d]) - float(worth))
    for s in range(1 << n1):
        if s & d and s != d:
            res = max(res, abs(float(i[s])))
    return AxiomCheck("dummy", kind, f"new dummy player d: I({{d}}) = {worth:g}, I(S∋d, |S|>1) = 0", res)


def check_symmetry(v: Tensor, i: int = 0, j: int = 1, kind: str = "AND") -> AxiomCheck:
    """Symmetry: in the symmetrised game (players ``i``, ``j`` interchangeable),
    ``I(S ∪ {i}) = I(S ∪ {j})`` for every ``S`` containing neither."""
    f = _transform(kind)
    vs = symmetrize(v, i, j)
    n = _players(vs)
    out = f(vs)
    bi, bj = 1 << i, 1 << j
    res = 0.0
    for s in range(1 << n):
        if not s & (bi | bj):
            res = max(res, abs(float(out[s | bi] - out[s | bj])))
    return AxiomCheck("symmetry", kind, f"players {i + 1},{j + 1} made symmetric: I(S∪{{{i + 1}}}) = I(S∪{{{j + 1}}})", res)


def check_axioms(v: Tensor, w: Optional[Tensor] = None, alpha: float = 2.0, beta: float = -0.5,
                 dummy_worth: float = 1.0, kinds: Iterable[str] = ("AND", "OR")) -> list[AxiomCheck]:
    """All four axioms for each interaction kind.  ``w`` (the second game of linearity) defaults
    to a fixed seeded random game of the same size."""
    n = _players(v)
    if w is None:
        w = torch.randn(1 << n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = []
    for kind in kinds:
        out += [check_efficiency(v, kind), check_linearity(v, w, alpha, beta, kind),
                check_dummy(v, dummy_worth, kind), check_symmetry(v, 0, 1, kind)]
    return out


def format_checks(checks: Sequence[AxiomCheck]) -> str:
    """One ``✓/✗ axiom kind residual statement`` line per check."""
    return "\n".join(c.line() for c in checks)


# ---------------------------------------------------------------------- toy-scenes ground truth
def patches_on_objects(grid, object_masks: Tensor, n: int = 4, background: int = 1) -> list[int]:
    """Patch ids ``N`` for a toy scene: for each object (in order), the not-yet-chosen patch its
    visible mask covers most, then ``background`` patches that touch no object (a control whose
    components should be weak), then more object patches if ``n`` is still not reached.

    ``object_masks`` is ``(K, H, W)`` or ``(1, K, H, W)`` bool, as ``Sample.object_masks``.
    """
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).bool().cpu()
    cover = torch.stack([grid.patch_scores(m.float()) for m in masks])  # (K, P*P) coverage fractions
    chosen: list[int] = []
    n_obj = max(0, n - background)
    for k in range(masks.shape[0]):
        if len(chosen) >= n_obj:
            break
        for p in torch.argsort(-cover[k], stable=True).tolist():
            if p not in chosen and cover[k, p] > 0:
                chosen.append(p)
                break
    empty = [p for p in range(grid.num_patches) if float(cover[:, p].sum()) == 0 and p not in chosen]
    chosen += empty[: max(0, n - len(chosen))][:background]
    for p in torch.argsort(-cover.sum(0), stable=True).tolist():  # top up with the most covered
        if len(chosen) >= n:
            break
        if p not in chosen:
            chosen.append(p)
    return sorted(chosen[:n])


@dataclass(frozen=True)
class ObjectOverlap:
    """A top component against the true objects: which objects its action field ``A(S)`` touches,
    and where its regional pattern ``Δx_S`` (Fig. 2) puts its energy."""

    subset: int
    patches: tuple[int, ...]
    norm: float
    objects_in_field: tuple[int, ...]
    rho: float
    pattern_on_objects: float

    @property
    def overlaps_object(self) -> bool:
        return len(self.objects_in_field) > 0


def object_overlaps(explanation, object_masks: Tensor, top: int = 5, min_pixels: int = 1) -> list[ObjectOverlap]:
    """For the ``top`` components of ``explanation`` (by ‖I(S)‖₂): the objects whose visible mask
    shares at least ``min_pixels`` pixels with ``A(S)``; ``ρ(S)`` — the share of ``|Δx_S|`` inside
    ``A(S)`` (Sec. 3.2.1, DESIGN.md §2 reconstruction); and the share of ``|Δx_S|`` on object pixels."""
    from .metrics import real_action_field_ratios  # ρ has one definition, in metrics

    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).bool().cpu()
    union = masks.any(0)
    comps = explanation.components(top=top)
    subsets = [c.subset for c in comps]
    rhos = real_action_field_ratios(explanation, subsets)
    deltas = explanation.regional_patterns(subsets).abs().sum(1)  # (k, H, W)
    grid = explanation.grid
    out = []
    for c, d, rho in zip(comps, deltas, rhos):
        field = grid.mask(c.patches)
        hit = tuple(k for k in range(masks.shape[0]) if int((masks[k] & field).sum()) >= min_pixels)
        total = float(d.sum())
        on_obj = float(d[union].sum()) / total if total > 0 else float("nan")
        out.append(ObjectOverlap(c.subset, c.patches, c.norm, hit, float(rho), on_obj))
    return out


def overlap_share(overlaps: Sequence[ObjectOverlap]) -> float:
    """Share of components whose action field overlaps a true object."""
    return sum(o.overlaps_object for o in overlaps) / len(overlaps) if overlaps else float("nan")


# ---------------------------------------------------------------------- the lattice diagram
# Layout and colours are plain functions so they can be tested without a browser; only
# :class:`LatticeView` touches a canvas.
MAX_LATTICE_PLAYERS = 4
"""Largest ``n`` the lattice is drawn for: 2^4 = 16 nodes still fit a row of 6 readable circles."""

LATTICE_MODES: dict[str, str] = {"value": "v(T)", "AND": "I_and(S)", "OR": "I_or(S)"}
"""What a node of the lattice can show (mode → caption): the worth, or one of the decompositions."""

_NEGATIVE = (33, 102, 172)   # the blue end of ColorBrewer's RdBu
_POSITIVE = (178, 24, 43)    # its red end
_WHITE = (255, 255, 255)


def _check_lattice_players(n: int) -> None:
    if not 1 <= n <= MAX_LATTICE_PLAYERS:
        raise ValueError(f"the lattice of {n} players has {1 << max(n, 0)} nodes; "
                         f"LatticeView draws 1 ≤ n ≤ {MAX_LATTICE_PLAYERS} players")


def lattice_values(v: Tensor, mode: str = "value") -> Tensor:
    """What each node ``T`` (bitmask index) shows: ``v(T)`` (``"value"``), the AND dividends
    (``"AND"``) or the OR interactions of Eq. 6 (``"OR"``)."""
    if mode == "value":
        _players(v)
        return v.double().clone()
    if mode in _KINDS:
        return _KINDS[mode](v)
    raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")


def lattice_positions(n: int, width: float = 560.0, height: float = 400.0, margin: float = 32.0,
                      top: Optional[float] = None) -> dict[int, tuple[float, float]]:
    """Centre ``(x, y)`` in canvas pixels of every subset's node in the Hasse diagram: one row per
    size ``|S|`` (∅ at the bottom, ``N`` at the top, ``top`` pixels down, default ``margin``), the
    subsets of a row spread evenly across it in :func:`all_subsets` order."""
    _check_lattice_players(n)
    top = margin if top is None else top
    rows: dict[int, list[int]] = {}
    for t in all_subsets(n):
        rows.setdefault(bin(t).count("1"), []).append(t)
    step_y = (height - margin - top) / n
    pos = {}
    for k, row in rows.items():
        step_x = (width - 2 * margin) / len(row)
        for j, t in enumerate(row):
            pos[t] = (margin + (j + 0.5) * step_x, height - margin - k * step_y)
    return pos


def _node_radius(positions: dict[int, tuple[float, float]], cap: float = 26.0) -> float:
    """A circle radius that keeps neighbouring nodes (in a row and between rows) apart."""
    pts = list(positions.values())
    gaps = [abs(a[0] - b[0]) for a in pts for b in pts if a[1] == b[1] and a[0] != b[0]]
    rows = sorted({p[1] for p in pts})
    dy = min((b - a for a, b in zip(rows, rows[1:])), default=4 * cap)
    return float(min(cap, 0.42 * min(gaps, default=4 * cap), 0.32 * dy))


def lattice_edges(n: int) -> list[tuple[int, int]]:
    """The covering pairs ``(S, S ∪ {i})`` for ``i ∉ S``: the edges of the Hasse diagram
    (``n · 2^(n−1)`` of them)."""
    _check_lattice_players(n)
    return [(s, s | (1 << i)) for s in range(1 << n) for i in range(n) if not (s >> i) & 1]


def lattice_node_at(positions: dict[int, tuple[float, float]], x: float, y: float,
                    radius: float) -> Optional[int]:
    """The subset whose node contains the canvas point ``(x, y)``, or ``None``."""
    best, best_d2 = None, radius * radius
    for t, (px, py) in positions.items():
        d2 = (px - x) ** 2 + (py - y) ** 2
        if d2 <= best_d2:
            best, best_d2 = t, d2
    return best


def diverging_color(x: float, scale: float) -> str:
    """Blue–white–red colour of ``x`` as ``"#rrggbb"``: white at 0, full blue at ``−scale``, full
    red at ``+scale`` (clipped beyond); white everywhere when ``scale`` is 0."""
    t = 0.0 if scale <= 0 else max(-1.0, min(1.0, float(x) / float(scale)))
    end = _POSITIVE if t > 0 else _NEGATIVE
    a = abs(t)
    r, g, b = (round(w + a * (e - w)) for w, e in zip(_WHITE, end))
    return f"#{r:02x}{g:02x}{b:02x}"


def value_colors(values: Union[Sequence[float], Tensor], tol: float = TOL) -> tuple[list[str], float]:
    """Colours of ``values`` on a scale symmetric about 0, ``±max |value|``, so that equal and
    opposite values get equally strong hues.  Values within ``tol`` of 0 are float noise of the
    transforms and are drawn white (and do not set the scale).  Returns ``(colours, scale)``."""
    vals = [float(x) for x in (values.tolist() if isinstance(values, Tensor) else values)]
    vals = [0.0 if abs(x) <= tol else x for x in vals]
    scale = max((abs(x) for x in vals), default=0.0)
    return [diverging_color(x, scale) for x in vals], scale


def _ink(color: str) -> str:
    """Black or white text, whichever reads better on ``color`` (by its luminance)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


# ---------------------------------------------------------------------- pictures
def _to_rgb(image: Tensor):
    """``(C, H, W)`` in [-1, 1] → ``(H, W, 3)`` numpy in [0, 1] for ``imshow``."""
    img = ((image.detach().cpu().float() + 1) / 2).clamp(0, 1)
    if img.shape[0] == 1:
        img = img.expand(3, -1, -1)
    return img.permute(1, 2, 0).numpy()


def _outline(ax, grid, patches: Iterable[int], color: str, lw: float = 2.0) -> None:
    from matplotlib.patches import Rectangle

    for p in patches:
        t, b, l, r = grid.bounds(p)
        ax.add_patch(Rectangle((l - 0.5, t - 0.5), r - l, b - t, fill=False, ec=color, lw=lw))


def show_scene(explanation, object_masks: Tensor, ax=None):
    """The scene with the true objects' outlines (white) and the selected patches ``N`` (yellow,
    numbered as players 1..n).  Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).cpu().float()
    ax.imshow(_to_rgb(explanation.image), interpolation="nearest")
    for m in masks:
        ax.contour(m.numpy(), levels=[0.5], colors="white", linewidths=1.0)
    _outline(ax, explanation.grid, explanation.patches, "yellow")
    for i, p in enumerate(explanation.patches):
        t, b, l, r = explanation.grid.bounds(p)
        ax.text(l + 1, t + 3, str(i + 1), color="yellow", fontsize=9, weight="bold")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("scene, objects (white), patches N (yellow)", fontsize=8)
    return ax


def show_components(explanation, overlaps: Sequence[ObjectOverlap], object_masks: Tensor,
                    names: Optional[Sequence[str]] = None):
    """One panel per component: ``|Δx_S|`` (Fig. 2) with its action field (cyan) and the true
    objects (white), titled with the players in ``S``, ``ρ(S)`` and the objects ``A(S)`` touches
    (``names[k]`` or the object index).  Returns the matplotlib ``Figure``."""
    import matplotlib.pyplot as plt

    k = len(overlaps)
    fig, axes = plt.subplots(1, max(k, 1), figsize=(2.1 * max(k, 1), 2.5), squeeze=False)
    masks = object_masks.reshape(-1, *object_masks.shape[-2:]).cpu().float()
    deltas = explanation.regional_patterns([o.subset for o in overlaps]).abs().sum(1) if k else []
    for ax, o, d in zip(axes[0], overlaps, deltas):
        ax.imshow(d.numpy(), cmap="magma", interpolation="nearest")
        for m in masks:
            ax.contour(m.numpy(), levels=[0.5], colors="white", linewidths=0.8)
        _outline(ax, explanation.grid, o.patches, "cyan")
        players = [explanation.patches.index(p) + 1 for p in o.patches]
        hit = ", ".join(names[i] if names else f"object {i}" for i in o.objects_in_field) or "no object"
        ax.set_title(f"S={{{','.join(map(str, players))}}}  ρ={o.rho:.2f}\n{hit}", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- the widgets
# The panels write text into an HTML widget and pictures into an Image widget instead of printing
# into an ``ipywidgets.Output``: output capture is what makes headless executors (nbclient, hence
# nbconvert --execute) hang now and then on widget cells (jupyter/nbclient#312).
def _pre(text: str) -> str:
    import html

    return f"<pre style='font-size:12px;line-height:1.25;margin:0'>{html.escape(text)}</pre>"


def _text_panel():
    import ipywidgets as W

    return W.HTML(layout=W.Layout(border="1px solid #ccc", padding="4px"))


def game_report(v: Tensor, dummy_worth: float = 1.0, names: Optional[Sequence[str]] = None) -> str:
    """The text :func:`game_explorer` shows: the interactions table, the axiom checks and the
    marginal-attribution counter-example."""
    return (interaction_table(v, names) + "\n\n" + format_checks(check_axioms(v, dummy_worth=dummy_worth))
            + "\n" + format_checks([check_efficiency(v, "marginal")]) + "   ← naive marginal worths (counter-example)")


class LatticeView:
    """The Boolean lattice (Hasse diagram) of a game's coalitions, drawn on an ``ipycanvas.Canvas``:
    one row per size ``|S|``, an edge between ``S`` and each ``S ∪ {i}``, and each node a circle
    coloured blue–white–red by what ``mode`` selects (:data:`LATTICE_MODES`: ``v(T)``, the AND
    dividends or the OR interactions of Eq. 6), on a scale ``±max |value|``.  Clicking a node shows
    its three numbers under the canvas.

    The canvas has a fixed pixel size (a stretched canvas would shift click coordinates) and is
    redrawn whenever a front end connects (``on_client_ready``: commands sent while a cell runs can
    be lost, BROWSER_TESTING.md), the game changes (:meth:`set_game`) or the mode changes.
    ``draw_count`` and ``drawn_values`` record the last drawing, so tests can see it without a
    browser.  Display the object itself, or put :attr:`widget` in a layout.
    """

    def __init__(self, v: Tensor, mode: str = "value", names: Optional[Sequence[str]] = None,
                 width: int = 560, height: int = 400, show_modes: bool = True):
        import ipywidgets as W  # widget stack only here: the functions above stay importable without it
        from ipycanvas import Canvas

        self.n = _players(v)
        _check_lattice_players(self.n)
        if mode not in LATTICE_MODES:
            raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")
        self.names = names
        self.width, self.height = int(width), int(height)
        # the top margin leaves room for the title line above the full coalition's node
        self.positions = lattice_positions(self.n, self.width, self.height, margin=32.0, top=60.0)
        self.edges = lattice_edges(self.n)
        self.radius = _node_radius(self.positions)
        self._game = v.detach().double().clone()
        self.selected: Optional[int] = None
        self.draw_count = 0
        self.drawn_values: Optional[list[float]] = None
        self.drawn_colors: Optional[list[str]] = None
        self.canvas = Canvas(width=self.width, height=self.height,
                             layout=W.Layout(width=f"{self.width}px", height=f"{self.height}px",
                                             min_width=f"{self.width}px", flex="0 0 auto"))
        self.mode_selector = W.ToggleButtons(options=list(LATTICE_MODES), value=mode, description="show",
                                             style={"button_width": "70px"},
                                             layout=W.Layout(display=None if show_modes else "none"))
        self.caption = W.HTML()
        self.widget = W.VBox([self.mode_selector, self.canvas, self.caption])
        self.canvas.on_client_ready(self.draw)
        self.canvas.on_mouse_down(self._click)
        self.mode_selector.observe(lambda _: self.draw(), "value")
        self.draw()

    # -- state
    @property
    def game(self) -> Tensor:
        """The game drawn (a copy)."""
        return self._game.clone()

    def set_game(self, v: Tensor) -> None:
        """Show a new game over the same players, and redraw."""
        if _players(v) != self.n:
            raise ValueError(f"this lattice is over {self.n} players; got a game over {_players(v)}")
        self._game = v.detach().double().clone()
        self.draw()

    @property
    def mode(self) -> str:
        """``"value"``, ``"AND"`` or ``"OR"``; setting it redraws."""
        return self.mode_selector.value

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in LATTICE_MODES:
            raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")
        self.mode_selector.value = mode

    # -- drawing
    def draw(self, *_) -> None:
        """Redraw the whole diagram from the current game and mode."""
        from ipycanvas import hold_canvas

        values = lattice_values(self._game, self.mode)
        colors, scale = value_colors(values)
        c, r = self.canvas, self.radius
        with hold_canvas():  # one message per drawing, so a front end never shows half a lattice
            c.clear()
            c.fill_style = "white"
            c.fill_rect(0, 0, self.width, self.height)
            c.stroke_style, c.line_width = "#b0b0b0", 1.0
            for s, t in self.edges:
                (x0, y0), (x1, y1) = self.positions[s], self.positions[t]
                c.stroke_line(x0, y0, x1, y1)
            c.text_align, c.text_baseline = "center", "middle"
            for t, (x, y) in self.positions.items():
                c.fill_style = colors[t]
                c.fill_circle(x, y, r)
                c.stroke_style = "black" if t == self.selected else "#555555"
                c.line_width = 3.0 if t == self.selected else 1.0
                c.stroke_circle(x, y, r)
                c.fill_style = _ink(colors[t])
                c.font = "bold 10px sans-serif"
                c.fill_text(subset_label(t, self.names), x, y - 0.3 * r, 2 * r - 4)
                c.font = "10px sans-serif"
                c.fill_text(f"{_clean(values[t]):.2f}", x, y + 0.35 * r, 2 * r - 4)
            c.text_align, c.text_baseline = "left", "top"
            c.fill_style, c.font = "black", "12px sans-serif"
            c.fill_text(f"{LATTICE_MODES[self.mode]} on each coalition   "
                        f"(blue < 0 < red, full colour at ±{scale:.2f})", 8, 6)
        self.draw_count += 1
        self.drawn_values = [_clean(x) for x in values.tolist()]
        self.drawn_colors = colors
        self.caption.value = self._caption()

    def _caption(self) -> str:
        import html

        t = self.selected
        if t is None:
            return "<small>click a node for v(T) and its AND / OR interactions</small>"
        v = self._game
        a, o = and_interactions(v), or_interactions(v)
        text = (f"T = {subset_label(t, self.names)}:  v(T) = {_clean(v[t]):.3f},  "
                f"I_and(T) = {_clean(a[t]):.3f},  I_or(T) = {_clean(o[t]):.3f}")
        return f"<code>{html.escape(text)}</code>"

    def _click(self, x: float, y: float) -> None:
        self.selected = lattice_node_at(self.positions, x, y, self.radius)
        self.draw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _clean(x: Union[float, Tensor]) -> float:
    """``x`` with float noise (``|x| ≤ TOL``) shown as 0, so no "-0.00" labels."""
    x = float(x)
    return 0.0 if abs(x) <= TOL else x


def game_explorer(n: int = 3, values: Optional[Sequence[float]] = None, names: Optional[Sequence[str]] = None,
                  value_range: tuple[float, float] = (-3.0, 3.0), lattice: bool = False):
    """An ipywidgets panel: one slider per coalition worth ``v(T)`` (``v(∅)`` included), a preset
    menu, and a live view of the AND/OR interactions table and the four axiom checks
    (:func:`game_report`).  With ``lattice=True`` a :class:`LatticeView` of the game sits between
    the sliders and the table and is redrawn on every change.  Returns the ``VBox``; its
    ``.game()`` gives the current ``v`` and ``.lattice`` the lattice view (or ``None``)."""
    import ipywidgets as W  # imported here: the math above must not need a widget stack

    if n > 4:
        raise ValueError(f"{2 ** n} sliders are too many to edit by hand; use n ≤ 4")
    v0 = make_game(values) if values is not None else preset_game("AND of players 1 and 2", n)
    if v0.numel() != 1 << n:
        raise ValueError(f"values must have 2^{n} = {1 << n} entries, got {v0.numel()}")
    lo, hi = value_range
    sliders = {t: W.FloatSlider(value=float(v0[t]), min=lo, max=hi, step=0.1, readout_format=".1f",
                                description=f"v{subset_label(t, names)}", continuous_update=False,
                                layout=W.Layout(width="320px"))
               for t in all_subsets(n)}
    preset = W.Dropdown(options=["(custom)"] + list(PRESET_GAMES), value="(custom)", description="preset")
    worth = W.FloatSlider(value=1.0, min=lo, max=hi, step=0.1, description="dummy worth",
                          continuous_update=False)
    out = _text_panel()
    view = LatticeView(v0, names=names) if lattice else None

    def game() -> Tensor:
        return torch.tensor([sliders[t].value for t in range(1 << n)], dtype=torch.float64)

    def refresh(*_):
        v = game()
        out.value = _pre(game_report(v, worth.value, names))
        if view is not None:
            view.set_game(v)

    def load_preset(change):
        if change["new"] in PRESET_GAMES:
            v = preset_game(change["new"], n)
            for t, s in sliders.items():
                s.unobserve(refresh, "value")
                s.value = float(min(max(v[t], lo), hi))
                s.observe(refresh, "value")
            refresh()

    for s in sliders.values():
        s.observe(refresh, "value")
    worth.observe(refresh, "value")
    preset.observe(load_preset, "value")
    by_size = [W.VBox([s for t, s in sliders.items() if bin(t).count("1") == k]) for k in range(n + 1)]
    parts = [W.HBox([preset, worth]), W.HBox(by_size)] + ([view.widget] if view is not None else []) + [out]
    box = W.VBox(parts)
    box.game = game  # type: ignore[attr-defined]
    box.lattice = view  # type: ignore[attr-defined]
    refresh()
    return box


def axiom_panel(games: dict):
    """Sliders for the linearity coefficients ``α, β`` and the dummy player's worth, a menu of
    ``games`` (name → game), and the live axiom checks of the chosen game."""
    import ipywidgets as W

    def slider(name: str, value: float):
        return W.FloatSlider(value=value, min=-3.0, max=3.0, step=0.25, description=name, continuous_update=False)

    alpha, beta, worth = slider("α", 2.0), slider("β", -0.5), slider("dummy worth", 1.0)
    which = W.Dropdown(options=list(games), value=list(games)[-1], description="game")
    out = _text_panel()

    def refresh(*_):
        out.value = _pre(format_checks(check_axioms(games[which.value], alpha=alpha.value, beta=beta.value,
                                                    dummy_worth=worth.value)))

    for w in (alpha, beta, worth, which):
        w.observe(refresh, "value")
    refresh()
    return W.VBox([W.HBox([which, alpha]), W.HBox([beta, worth]), out])


def _png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def component_browser(explanation, object_masks: Tensor, names: Optional[Sequence[str]] = None):
    """A slider over the components in order of ``‖I(S)‖₂``: the chosen one's regional pattern
    with its action field and the true objects (:func:`show_components`), as an image."""
    import ipywidgets as W

    total = explanation.num_subsets - 1
    rank = W.IntSlider(value=1, min=1, max=total, description="rank", continuous_update=False)
    image = W.Image(format="png")
    caption = W.HTML()

    def refresh(*_):
        o = object_overlaps(explanation, object_masks, top=rank.value)[-1]
        image.value = _png(show_components(explanation, [o], object_masks, names))
        caption.value = f"component {rank.value} of {total}: ‖I(S)‖₂ = {o.norm:.3f}, ρ(S) = {o.rho:.2f}"

    rank.observe(refresh, "value")
    refresh()
    return W.VBox([rank, caption, image])
