"""Minimal-feature solver (DESIGN.md Eq. 5, 9, 10).

For every subset ``T ⊆ N`` find the least change from the baseline that still regenerates every
patch in ``T``::

    f_T = b + m_T ⊙ (f − b),        m_T ∈ [0, 1]^d
    minimise  ‖m_T ⊙ (f − b)‖₁ / d + λ · Σ_{i ∈ T} max(0, mse_i − ε)

by projected Adam steps (``m`` clamped into [0, 1] after each step), starting from ``m = 0``
(``f_T = b``; the paper's Eq. 10 starts from "a tensor with all elements 0").  ``mse_i`` is the
error of patch ``i`` alone, so a subset is *feasible* when every one of its patches is within ε.
The literal reading of the extracted Eq. 5 — one mse over all of T's pixels — stays available as
``constraint="mean"``, and so does a start from ``m = 1`` (``init=1.0``); DESIGN.md §1 records why
neither is the default (the components they give cancel each other).

Subsets are independent problems, so they run as one batch: a pool of ``batch_size`` slots; a
subset leaves its slot as soon as it is feasible and its objective stopped improving for
``patience`` steps, and the next pending subset takes the slot.  Each subset returns its best
feasible iterate (or, if it never became feasible, the last iterate it evaluated — the one whose
errors it reports).

``nested=True`` solves subsets in increasing size; each ``m_T`` starts from, and is projected onto,
the union bound ``m_T ≥ max_{i∈T} m_{T∖{i}}`` of its maximal proper subsets.  That builds the OR
structure in and cuts iterations 3–7× at n = 9 (measured on 5 face images) — but it also makes
a random (dense control) feature look sparse, so sparsity comparisons use the independent solve.

Adam is written out here (a few lines) because the per-row state must follow subsets in and out
of the pool.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Callable, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .validate import check_solver_settings

CONSTRAINTS = ("patch", "mean")
PRECISIONS = ("fp32", "bf16")
"""Execution precisions of the generator tail (:func:`solve_minimal_features` ``precision=``)."""


@dataclass(frozen=True)
class SolverConfig:
    """Settings of the minimal-feature optimisation (Eq. 10).

    ``epsilon`` is the mse tolerance on a [-1, 1] image; it is rescaled to other value ranges by
    :meth:`epsilon_for`.  ``lam`` is λ.  ``init`` is the start value of every mask element
    (0: ``f_T = b``).  ``constraint`` is ``"patch"`` (every patch of ``T`` within ε, default) or
    ``"mean"`` (one mse over all of T's pixels).  ``nested`` solves subsets by increasing size
    under the union bound of their maximal proper subsets (fast; see the module docstring).
    ``restart``: a subset that was never feasible when its constraint violation stopped falling
    for ``patience`` steps, or when its iterations are spent, starts once more from ``m = 1``
    (where it is feasible) with a fresh budget — a start from 0 can stall in a local minimum of
    the constraint or climb too slowly for a short schedule.  (Restarting earlier, at half the
    budget, cut short climbs that would have succeeded and raised cancellation: measured on
    dcgan-faces seed 3, n = 6, 1.95 → 3.78.)  ``margin``: the penalty aims at
    ``(1 − margin)·ε`` so that iterates settle strictly within ε instead of oscillating across it.
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

    def __post_init__(self) -> None:
        def positive(name: str, value: float, allow_zero: bool = False) -> None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < 0 or (value == 0 and not allow_zero):
                need = "a finite number ≥ 0" if allow_zero else "a finite number > 0"
                raise ValueError(f"solver setting {name} must be {need}, got {value!r}")

        positive("lr", self.lr)
        positive("lam", self.lam)
        positive("epsilon", self.epsilon)
        positive("rel_tol", self.rel_tol, allow_zero=True)
        for name in ("iterations", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"solver setting {name} must be a whole number ≥ 1, got {value!r}")
        positive("init", self.init, allow_zero=True)
        positive("margin", self.margin, allow_zero=True)
        if self.margin >= 1:
            raise ValueError(f"solver setting margin must be below 1, got {self.margin!r}")
        if self.init > 1:
            raise ValueError(f"solver setting init is a mask value in [0, 1], got {self.init!r}")
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"solver setting constraint must be one of {CONSTRAINTS}, got {self.constraint!r}")
        if not all(isinstance(b, float) and 0 <= b < 1 for b in self.betas) or len(self.betas) != 2:
            raise ValueError(f"solver setting betas must be two numbers in [0, 1), got {self.betas!r}")

    def epsilon_for(self, value_range: tuple[float, float]) -> float:
        half = (value_range[1] - value_range[0]) / 2.0
        return self.epsilon * half * half

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """A short label for screens and logs, e.g. ``"nested, per patch, 300 it"``."""
        mode = "nested" if self.nested else "independent"
        rule = "per patch" if self.constraint == "patch" else "mean over T"
        return f"{mode}, {rule} ≤ ε, start m={self.init:g}, ≤{self.iterations} it, lr {self.lr:g}"


