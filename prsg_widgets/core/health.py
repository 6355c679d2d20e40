"""The health of an explanation: does it hold up as a faithful OR decomposition?

Pure functions over the solved arrays.  A solver that stops at path-dependent points gives
components that are large, high-order and cancel each other, while every identity of the transform
still holds to float precision — so the tests of Eq. 6/7 cannot see it.  These numbers can:

* ``feasible_share``: subsets ``T ≠ ∅`` whose every patch is regenerated within ε (Eq. 10's
  constraint); ``patch_feasible_share``: the same over all (subset, patch) pairs;
* ``l1_ratio``: ``‖u(N)‖₁ / ‖f − b‖₁`` — how much of the full feature change ``f_N`` keeps;
* ``cancellation``: ``Σ_{S≠∅} ‖I(S)‖₁ / ‖u(N)‖₁`` — 1 when components never cancel (OR
  components of a nested family of masks are non-negative multiples of ``f − b``); ≫ 1 means
  high-order components are large and offset each other;
* matching error at top-k (Sec. 3.1, Fig. 4), both readings: ``Σ_T ‖u(T) − û(T)‖² / Σ_T ‖u(T)‖²``
  with ``u = f_T − b`` (the honest one) and ``Σ_T ‖u(T) − û(T)‖² / Σ_T ‖f_T‖²`` (relative to the
  feature, which ``b`` dominates);
* ``mass_share``: the smallest share of all component elements holding 90% of their L1 mass
  (lower = sparser), and the same for the dense control when it was solved.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from .harsanyi import reconstruct
from .solver import worst_patch_mse

CANCELLATION_WARN = 2.0
"""Cancellation above this is reported as unhealthy."""


def default_top_k(n: int) -> int:
    """The ``k`` of the matching error when none is given: ``min(30, 2^n / 4)`` — the paper's
    30 of 511 at n = 9, 16 of 63 at n = 6, 4 of 15 at n = 4.
    """
    return max(1, min(30, (1 << n) // 4))


def top_components(components: Tensor, k: int) -> list[int]:
    """Bitmasks of the ``k`` non-empty components with the largest ``‖I(S)‖₂`` (stable order)."""
    norms = components.double().norm(dim=1)
    order = torch.argsort(norms, descending=True, stable=True).tolist()
    return [s for s in order if s != 0][:k]


def matching_errors(u: Tensor, components: Tensor, k: int) -> tuple[list[int], Tensor]:
    """Sec. 3.1: ``‖u(T) − û(T)‖₂²`` per subset ``T`` with ``û(T) = Σ_{S ∈ top-k, S∩T≠∅} I(S)``
    (Eq. 7 restricted to the top-``k``).  Returns the kept bitmasks and the errors ``(2^n,)``.
    """
    kept = top_components(components, k)
    u_hat = reconstruct(components.double(), kept)
    return kept, (u.double() - u_hat).pow(2).sum(1)


def mass_rank_sorted(curve: np.ndarray, mass: float = 0.9) -> int:
    """The fewest of the largest elements of a curve sorted descending (a Fig. 3 curve) that hold
    ``mass`` of its L1 mass: the rank where the curve reaches it (0 for an empty or all-zero curve).
    """
    curve = np.asarray(curve, dtype=np.float64)
    if curve.size == 0 or curve[0] == 0:
        return 0
    cum = np.cumsum(curve)
    return min(int(np.searchsorted(cum, mass * cum[-1])) + 1, curve.size)


def mass_share_sorted(curve: np.ndarray, mass: float = 0.9) -> float:
    """:func:`mass_share` of magnitudes already sorted descending (a Fig. 3 curve)."""
    size = np.asarray(curve).size
    return mass_rank_sorted(curve, mass) / size if size else 0.0


def mass_share(values: Tensor, mass: float = 0.9) -> float:
    """The smallest share of the elements of ``values`` whose ``|value|`` hold ``mass`` of the
    total L1 mass (0 for an all-zero input).
    """
    flat = values.detach().abs().flatten().double().cpu().numpy()
    return mass_share_sorted(-np.sort(-flat), mass)


@dataclass(frozen=True)
class Health:
    """How faithful one explanation is (see the module docstring for each number)."""

    n: int
    epsilon: float
    subsets: int
    feasible_share: float
    patch_feasible_share: float
    worst_patch_mse: float
    l1_ratio: float
    cancellation: float
    k: int
    matching_error: float
    matching_error_vs_feature: float
    mass_share: float
    control_mass_share: float | None = None
    nested: bool | None = None
    """Whether the solve that made the components was nested (``None``: not known, e.g. a file
    without its solver settings); the advice of :meth:`warnings` depends on it."""
    precision: str | None = None
    """The precision the generator's tail ran in while solving (``"fp32"``, ``"bf16"``; ``None``:
    not known)."""

    @property
    def infeasible(self) -> int:
        """How many non-empty subsets have a patch above ε."""
        return int(round(self.subsets * (1 - self.feasible_share)))

    def warnings(self) -> list[str]:
        """Plain-language problems, empty when the explanation looks healthy."""
        out = []
        if self.infeasible:
            out.append(f"{self.infeasible} of {self.subsets} minimal features leave a patch above the error "
                       f"tolerance ε (worst patch mse {self.worst_patch_mse:.2g} > {self.epsilon:.2g}): they do "
                       "not regenerate their patches. Solve with more iterations or a larger λ.")
        if self.cancellation > CANCELLATION_WARN:
            out.append(f"components cancel each other: their total size is {self.cancellation:.1f}× the "
                       "change they add up to (1 = no cancellation). Large high-order components offset each "
                       "other, so single components are not trustworthy. " + self._cancellation_advice())
        if self.control_mass_share is not None and self.control_mass_share <= self.mass_share:
            why = {True: " (nested solving, used here, makes any feature look sparse)",
                   None: " (nested solving, if it was used, makes any feature look sparse)"}.get(self.nested, "")
            out.append(f"the dense control is as sparse as the explanation ({self.control_mass_share:.3g} vs "
                       f"{self.mass_share:.3g} of elements hold 90% of the mass): sparsity here says little "
                       f"about the generator{why}.")
        return out

    def _cancellation_advice(self) -> str:
        """What to try against cancellation, for the mode that ran: nested solving is advised only
        to a solve that did not use it.
        """
        if self.nested:
            return ("Nested solving is already in use: solve with more iterations, choose fewer patches, or "
                    "compare with an independent solve (the dashboard's \"Re-solve independently\", solver='fast').")
        if self.nested is False:
            return ("Solve with more iterations, with nested solving (preset 'interactive'), or, if you chose "
                    "them, without init=1 and the 'mean' constraint.")
        return ("Solve with more iterations, nested solving (preset 'interactive') if it was not used, or, if you "
                "chose them, without init=1 and the 'mean' constraint.")

    @property
    def ok(self) -> bool:
        """True when :meth:`warnings` finds nothing."""
        return not self.warnings()

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)

    def to_json(self) -> str:
        """The fields as JSON (NaN written as ``null``)."""
        return json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v)
                           for k, v in self.as_dict().items()}, indent=2)

    def summary(self) -> str:
        """A few lines for a terminal or a notebook."""
        lines = [
            f"every patch within ε: {self.subsets - self.infeasible}/{self.subsets} non-empty subsets "
            f"({100 * self.patch_feasible_share:.1f}% of patches; worst mse {self.worst_patch_mse:.2g}, "
            f"ε = {self.epsilon:.2g})" + ("" if self.precision is None else f"; solved in {self.precision}"),
            f"cancellation Σ‖I(S)‖₁/‖u(N)‖₁ = {self.cancellation:.2f} (1 = none)   "
            f"‖u(N)‖₁/‖f−b‖₁ = {self.l1_ratio:.3f}",
            f"matching error top-{self.k}: {self.matching_error:.3g} of Σ‖f_T−b‖², "
            f"{self.matching_error_vs_feature:.3g} of Σ‖f_T‖²",
            f"90% of component mass in {100 * self.mass_share:.2f}% of elements"
            + ("" if self.control_mass_share is None else
               f" (dense control: {100 * self.control_mass_share:.2f}%)"),
        ]
        lines += [f"WARNING: {w}" for w in self.warnings()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        import html

        return "<pre>" + html.escape(self.summary()) + "</pre>"


def explanation_health(
    features: Tensor,
    baseline: Tensor,
    feature: Tensor,
    patch_mse: np.ndarray,
    epsilon: float,
    components: Tensor,
    k: int | None = None,
    control_mass_share: float | None = None,
    nested: bool | None = None,
    precision: str | None = None,
) -> Health:
    """The :class:`Health` of a solved explanation: ``features`` ``f_T`` ``(2^n, d)``, ``baseline``
    ``b`` and ``feature`` ``f`` ``(d,)``, ``patch_mse`` ``(2^n, n)`` (``nan`` outside ``T``),
    ``components`` ``I(S)`` ``(2^n, d)`` (Eq. 6); ``nested``: whether a nested solve made them
    (the advice of :meth:`Health.warnings` depends on it); ``precision``: the precision the
    generator's tail ran in, reported as it is.
    """
    size, _ = features.shape
    n = size.bit_length() - 1
    k = default_top_k(n) if k is None else int(k)
    b = baseline.double().reshape(-1)
    u = features.double() - b
    full = size - 1
    pm = np.asarray(patch_mse, dtype=np.float64)[1:]
    inside = ~np.isnan(pm)
    worst = worst_patch_mse(torch.from_numpy(pm)).numpy()
    u_full_l1 = float(u[full].abs().sum())
    delta_l1 = float((feature.double().reshape(-1) - b).abs().sum())
    _, errors = matching_errors(u, components, k)
    err = float(errors.sum())
    return Health(
        n=n, epsilon=float(epsilon), subsets=full,
        feasible_share=float(np.mean(worst <= epsilon)) if full else 1.0,
        patch_feasible_share=float(np.mean(pm[inside] <= epsilon)) if inside.any() else 1.0,
        worst_patch_mse=float(worst.max()) if full else 0.0,
        l1_ratio=u_full_l1 / delta_l1 if delta_l1 > 0 else math.nan,
        cancellation=float(components[1:].double().abs().sum()) / u_full_l1 if u_full_l1 > 0 else math.nan,
        k=k,
        matching_error=err / float(u.pow(2).sum()) if float(u.pow(2).sum()) > 0 else math.nan,
        matching_error_vs_feature=err / float(features.double().pow(2).sum()),
        mass_share=mass_share(components[1:]),
        control_mass_share=control_mass_share,
        nested=None if nested is None else bool(nested),
        precision=precision,
    )
