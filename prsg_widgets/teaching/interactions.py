"""AND (Harsanyi dividends) and OR interactions of a game (``docs/theory.md`` §3, Eq. 6), computed by the
toolkit's own transforms in :mod:`prsg_widgets.core.harsanyi` — the code that computes the
feature components of a generator — and the text table that shows both decompositions and the
reconstructions of ``v`` they give back (Eq. 7).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor

from ..core import harsanyi
from .games import _players, all_subsets, subset_label


def and_interactions(v: Tensor) -> Tensor:
    """Harsanyi dividends ``I_and(S) = Σ_{L⊆S} (−1)^{|S|−|L|} v(L)`` (``docs/theory.md`` §3), via the
    toolkit's butterfly transform.
    """
    _players(v)
    return harsanyi.and_interactions(v.double().unsqueeze(1))[:, 0]


def or_interactions(v: Tensor) -> Tensor:
    """OR interactions of Eq. 6 with ``u = v``: ``I_or(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} v(N∖L)`` for
    ``S ≠ ∅``, ``I_or(∅) = v(∅)``, via the toolkit's transform (the one used for feature components).
    """
    _players(v)
    return harsanyi.or_interactions(v.double().unsqueeze(1))[:, 0]


def interaction_table(v: Tensor, names: Sequence[str] | None = None, digits: int = 3) -> str:
    """A fixed-width text table: every coalition ``T`` with ``v(T)``, ``I_and(T)``, ``I_or(T)``, and
    the two reconstructions of ``v`` (AND: ``Σ_{S⊆T}``; OR, Eq. 7: ``Σ_{S∩T≠∅}``) as a check.
    """
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


def _fmt(x: float | Tensor, digits: int, width: int) -> str:
    x = float(x)
    if abs(x) < 0.5 * 10 ** (-digits):
        x = 0.0  # no "-0.000" from rounding noise
    return f"{x:>{width}.{digits}f}"


Transform = Callable[[Tensor], Tensor]
_KINDS: dict[str, Transform] = {"AND": and_interactions, "OR": or_interactions}