PRESETS: dict[str, SolverConfig] = {
    # After the paper's Table 2.
    "biggan": SolverConfig(lr=1e-4, iterations=1_000, lam=500.0),
    "stylegan": SolverConfig(lr=1e-3, iterations=10_000, lam=500.0),
    "nvae": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    "sid": SolverConfig(lr=1e-3, iterations=10_000, lam=200.0),
    # Our CPU settings: larger steps, short schedule, early stopping does the rest.
    "fast": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3),
    "tiny": SolverConfig(lr=5e-2, iterations=150, lam=200.0, patience=10, rel_tol=1e-3),
    # The widgets' mode on a CPU: `fast` solved nested (3–7× fewer subset-iterations at n = 9).
    "interactive": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3, nested=True),
    # prsg_widgets 0.1.0's solver, kept for comparison only: its components cancel (DESIGN.md §1).
    "legacy": SolverConfig(lr=2e-2, iterations=300, lam=200.0, patience=30, rel_tol=1e-3, init=1.0,
                           constraint="mean", restart=False, margin=0.0),
}
"""Named solver settings. ``biggan``/``stylegan``/``nvae``/``sid`` follow Table 2; ``fast``/``tiny``
are for CPUs; ``interactive`` is ``fast`` with ``nested=True``; ``legacy`` is 0.1.0's ``fast``
(start from 1, one mse over T), for comparison only."""


def get_solver_config(solver: Union[str, SolverConfig, None] = "fast", **overrides) -> SolverConfig:
    """A :class:`SolverConfig` from a preset name or a config, with keyword overrides (checked)."""
    if solver is None:
        solver = "fast"
    if isinstance(solver, str):
        if solver not in PRESETS:
            raise ValueError(f"unknown solver preset {solver!r}; presets: {', '.join(PRESETS)}")
        solver = PRESETS[solver]
    elif not isinstance(solver, SolverConfig):
        raise ValueError(f"solver must be a preset name ({', '.join(PRESETS)}) or a SolverConfig, "
                         f"got {type(solver).__name__}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - set(SolverConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown solver settings {sorted(unknown)}; settings: "
                         f"{', '.join(SolverConfig.__dataclass_fields__)}")
    overrides = check_solver_settings(overrides)  # bounds: no overflow, no trivially feasible ε
    return replace(solver, **overrides) if overrides else solver


@dataclass
class SolveResult:
    """Per subset (rows labelled by ``subsets``, bitmasks over ``N``): ``features`` ``f_T`` ``(k, d)``;
    ``mse`` over all of T's pixels; ``patch_mse`` ``(k, n)`` of each patch (``nan`` for patches not
    in ``T``); ``max_patch_mse``, the worst patch; ``feasible`` = every patch of ``T`` within ε;
    ``iterations`` used; and the L1 term ``sparsity`` ``‖m ⊙ (f−b)‖₁/d``."""

    subsets: Tensor
    features: Tensor
    mse: Tensor
    patch_mse: Tensor
    max_patch_mse: Tensor
    feasible: Tensor
    iterations: Tensor
    sparsity: Tensor


