"""OR / AND Harsanyi interactions of a vector-valued set function, by the fast Möbius transform.

A set function over the ``n`` selected patches is stored as a tensor of shape ``(2^n, d)``: row
``T`` (a bitmask, bit i ⇔ patch i) holds ``u(T) = f_T − b``.  All transforms are butterflies,
``O(n · 2^n · d)``; the ``naive_*`` functions are the ``O(3^n · d)`` textbook sums, kept for tests.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor


def _num_players(values: Tensor) -> int:
    size = values.shape[0]
    n = size.bit_length() - 1
    if size < 1 or (1 << n) != size:
        raise ValueError(f"the first dimension must be 2^n, got {size}")
    return n


def _butterfly(values: Tensor, sign: int) -> Tensor:
    """Zeta (``sign=+1``: sum over subsets) or Möbius (``sign=-1``) along dim 0."""
    n = _num_players(values)
    out = values.clone()
    rest = out.shape[1:]
    for i in range(n):
        view = out.view(1 << (n - 1 - i), 2, 1 << i, *rest)
        if sign > 0:
            view[:, 1] += view[:, 0]
        else:
            view[:, 1] -= view[:, 0]
    return out


def zeta_transform(values: Tensor) -> Tensor:
    """``F(T) = Σ_{S ⊆ T} values(S)``."""
    return _butterfly(values, +1)


def mobius_transform(values: Tensor) -> Tensor:
    """``a(S) = Σ_{L ⊆ S} (−1)^{|S|−|L|} values(L)`` (inverse of :func:`zeta_transform`)."""
    return _butterfly(values, -1)


def and_interactions(u: Tensor) -> Tensor:
    """AND Harsanyi dividends ``I_and(S) = Σ_{L⊆S} (−1)^{|S|−|L|} u(L)``."""
    return mobius_transform(u)


def and_inverse(interactions: Tensor) -> Tensor:
    """``u(T) = Σ_{S⊆T} I_and(S)``."""
    return zeta_transform(interactions)


def or_interactions(u: Tensor) -> Tensor:
    """OR Harsanyi interactions, the feature components of Eq. 6.

    ``I(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} u(N∖L)`` for ``S ≠ ∅`` and ``I(∅) = u(∅)``, computed as the
    Möbius transform of the dual ``w(T) = u(N) − u(N∖T)``.  Row 0 is ``u(∅)`` (zero when
    ``f_∅ = b``).
    """
    _num_players(u)
    dual = u[-1:] - u.flip(0)  # N∖T has bitmask (2^n−1) ^ T, i.e. the reversed row order
    out = mobius_transform(dual)
    out[0] = u[0]
    return out


def or_inverse(interactions: Tensor) -> Tensor:
    """``u(T) = I(∅) + Σ_{S∩T≠∅} I(S)`` — the inverse of :func:`or_interactions` (Eq. 7)."""
    return reconstruct(interactions)


def reconstruct(interactions: Tensor, keep: Tensor | Iterable[int] | None = None) -> Tensor:
    """Linear additivity (Eq. 7): ``û(T) = I(∅) + Σ_{S ∈ keep, S∩T≠∅} I(S)`` for every ``T``.

    ``keep`` selects components: a boolean mask of length ``2^n`` or an iterable of subset
    bitmasks; ``None`` keeps all, which gives back ``u`` exactly.  Add ``b`` to get ``f_T``.
    """
    n = _num_players(interactions)
    sel = interactions
    if keep is not None:
        mask = _keep_mask(keep, 1 << n, interactions.device)
        sel = interactions * mask.view(-1, *([1] * (interactions.dim() - 1))).to(interactions.dtype)
    body = sel.clone()
    body[0] = 0
    total = body.sum(0, keepdim=True)
    # Σ_{S∩T=∅} = Σ_{S⊆N∖T}: a zeta transform read in reversed order.
    disjoint = zeta_transform(body).flip(0)
    return total - disjoint + interactions[0:1]


def _keep_mask(keep: Tensor | Iterable[int], size: int, device) -> Tensor:
    if isinstance(keep, Tensor) and keep.dtype == torch.bool:
        if keep.numel() != size:
            raise ValueError(f"keep mask must have {size} entries, got {keep.numel()}")
        return keep.to(device)
    mask = torch.zeros(size, dtype=torch.bool, device=device)
    idx = torch.as_tensor(list(keep) if not isinstance(keep, Tensor) else keep, dtype=torch.long)
    mask[idx.to(device)] = True
    return mask


# ---------------------------------------------------------------------- naive references
def _popcount(x: int) -> int:
    return bin(x).count("1")


def naive_or_interactions(u: Tensor) -> Tensor:
    """Eq. 6 summed literally over ``L ⊆ S`` (``O(3^n)``), with ``I(∅) = u(∅)``."""
    n = _num_players(u)
    full = (1 << n) - 1
    out = torch.zeros_like(u)
    out[0] = u[0]
    for s in range(1, 1 << n):
        acc = torch.zeros_like(u[0])
        sub = s
        while True:  # enumerate all L ⊆ S
            sign = -1.0 if (_popcount(s) - _popcount(sub)) % 2 else 1.0
            acc += sign * u[full ^ sub]
            if sub == 0:
                break
            sub = (sub - 1) & s
        out[s] = -acc
    return out


def naive_and_interactions(u: Tensor) -> Tensor:
    """Harsanyi dividends summed literally over ``L ⊆ S``."""
    n = _num_players(u)
    out = torch.zeros_like(u)
    for s in range(1 << n):
        sub = s
        while True:
            sign = -1.0 if (_popcount(s) - _popcount(sub)) % 2 else 1.0
            out[s] += sign * u[sub]
            if sub == 0:
                break
            sub = (sub - 1) & s
    return out


def subset_sizes(n: int) -> Tensor:
    """``|S|`` for every bitmask ``S`` of ``n`` players, shape ``(2^n,)``."""
    idx = torch.arange(1 << n)
    return torch.stack([(idx >> i) & 1 for i in range(n)]).sum(0) if n else torch.zeros(1, dtype=torch.long)


def submasks(s: int) -> list[int]:
    """Every subset ``L ⊆ S`` of a bitmask, ``S`` first and ``∅`` last."""
    out, sub = [], int(s)
    while True:
        out.append(sub)
        if sub == 0:
            return out
        sub = (sub - 1) & s


def down_closure(subsets: Iterable[int]) -> set[int]:
    """Every subset of every bitmask in ``subsets``."""
    out: set[int] = set()
    for s in subsets:
        if s not in out:
            out.update(submasks(s))
    return out


def or_interaction_needs(s: int, full: int) -> list[int]:
    """The ``u(N∖L)``, ``L ⊆ S``, that one OR interaction ``I(S)`` needs (Eq. 6): ``2^{|S|}`` subsets."""
    return [full ^ sub for sub in submasks(s)]


def or_interaction(u: Callable[[int], Tensor], s: int, full: int) -> Tensor:
    """One OR interaction ``I(S) = −Σ_{L⊆S} (−1)^{|S|−|L|} u(N∖L)`` (Eq. 6) from a lookup ``u(T)``,
    in float64, without the ``2^n`` transform; ``I(∅) = 0`` here (the baseline's share).
    """
    pop = _popcount(s)
    acc = None
    for sub in submasks(s):
        term = u(full ^ sub).double()
        acc = (term if (pop - _popcount(sub)) % 2 == 0 else -term) if acc is None else (
            acc + term if (pop - _popcount(sub)) % 2 == 0 else acc - term)
    assert acc is not None  # submasks(s) yields at least s itself
    return -acc if s else torch.zeros_like(acc)
