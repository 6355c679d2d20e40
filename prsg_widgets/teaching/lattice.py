"""The Boolean lattice (Hasse diagram) of a game's coalitions as plain functions: what each node
shows (``v(T)``, AND or OR), node positions and edges in canvas pixels, hit-testing a click, and
the blue–white–red colours.  Testable without a browser; only
:class:`~.lattice_view.LatticeView` draws them on a canvas.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from torch import Tensor

from .games import TOL, _players, all_subsets
from .interactions import _KINDS

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
    (``"AND"``) or the OR interactions of Eq. 6 (``"OR"``).
    """
    if mode == "value":
        _players(v)
        return v.double().clone()
    if mode in _KINDS:
        return _KINDS[mode](v)
    raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")


def lattice_positions(n: int, width: float = 560.0, height: float = 400.0, margin: float = 32.0,
                      top: float | None = None) -> dict[int, tuple[float, float]]:
    """Centre ``(x, y)`` in canvas pixels of every subset's node in the Hasse diagram: one row per
    size ``|S|`` (∅ at the bottom, ``N`` at the top, ``top`` pixels down, default ``margin``), the
    subsets of a row spread evenly across it in :func:`all_subsets` order.
    """
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
    dy = min((b - a for a, b in pairwise(rows)), default=4 * cap)
    return float(min(cap, 0.42 * min(gaps, default=4 * cap), 0.32 * dy))


def lattice_edges(n: int) -> list[tuple[int, int]]:
    """The covering pairs ``(S, S ∪ {i})`` for ``i ∉ S``: the edges of the Hasse diagram
    (``n · 2^(n−1)`` of them).
    """
    _check_lattice_players(n)
    return [(s, s | (1 << i)) for s in range(1 << n) for i in range(n) if not (s >> i) & 1]


def lattice_node_at(positions: dict[int, tuple[float, float]], x: float, y: float,
                    radius: float) -> int | None:
    """The subset whose node contains the canvas point ``(x, y)``, or ``None``."""
    best, best_d2 = None, radius * radius
    for t, (px, py) in positions.items():
        d2 = (px - x) ** 2 + (py - y) ** 2
        if d2 <= best_d2:
            best, best_d2 = t, d2
    return best


def diverging_color(x: float, scale: float) -> str:
    """Blue–white–red colour of ``x`` as ``"#rrggbb"``: white at 0, full blue at ``−scale``, full
    red at ``+scale`` (clipped beyond); white everywhere when ``scale`` is 0.
    """
    t = 0.0 if scale <= 0 else max(-1.0, min(1.0, float(x) / float(scale)))
    end = _POSITIVE if t > 0 else _NEGATIVE
    a = abs(t)
    r, g, b = (round(w + a * (e - w)) for w, e in zip(_WHITE, end, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def value_colors(values: Sequence[float] | Tensor, tol: float = TOL) -> tuple[list[str], float]:
    """Colours of ``values`` on a scale symmetric about 0, ``±max |value|``, so that equal and
    opposite values get equally strong hues.  Values within ``tol`` of 0 are float noise of the
    transforms and are drawn white (and do not set the scale).  Returns ``(colours, scale)``.
    """
    vals = [float(x) for x in (values.tolist() if isinstance(values, Tensor) else values)]
    vals = [0.0 if abs(x) <= tol else x for x in vals]
    scale = max((abs(x) for x in vals), default=0.0)
    return [diverging_color(x, scale) for x in vals], scale


def _ink(color: str) -> str:
    """Black or white text, whichever reads better on ``color`` (by its luminance)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"