class SolveInterrupted(RuntimeError):
    """Raised when ``should_stop()`` turned true; results already emitted are kept by the caller."""


ResultCallback = Callable[[SolveResult], None]


def subset_membership(subsets: Sequence[int], n: int, dtype=torch.float32, device=None) -> Tensor:
    """``(k, n)`` 0/1 matrix: row ``j`` has a 1 at bit ``i`` of ``subsets[j]``."""
    bits = torch.as_tensor([int(s) for s in subsets], dtype=torch.long, device=device)
    return ((bits.unsqueeze(1) >> torch.arange(n, device=device)) & 1).to(dtype)


def worst_patch_mse(patch_mse: Tensor) -> Tensor:
    """The largest per-patch mse of each row of ``(k, n)`` (``nan`` = patch not in T; 0 for ∅)."""
    if patch_mse.shape[1] == 0:
        return torch.zeros(patch_mse.shape[0], dtype=patch_mse.dtype, device=patch_mse.device)
    return patch_mse.nan_to_num(nan=-math.inf).max(1).values.clamp_min(0)


def mask_of(feature_t: Tensor, baseline: Tensor, delta: Tensor) -> Tensor:
    """The mask ``m`` with ``f_T = b + m ⊙ (f − b)``, recovered from ``f_T`` (0 where ``f = b``)."""
    safe = torch.where(delta != 0, delta, torch.ones_like(delta))
    return torch.where(delta != 0, (feature_t - baseline) / safe, torch.zeros_like(delta)).clamp(0, 1)


