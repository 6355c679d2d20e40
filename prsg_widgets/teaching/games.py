"""Cooperative games, the objects the teaching notebook plays with: a game over ``n`` players is
a 1-D float64 tensor ``v`` of length ``2^n`` indexed by coalition bitmask (bit i ⇔ player i).
Here: building games (from values, a dict or a named preset), labelling and listing coalitions,
and the derived games the axiom checks need (a dummy player added, two players swapped or made
symmetric).  :data:`TOL` is the float noise below which a number counts as 0.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

TOL = 1e-9
"""Residuals below this count as ✓ (games are computed in float64)."""


def _players(v: Tensor) -> int:
    n = v.shape[0].bit_length() - 1
    if v.dim() != 1 or (1 << n) != v.shape[0]:
        raise ValueError(f"a game is a 1-D tensor of length 2^n, got shape {tuple(v.shape)}")
    return n


def subset_label(T: int, names: Sequence[str] | None = None) -> str:
    """``"{1,3}"``-style label of a bitmask (players numbered from 1 unless ``names`` are given)."""
    n = max(T.bit_length(), len(names) if names else 0)
    labels = [names[i] if names else str(i + 1) for i in range(n) if (T >> i) & 1]
    return "∅" if not labels else "{" + ",".join(labels) + "}"


def all_subsets(n: int) -> list[int]:
    """All bitmasks of ``n`` players, ordered by size then value (∅, singletons, pairs, ...)."""
    return sorted(range(1 << n), key=lambda t: (bin(t).count("1"), t))


def make_game(values: Sequence[float] | dict | Tensor, n: int | None = None) -> Tensor:
    """A game from a list/tensor of ``2^n`` worths (bitmask order) or a ``{bitmask: worth}`` dict
    (missing coalitions are worth 0).
    """
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


def add_dummy_player(v: Tensor, worth: float) -> Tensor:
    """The game over ``n+1`` players where the new last player is a dummy worth ``worth``:
    ``v⁺(T) = v(T)`` and ``v⁺(T ∪ {new}) = v(T) + worth``.
    """
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
