"""Minimal-feature solver (DESIGN.md Eq. 5, 9, 10).

For every subset ``T ⊆ N`` find the least change from the baseline that still regenerates the
patches in ``T``::

    f_T = b + m_T ⊙ (f − b),        m_T ∈ [0, 1]^d
    minimise  ‖m_T ⊙ (f − b)‖₁ / d + λ · max(0, mse_T − ε)

by projected Adam steps (``m`` clamped into [0, 1] after each step), starting from ``m = 1``
(``f_T = f``, feasible).  Subsets are independent problems, so they run as one batch: a pool of
``batch_size`` slots; a subset leaves its slot as soon as it is feasible and its objective stopped
improving for ``patience`` steps, and the next pending subset takes the slot.  Each subset returns
its best feasible iterate.  Adam is written out here (a few lines) because the per-row state must
follow subsets in and out of the pool.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor
from tqdm.auto import tqdm


@dataclass(frozen=True)
class SolverConfig:
    """Settings of the minimal-feature optimisation.

    ``epsilon`` is the mse tolerance on a [-1, 1] image; it is rescaled to other value ranges by
    :meth:`epsilon_for`.  ``lam`` is λ of Eq. 10.
    """

    lr: float = 1e-3
    iterations: int = 10_000
    lam: float = 200.0
    epsilon: float = 1e-3
    early_stop: bool = True
    patience: int = 100
    rel_tol: float = 1e-3
    init: float = 1.0
    betas: tuple[float, float] = (0.9, 0.999)

    def epsilon_for(self, value_range: tuple[float, float]) -> float:
        half = (value_range[1] - value_range[0]) / 2.0
        return self.epsilon * half * half

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, SolverConfig] = {
    # After the paper's Table 2.
    "biggan": SolverConfig(lr=1e-4, iterations=1_000, lam=500.0),
    "stylegan": SolverConfig(lr=1e-3, iterations=10_000, lam=500.0),
    "nvae": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    "sid": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    # Our CPU settings: larger steps, short schedule, early stopping does the rest.
    "fast": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3),
    "tiny": SolverConfig(lr=5e-2, iterations=60, lam=200.0, patience=10, rel_tol=1e-3),
}
"""Named solver settings. ``paper`` presets follow Table 2; ``fast``/``tiny`` are for CPUs."""


def get_solver_config(solver: Union[str, SolverConfig, None] = "fast", **overrides) -> SolverConfig:
    """A :class:`SolverConfig` from a preset name or a config, with keyword overrides."""
    if solver is None:
        solver = "fast"
    if isinstance(solver, str):
        if solver not in PRESETS:
            raise ValueError(f"unknown solver preset {solver!r}; presets: {', '.join(PRESETS)}")
        solver = PRESETS[solver]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(solver, **overrides) if overrides else solver


@dataclass
class SolveResult:
    """Per subset: ``features`` ``f_T`` ``(k, d)``, final ``mse``, ``feasible`` (mse ≤ ε),
    ``iterations`` used, and the L1 term ``sparsity`` ``‖m ⊙ (f−b)‖₁/d``."""

    subsets: Tensor
    features: Tensor
    mse: Tensor
    feasible: Tensor
    iterations: Tensor
    sparsity: Tensor


class SolveInterrupted(RuntimeError):
    """Raised when ``should_stop()`` turned true; results already emitted are kept by the caller."""


ResultCallback = Callable[[SolveResult], None]


def estimate_batch_size(
    tail: Callable[[Tensor], Tensor],
    feature_shape: Sequence[int],
    device: torch.device,
    memory_budget: Optional[int] = None,
    max_batch: int = 1024,
) -> int:
    """Pick how many subsets to optimise at once from a memory budget (bytes).

    The per-subset cost is measured by running the tail once on one feature and counting the
    elements of every intermediate tensor autograd keeps; the default budget is 2 GiB on the CPU
    and half of the free memory on a GPU.
    """
    if memory_budget is None:
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            memory_budget = free // 2
        else:
            memory_budget = 2 << 30
    d = math.prod(feature_shape)
    saved = 0

    def pack(t: Tensor) -> Tensor:
        nonlocal saved
        saved += t.numel() * t.element_size()
        return t

    probe = torch.zeros(1, *feature_shape, device=device, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = tail(probe)
    per_subset = 2 * saved + 3 * out.numel() * 4 + 12 * d * 4  # activations ×2 for grads, Adam state
    return int(max(1, min(max_batch, memory_budget // max(per_subset, 1))))


def solve_minimal_features(
    tail: Callable[[Tensor], Tensor],
    feature: Tensor,
    baseline: Tensor,
    image: Tensor,
    masks: Tensor,
    config: SolverConfig = PRESETS["fast"],
    epsilon: Optional[float] = None,
    batch_size: Optional[int] = None,
    subsets: Optional[Sequence[int]] = None,
    feature_shape: Optional[Sequence[int]] = None,
    progress: Union[bool, Callable[[int, int], None]] = True,
    on_result: Optional[ResultCallback] = None,
    should_stop: Optional[Callable[[], bool]] = None,
    seed: int = 0,
) -> SolveResult:
    """Solve the minimal feature ``f_T`` of every subset whose pixel mask is in ``masks``.

    ``feature`` and ``baseline`` are flattened ``(d,)``; ``image`` is ``x = g(f)`` ``(C, H, W)``;
    ``masks`` ``(k, H, W)`` is ``clip_T`` for each subset (an all-false mask gives ``f_T = b``
    without optimising).  ``subsets`` labels the rows in the result (default ``0..k-1``).
    ``progress`` is ``True`` for a tqdm bar or a callable ``(done, total)``.  ``on_result`` is
    called with each group of finished subsets as they finish, so an interrupted solve (an
    exception, or ``should_stop()``) keeps them.  Deterministic on the CPU for a given ``seed``.
    """
    feature = feature.reshape(-1)
    baseline = baseline.reshape(-1).to(feature)
    if not torch.isfinite(feature).all() or not torch.isfinite(baseline).all():
        raise ValueError(
            "the feature or the baseline contains NaN or inf; check the generator's output at the "
            "split layer (a NaN feature cannot be explained)"
        )
    device = feature.device
    d = feature.numel()
    shape = tuple(feature_shape) if feature_shape is not None else (d,)
    k = masks.shape[0]
    labels = torch.as_tensor(list(subsets) if subsets is not None else range(k), dtype=torch.long)
    if labels.numel() != k:
        raise ValueError("subsets and masks must have the same length")
    eps = config.epsilon if epsilon is None else float(epsilon)
    delta = feature - baseline
    image = image.to(device)
    masks = masks.to(device)
    channels = image.shape[0]
    npix = masks.flatten(1).sum(1).to(feature.dtype) * channels

    def run_tail(f: Tensor) -> Tensor:
        return tail(f.view(f.shape[0], *shape))

    if batch_size is None:
        batch_size = estimate_batch_size(run_tail, (d,), device)
    batch_size = max(1, int(batch_size))

    out_features = torch.empty(k, d, dtype=feature.dtype, device=device)
    out_mse = torch.zeros(k, dtype=feature.dtype, device=device)
    out_feasible = torch.zeros(k, dtype=torch.bool, device=device)
    out_iters = torch.zeros(k, dtype=torch.long, device=device)
    out_sparse = torch.zeros(k, dtype=feature.dtype, device=device)

    bar = None
    report: Optional[Callable[[int, int], None]] = None
    if progress is True:
        bar = tqdm(total=k, desc="minimal features", unit="subset", leave=False)
    elif callable(progress):
        report = progress
    done_count = 0

    def emit(rows: list[int], feats: Tensor, mse: Tensor, feas: Tensor, iters: Tensor, sp: Tensor) -> None:
        nonlocal done_count
        idx = torch.as_tensor(rows, dtype=torch.long, device=device)
        out_features[idx], out_mse[idx], out_feasible[idx] = feats, mse, feas
        out_iters[idx], out_sparse[idx] = iters, sp
        done_count += len(rows)
        if on_result is not None:
            on_result(SolveResult(labels[idx.cpu()], feats.detach(), mse.detach(), feas.detach(),
                                  iters.detach(), sp.detach()))
        if bar is not None:
            bar.update(len(rows))
        if report is not None:
            report(done_count, k)

    # f_∅ = b exactly: empty masks are answered without optimising.
    empty = [i for i in range(k) if npix[i] == 0]
    if empty:
        z = torch.zeros(len(empty), dtype=feature.dtype, device=device)
        emit(empty, baseline.expand(len(empty), d).clone(), z, torch.ones(len(empty), dtype=torch.bool,
             device=device), torch.zeros(len(empty), dtype=torch.long, device=device), z)
    pending = [i for i in range(k) if npix[i] > 0]
    pending.reverse()  # pop() from the end keeps the natural order

    torch.manual_seed(seed)  # nothing is random today; keeps future stochastic options reproducible
    b1, b2 = config.betas
    cap = min(batch_size, max(len(pending), 1))
    slot_row = torch.full((cap,), -1, dtype=torch.long)
    m = torch.ones(cap, d, dtype=feature.dtype, device=device)
    m1 = torch.zeros_like(m)
    m2 = torch.zeros_like(m)
    step = torch.zeros(cap, dtype=feature.dtype, device=device)
    best_m = torch.ones_like(m)
    best_obj = torch.full((cap,), math.inf, dtype=feature.dtype, device=device)
    best_mse = torch.zeros(cap, dtype=feature.dtype, device=device)
    best_sp = torch.zeros(cap, dtype=feature.dtype, device=device)
    stall = torch.zeros(cap, dtype=torch.long, device=device)
    slot_mask = torch.zeros(cap, 1, *masks.shape[1:], dtype=feature.dtype, device=device)
    slot_npix = torch.ones(cap, dtype=feature.dtype, device=device)

    def fill(slots: list[int]) -> None:
        for s in slots:
            if not pending:
                slot_row[s] = -1
                continue
            row = pending.pop()
            slot_row[s] = row
            slot_mask[s, 0] = masks[row]
            slot_npix[s] = npix[row]
            m[s] = config.init
            m1[s] = 0
            m2[s] = 0
            step[s] = 0
            best_m[s] = config.init
            best_obj[s] = math.inf
            best_mse[s] = 0
            best_sp[s] = 0
            stall[s] = 0

    fill(list(range(cap)))
    try:
        with torch.enable_grad():
            while True:
                active = torch.nonzero(slot_row >= 0).flatten()
                if active.numel() == 0:
                    break
                if should_stop is not None and should_stop():
                    raise SolveInterrupted(f"stopped with {len(pending) + active.numel()} subsets unsolved")
                # a full pool (the usual case) works on whole tensors in place: no gather/scatter
                whole = active.numel() == cap
                act = active.to(device)
                sel = slice(None) if whole else act
                ma = m[sel].clone().requires_grad_(True) if whole else m[sel].requires_grad_(True)
                f_t = torch.addcmul(baseline, ma, delta)
                err = (run_tail(f_t) - image).pow_(2).mul_(slot_mask[sel])
                mse = err.flatten(1).sum(1) / slot_npix[sel]
                sparsity = (ma * delta).abs().mean(1)
                obj = sparsity + config.lam * torch.relu(mse - eps)
                (grad,) = torch.autograd.grad(obj.sum(), ma)
                with torch.no_grad():
                    ma = ma.detach()
                    feasible = mse <= eps
                    better = feasible & (obj < best_obj[sel] * (1 - config.rel_tol))
                    # keep the best feasible iterate; a barely better one still replaces it
                    replace_best = feasible & (obj < best_obj[sel])
                    if replace_best.any():
                        bi = act[replace_best]
                        best_m[bi] = ma[replace_best]
                        best_obj[bi] = obj[replace_best]
                        best_mse[bi] = mse[replace_best]
                        best_sp[bi] = sparsity[replace_best]
                    stall_a = torch.where(better, torch.zeros_like(stall[sel]), stall[sel] + 1)
                    step_a = step[sel] + 1
                    # Adam on the active rows, then project onto [0, 1]
                    m1_a = m1[sel].mul_(b1).add_(grad, alpha=1 - b1)
                    m2_a = m2[sel].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    c1 = (1 - b1 ** step_a).unsqueeze(1)
                    c2 = (1 - b2 ** step_a).unsqueeze(1)
                    denom = (m2_a / c2).sqrt_().add_(1e-8)
                    new_m = ma.addcdiv_(m1_a / c1, denom, value=-config.lr).clamp_(0, 1)
                    if whole:
                        m.copy_(new_m)
                        step.copy_(step_a)
                        stall.copy_(stall_a)
                    else:
                        m[act], m1[act], m2[act] = new_m, m1_a, m2_a
                        step[act], stall[act] = step_a, stall_a
                    finished = step_a >= config.iterations
                    if config.early_stop:
                        finished |= (best_obj[sel] < math.inf) & (stall_a >= config.patience)
                    if finished.any():
                        fs = act[finished]
                        never = ~torch.isfinite(best_obj[fs])
                        # no feasible iterate: report the last one, flagged infeasible
                        feats_m = torch.where(never.unsqueeze(1), m[fs], best_m[fs])
                        emit(slot_row[fs.cpu()].tolist(), baseline + feats_m * delta,
                             torch.where(never, mse[finished], best_mse[fs]), ~never,
                             step[fs].long(), torch.where(never, sparsity[finished].detach(), best_sp[fs]))
                        fill(fs.cpu().tolist())
    finally:
        if bar is not None:
            bar.close()
    return SolveResult(labels, out_features, out_mse, out_feasible, out_iters, out_sparse)
