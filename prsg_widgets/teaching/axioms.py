"""The four axioms (efficiency, linearity, dummy, symmetry) checked the way a theorem is: each
check builds, from whatever game the student dialled in, a game in which the axiom's premise holds
by construction and measures the residual of its conclusion.  For the AND and OR transforms every
residual is at float precision; the naive :func:`marginal_attribution` is the counter-example
that fails efficiency as soon as the game has interactions.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .games import TOL, _players, add_dummy_player, symmetrize
from .interactions import _KINDS, Transform


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
        """True when the residual is within the tolerance."""
        return bool(self.residual <= self.tol)

    def line(self) -> str:
        """One line for a report: ✓/✗, the axiom, the residual and the statement."""
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.axiom:<11} {self.kind:<8} residual {self.residual:.2e}   {self.statement}"


def _transform(kind: str) -> Transform:
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "marginal":
        return marginal_attribution
    raise ValueError(f"unknown interaction kind {kind!r}: 'AND', 'OR' or 'marginal'")


def marginal_attribution(v: Tensor) -> Tensor:
    """The naive attribution used as a counter-example: each singleton gets its marginal worth
    ``v({i}) − v(∅)``, larger coalitions get nothing (so interactions are simply dropped).
    """
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
    ``I(S) = 0`` for every larger ``S ∋ d``.
    """
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
    ``I(S ∪ {i}) = I(S ∪ {j})`` for every ``S`` containing neither.
    """
    f = _transform(kind)
    vs = symmetrize(v, i, j)
    n = _players(vs)
    out = f(vs)
    bi, bj = 1 << i, 1 << j
    res = 0.0
    for s in range(1 << n):
        if not s & (bi | bj):
            res = max(res, abs(float(out[s | bi] - out[s | bj])))
    statement = f"players {i + 1},{j + 1} made symmetric: I(S∪{{{i + 1}}}) = I(S∪{{{j + 1}}})"
    return AxiomCheck("symmetry", kind, statement, res)


def check_axioms(v: Tensor, w: Tensor | None = None, alpha: float = 2.0, beta: float = -0.5,
                 dummy_worth: float = 1.0, kinds: Iterable[str] = ("AND", "OR")) -> list[AxiomCheck]:
    """All four axioms for each interaction kind.  ``w`` (the second game of linearity) defaults
    to a fixed seeded random game of the same size.
    """
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