def default_unit(device: torch.device, batch_size: int, num_subsets: Optional[int] = None) -> int:
    """Rows per tail call: 16 on the CPU (as fast per subset-iteration as 32 or 64 on 2 cores,
    little padding for a small request); on a GPU the whole batch, but no more than the
    explanation's ``num_subsets`` (2^n − 1) so 511 subsets never run in 1024 slots.  Depends
    only on the device, the batch size and n — never on what is pending — so results stay
    batch-independent."""
    if device.type == "cuda":
        return min(batch_size, num_subsets) if num_subsets else batch_size
    return min(batch_size, 16)


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
    patch_masks: Tensor,
    subsets: Sequence[int],
    config: SolverConfig = PRESETS["fast"],
    epsilon: Optional[float] = None,
    batch_size: Optional[int] = None,
    feature_shape: Optional[Sequence[int]] = None,
    progress: Union[bool, Callable[[int, int], None]] = True,
    on_result: Optional[ResultCallback] = None,
    should_stop: Optional[Callable[[], bool]] = None,
    known: Optional[Mapping[int, Tensor]] = None,
    unit: Optional[int] = None,
    precision: str = "fp32",
    compile: bool = False,
    channels_last: bool = False,
    on_step: Optional[Callable[[dict[int, int]], None]] = None,
) -> SolveResult:
    """Solve the minimal feature ``f_T`` (Eq. 5, 9, 10) of every subset in ``subsets``.

    ``feature`` and ``baseline`` are flattened ``(d,)``; ``image`` is ``x = g(f)`` ``(C, H, W)``;
    ``patch_masks`` ``(n, H, W)`` is the pixel mask of each patch of ``N``; ``subsets`` are int
    bitmasks over those patches (``0`` gives ``f_∅ = b`` without optimising).  With
    ``config.nested``, every maximal proper subset ``T∖{i}`` of a subset must be in ``subsets`` or
    in ``known`` (a mapping bitmask → ``f_T`` of subsets solved before).
    ``progress`` is ``True`` for a tqdm bar or a callable ``(done, total)``.  ``on_result`` is
    called with each group of finished subsets as they finish, so an interrupted solve (an
    exception, or ``should_stop()``) keeps them.  ``on_step({subset: iterations})`` is called
    once per batched iteration with the subsets in the batch and the iterations each has run
    since its (re)start — for progress displays.

    Results do not depend on the batch: the tail always runs on blocks of exactly ``unit`` rows
    (default :func:`default_unit`; idle slots are padding), so a subset's ``f_T`` is the same
    whichever subsets share its batch, and a resumed solve equals an uninterrupted one.  (Kernels
    round differently for different batch shapes; over hundreds of Adam steps that grew to 3e-5.)
    Deterministic on the CPU.

    Execution options (how, not what, is computed; the math settings stay in ``config``):
    ``precision="bf16"`` runs only the tail under ``torch.autocast`` (bfloat16) and casts its image
    back to float32 — masks, losses, gradients and Adam state stay float32;
    ``compile=True`` runs the tail through ``torch.compile`` (blocks of exactly ``unit`` rows give
    it one static shape); ``channels_last=True`` hands the tail its 4-D feature in channels-last
    memory format.  ``tests/test_gpu_options.py`` states how close each is to the default.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    feature = feature.reshape(-1)
    baseline = baseline.reshape(-1).to(feature)
    if not torch.isfinite(feature).all() or not torch.isfinite(baseline).all():
        raise ValueError(
            "the feature or the baseline contains NaN or inf; check the generator's output at the "
            "split layer (a NaN feature cannot be explained)"
        )
    if not torch.isfinite(image).all():
        raise ValueError("the target image contains NaN or inf; check the generator's output")
    device = feature.device
    d = feature.numel()
    shape = tuple(feature_shape) if feature_shape is not None else (d,)
    n = patch_masks.shape[0]
    labels = torch.as_tensor([int(s) for s in subsets], dtype=torch.long)
    k = labels.numel()
    if k and (int(labels.min()) < 0 or int(labels.max()) >= 1 << n):
        raise ValueError(f"subset bitmasks must lie in 0..{(1 << n) - 1} for n = {n} patches")
    eps = config.epsilon if epsilon is None else float(epsilon)
    aim = eps * (1.0 - config.margin)
    delta = feature - baseline
    image = image.to(device)
    channels = image.shape[0]
    pmask = patch_masks.to(device=device, dtype=feature.dtype)
    patch_npix = pmask.flatten(1).sum(1) * channels  # values per patch
    if n and (patch_npix == 0).any():
        raise ValueError("every patch mask must cover at least one pixel")
    member = subset_membership(labels.tolist(), n, feature.dtype, device)  # (k, n)

    def plain_tail(f: Tensor) -> Tensor:
        return tail(f.view(f.shape[0], *shape))

    exec_tail = torch.compile(tail, dynamic=False) if compile else tail
    autocast = precision == "bf16"
    to_channels_last = channels_last and len(shape) == 3

    def run_tail(f: Tensor) -> Tensor:
        x = f.view(f.shape[0], *shape)
        if to_channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if autocast:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                y = exec_tail(x)
            return y.float()
        return exec_tail(x)

    if batch_size is None:
        batch_size = estimate_batch_size(plain_tail, (d,), device)
    batch_size = max(1, int(batch_size))
    unit = default_unit(device, batch_size, (1 << n) - 1) if unit is None else max(1, int(unit))

    out_features = torch.empty(k, d, dtype=feature.dtype, device=device)
    out_mse = torch.zeros(k, dtype=feature.dtype, device=device)
    out_pmse = torch.full((k, n), math.nan, dtype=feature.dtype, device=device)
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
    # nested: the mask of every finished or known subset, for the union bounds of larger ones
    masks_by_subset: dict[int, Tensor] = {}
    if config.nested and known:
        for s, f_s in known.items():
            masks_by_subset[int(s)] = mask_of(f_s.reshape(-1).to(feature), baseline, delta)
    masks_by_subset.setdefault(0, torch.zeros(d, dtype=feature.dtype, device=device))
    row_of = {int(s): j for j, s in enumerate(labels.tolist())}

    def emit(rows: list[int], ms: Tensor, mse: Tensor, pmse: Tensor, iters: Tensor, sp: Tensor) -> None:
        nonlocal done_count
        idx = torch.as_tensor(rows, dtype=torch.long, device=device)
        feats = torch.addcmul(baseline, ms, delta)
        pmse = torch.where(member[idx] > 0, pmse, torch.full_like(pmse, math.nan))
        worst = worst_patch_mse(pmse)
        feas = worst <= eps
        out_features[idx], out_mse[idx], out_pmse[idx], out_feasible[idx] = feats, mse, pmse, feas
        out_iters[idx], out_sparse[idx] = iters, sp
        done_count += len(rows)
        if config.nested:
            # recovered from f_T exactly as a resumed solve recovers it from the stored f_T
            for j, r in enumerate(rows):
                masks_by_subset[int(labels[r])] = mask_of(feats[j], baseline, delta)
        if on_result is not None:
            on_result(SolveResult(labels[idx.cpu()], feats.detach(), mse.detach(), pmse.detach(), worst.detach(),
                                  feas.detach(), iters.detach(), sp.detach()))
        if bar is not None:
            bar.update(len(rows))
        if report is not None:
            report(done_count, k)

    # f_∅ = b exactly: the empty set is answered without optimising.
    empty = [j for j in range(k) if int(labels[j]) == 0]
    if empty:
        z = torch.zeros(len(empty), dtype=feature.dtype, device=device)
        emit(empty, torch.zeros(len(empty), d, dtype=feature.dtype, device=device), z,
             torch.full((len(empty), n), math.nan, dtype=feature.dtype, device=device),
             torch.zeros(len(empty), dtype=torch.long, device=device), z)
    pending = [j for j in range(k) if int(labels[j]) != 0]
    if config.nested:
        pending.sort(key=lambda j: (bin(int(labels[j])).count("1"), j))
        for j in pending:
            s = int(labels[j])
            missing = [s & ~(1 << i) for i in range(n) if (s >> i) & 1
                       and (s & ~(1 << i)) not in row_of and (s & ~(1 << i)) not in masks_by_subset]
            if missing:
                raise ValueError(f"nested solving of subset {s} needs its maximal proper subsets {missing} "
                                 "solved first or solved in the same call")

    def parents(s: int) -> list[int]:
        return [s & ~(1 << i) for i in range(n) if (s >> i) & 1]

    def ready(j: int) -> bool:
        if not config.nested:
            return True
        return all(p in masks_by_subset for p in parents(int(labels[j])))

    b1, b2 = config.betas
    cap = -(-min(batch_size, max(len(pending), 1)) // unit) * unit  # whole blocks of `unit` rows
    slot_row = torch.full((cap,), -1, dtype=torch.long)
    m = torch.zeros(cap, d, dtype=feature.dtype, device=device)
    m1 = torch.zeros_like(m)
    m2 = torch.zeros_like(m)
    lower = torch.zeros_like(m) if config.nested else None
    step = torch.zeros(cap, dtype=feature.dtype, device=device)
    best_m = torch.zeros_like(m)
    best_obj = torch.full((cap,), math.inf, dtype=feature.dtype, device=device)
    best_mse = torch.zeros(cap, dtype=feature.dtype, device=device)
    best_pmse = torch.zeros(cap, n, dtype=feature.dtype, device=device)
    best_sp = torch.zeros(cap, dtype=feature.dtype, device=device)
    stall = torch.zeros(cap, dtype=torch.long, device=device)
    # rescue of a start from m = 0 caught in a local minimum of the constraint (see `restart`)
    best_viol = torch.full((cap,), math.inf, dtype=feature.dtype, device=device)
    vstall = torch.zeros(cap, dtype=torch.long, device=device)
    t0 = torch.zeros(cap, dtype=feature.dtype, device=device)  # Adam's clock restarts with m
    restarted = torch.zeros(cap, dtype=torch.bool, device=device)
    slot_member = torch.zeros(cap, n, dtype=feature.dtype, device=device)

    def fill(slots: list[int]) -> None:
        for s in slots:
            pick = next((idx for idx, j in enumerate(pending) if ready(j)), None)
            if pick is None:
                slot_row[s] = -1
                continue
            row = pending.pop(pick)
            slot_row[s] = row
            slot_member[s] = member[row]
            if lower is not None:
                # union bound of the maximal proper subsets: start there and never go below it
                lower[s] = torch.stack([masks_by_subset[p] for p in parents(int(labels[row]))]).amax(0)
                m[s] = torch.clamp(lower[s], min=config.init) if config.init > 0 else lower[s]
            else:
                m[s] = config.init
            m1[s] = 0
            m2[s] = 0
            step[s] = 0
            best_obj[s] = math.inf
            stall[s] = 0
            best_viol[s] = math.inf
            vstall[s] = 0
            t0[s] = 0
            restarted[s] = False

    fill(list(range(cap)))
    try:
        with torch.enable_grad():
            while True:
                occupied = (slot_row >= 0).view(-1, unit).any(1)
                if not occupied.any():
                    break
                if should_stop is not None and should_stop():
                    live_now = int((slot_row >= 0).sum())
                    raise SolveInterrupted(f"stopped with {len(pending) + live_now} subsets unsolved")
                # every block of `unit` slots holding a live subset runs whole (idle slots are
                # padding), so each row sees the same kernel shapes whatever else is in the pool
                blocks = torch.nonzero(occupied).flatten().tolist()
                whole = len(blocks) * unit == cap
                act = (torch.arange(cap).view(-1, unit)[blocks].flatten()).to(device)
                live = (slot_row[act.cpu()] >= 0).to(device)
                sel = slice(None) if whole else act
                ma = m[sel].clone().requires_grad_(True)
                f_t = torch.addcmul(baseline, ma, delta)
                pmse = torch.cat([
                    torch.einsum("bhw,nhw->bn", (run_tail(f_t[i:i + unit]) - image).pow_(2).sum(1), pmask)
                    for i in range(0, f_t.shape[0], unit)]) / patch_npix  # each patch's own mse
                memb = slot_member[sel]
                mse = (pmse * patch_npix * memb).sum(1) / (patch_npix * memb).sum(1).clamp_min(1e-12)
                # the penalty aims a little inside ε so the iterates settle within it, not on it
                if config.constraint == "patch":
                    violation = (torch.relu(pmse - aim) * memb).sum(1)
                    feasible = ((pmse <= eps) | (memb == 0)).all(1) & live
                else:
                    violation = torch.relu(mse - aim)
                    feasible = (mse <= eps) & live
                sparsity = (ma * delta).abs().mean(1)
                obj = sparsity + config.lam * violation
                (grad,) = torch.autograd.grad(obj.sum(), ma)
                with torch.no_grad():
                    ma = ma.detach()
                    pmse = pmse.detach()
                    better = feasible & (obj < best_obj[sel] * (1 - config.rel_tol))
                    # keep the best feasible iterate; a barely better one still replaces it
                    replace_best = feasible & (obj < best_obj[sel])
                    if replace_best.any():
                        bi = act[replace_best]
                        best_m[bi] = ma[replace_best]
                        best_obj[bi] = obj[replace_best]
                        best_mse[bi] = mse[replace_best]
                        best_pmse[bi] = pmse[replace_best]
                        best_sp[bi] = sparsity[replace_best]
                    stall_a = torch.where(better, torch.zeros_like(stall[sel]), stall[sel] + 1)
                    step_a = step[sel] + 1
                    viol = violation.detach()
                    vbetter = viol < best_viol[sel] * (1 - config.rel_tol)
                    vstall_a = torch.where(vbetter, torch.zeros_like(vstall[sel]), vstall[sel] + 1)
                    best_viol_a = torch.minimum(best_viol[sel], viol)
                    # a budget per start: a rescued subset gets a fresh one (t0 = its restart step)
                    spent = step_a - t0[sel]
                    rescue = None
                    if config.restart:
                        # never feasible, and the violation stopped falling or the budget ran out:
                        # start once more from m = 1, where the subset is feasible
                        rescue = (~torch.isfinite(best_obj[sel])) & ~restarted[sel] & live
                        rescue &= (vstall_a >= config.patience) | (spent >= config.iterations)
                        if not rescue.any():
                            rescue = None
                    finished = (spent >= config.iterations) & live
                    if config.early_stop:
                        finished |= (best_obj[sel] < math.inf) & (stall_a >= config.patience) & live
                    if rescue is not None:
                        finished &= ~rescue
                    if finished.any():
                        fs = act[finished]
                        never = ~torch.isfinite(best_obj[fs])
                        # never feasible: report the last evaluated iterate, whose errors we hold
                        col = never.unsqueeze(1)
                        emit(slot_row[fs.cpu()].tolist(), torch.where(col, ma[finished], best_m[fs]),
                             torch.where(never, mse.detach()[finished], best_mse[fs]),
                             torch.where(col, pmse[finished], best_pmse[fs]), step_a[finished].long(),
                             torch.where(never, sparsity.detach()[finished], best_sp[fs]))
                        slot_row[fs.cpu()] = -1
                    # Adam on the active rows, then project onto [lower bound, 1]
                    m1_a = m1[sel].mul_(b1).add_(grad, alpha=1 - b1)
                    m2_a = m2[sel].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    t_a = step_a - t0[sel]
                    c1 = (1 - b1 ** t_a).unsqueeze(1)
                    c2 = (1 - b2 ** t_a).unsqueeze(1)
                    denom = (m2_a / c2).sqrt_().add_(1e-8)
                    new_m = ma.addcdiv_(m1_a / c1, denom, value=-config.lr).clamp_(0, 1)
                    if lower is not None:
                        new_m = torch.maximum(new_m, lower[sel])
                    t0_a, restarted_a = t0[sel], restarted[sel]
                    if rescue is not None:
                        new_m[rescue] = 1.0
                        m1_a[rescue] = 0
                        m2_a[rescue] = 0
                        t0_a = torch.where(rescue, step_a, t0_a)
                        restarted_a = restarted_a | rescue
                        vstall_a = torch.where(rescue, torch.zeros_like(vstall_a), vstall_a)
                        best_viol_a = torch.where(rescue, torch.full_like(best_viol_a, math.inf), best_viol_a)
                    if whole:
                        m.copy_(new_m)
                        step.copy_(step_a)
                        stall.copy_(stall_a)
                        vstall.copy_(vstall_a)
                        best_viol.copy_(best_viol_a)
                        t0.copy_(t0_a)
                        restarted.copy_(restarted_a)
                    else:
                        m[act], m1[act], m2[act] = new_m, m1_a, m2_a
                        step[act], stall[act] = step_a, stall_a
                        vstall[act], best_viol[act], t0[act], restarted[act] = vstall_a, best_viol_a, t0_a, restarted_a
                    if finished.any():
                        # nested: finished subsets may unlock larger ones for every idle slot
                        fill(torch.nonzero(slot_row < 0).flatten().tolist())
                    if on_step is not None:
                        live_slots = torch.nonzero(slot_row >= 0).flatten()
                        spent_now = (step - t0)[live_slots.to(device)].long().tolist()
                        on_step({int(labels[int(slot_row[i])]): n_it
                                 for i, n_it in zip(live_slots.tolist(), spent_now)})
    finally:
        if bar is not None:
            bar.close()
    return SolveResult(labels, out_features, out_mse, out_pmse, worst_patch_mse(out_pmse), out_feasible,
                       out_iters, out_sparse)
