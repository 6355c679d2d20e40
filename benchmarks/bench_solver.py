"""Solver benchmark: every ratio below is measured in this one run, same model and settings.

    python benchmarks/bench_solver.py [--model dcgan-faces] [--n 4] [--iterations 40]
    python benchmarks/bench_solver.py --cheap --n 9 --seed 3 --defaults-only   # 0.2.0 vs today at n = 9

0. the solver's presets: 0.1.0's ``legacy`` (n < 8 only), 0.2.0's ``fast`` and ``interactive``
   (``RELEASE_0_2``: patience 30, no bound stop, no polish) and today's, side by side:
   subset-iterations, wall time, mean L1, feasible share, cancellation, matching error;
1. batched (all subsets in one batch) vs ``batch_size=1``: seconds per subset-iteration;
2. early stopping vs the fixed schedule: iterations used, final mse, sparsity;
3. a disk-cached explanation vs a fresh solve;
4. ``--breakdown``: where a solve's wall time goes at n = 6 and n = 9 — the tail's forward +
   backward (its rows, padding included, times its cost per block measured alone) vs the rest
   (objective, bookkeeping, Adam, the slot pool, the queue).  Run it in two checkouts, interleaved,
   to compare them.
5. ``--precision``: fp32 against ``mixed`` (bf16 steps, answers in fp32) side by side at n = 6
   and n = 9: wall, subset-iterations and their cost, the tail's rows in each precision and their
   measured cost per row, cancellation, L1 — and the ratios.  Where the CPU has no bf16 matrix
   engine bf16 is emulated (slower than fp32) and the line says so: read the rows and the quality
   there, and the wall on a machine with one.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch

from prsg_widgets import Explainer
from prsg_widgets.core.solver import RELEASE_0_2, bf16_matrix_engine, get_solver_config, solve_minimal_features


def timed_solve(ex: Explainer, expl, masks, subsets, config, batch_size):
    start = time.perf_counter()
    res = solve_minimal_features(
        lambda f: ex.generator.tail(f), expl.sample.feature, ex.baseline, expl.sample.image, masks, subsets,
        config, epsilon=ex.epsilon, batch_size=batch_size, feature_shape=ex.generator.feature_shape,
        progress=False)
    return time.perf_counter() - start, res


def compare_defaults(ex: Explainer, seed: int, n: int, legacy: bool = True) -> None:
    """0.2.0's presets against today's on one explanation, side by side, measured in this run:
    subset-iterations, wall time, mean L1 ‖u(T)‖₁/‖f−b‖₁, cancellation, matching error.
    """
    runs = [("legacy", "legacy")] if legacy else []
    runs += [("0.2.0 fast", RELEASE_0_2["fast"]), ("fast", "fast"),
             ("0.2.0 interactive", RELEASE_0_2["interactive"]), ("interactive", "interactive")]
    rows = {}
    patches = None
    for name, preset in runs:
        with Explainer(ex.generator, grid=ex.grid.size, solver=preset, progress=False) as other:
            expl = other.explain(seed, n=n) if patches is None else other.explain(seed, patches=patches)
            patches = expl.patches
            start = time.perf_counter()
            expl.solve_all()
            seconds = time.perf_counter() - start
            h = expl.health()
            u = expl.minimal_features()[1:] - expl.baseline.reshape(1, -1)
            delta = expl.sample.feature.reshape(-1) - expl.baseline.reshape(-1)
            l1 = float(u.abs().mean(1).mean() / delta.abs().mean())
            rows[name] = (int(expl.iterations.sum()), seconds, l1, h)
        its, seconds, l1, h = rows[name]
        print(f"[defaults] {name:<17} {its:>7,} subset-iterations {seconds:7.1f} s | L1 {l1:.4f} of ‖f−b‖₁ | "
              f"every patch within ε {h.subsets - h.infeasible}/{h.subsets} | cancellation {h.cancellation:5.2f} | "
              f"matching top-{h.k} {h.matching_error:.3g}", flush=True)
    for preset in ("fast", "interactive"):
        old, new = rows[f"0.2.0 {preset}"], rows[preset]
        print(f"[defaults] {preset} vs 0.2.0: subset-iterations x{old[0] / new[0]:.2f} fewer, "
              f"time x{old[1] / new[1]:.2f}, L1 {100 * (new[2] / old[2] - 1):+.1f}%, "
              f"cancellation {old[3].cancellation:.2f} -> {new[3].cancellation:.2f}")


def breakdown(model: str, cheap: bool, seed: int, n: int, preset: str = "interactive") -> None:
    """One fresh solve of ``n`` patches: wall, subset-iterations, tail rows evaluated (padding
    included), the tail's share of the wall, cancellation and L1.  The tail's forward is timed
    inside the solve; its backward as that times the backward/forward ratio measured alone (the
    cores are shared: a ratio drifts less than a cost).
    """
    with tempfile.TemporaryDirectory() as tmp:
        ex = Explainer(model, cheap=cheap, solver=preset, progress=False, cache_dir=tmp)
        expl = ex.explain(seed, n=n)
        gen, tail = ex.generator, ex.generator.tail
        ratio = _backward_ratio(tail, expl.sample.feature.reshape(1, -1).repeat(16, 1).to(ex.device),
                                gen.feature_shape, expl.sample.code)
        rows, forward = 0, 0.0

        def timed_tail(f, *a, **k):
            nonlocal rows, forward
            start = time.perf_counter()
            out = tail(f, *a, **k)
            forward += time.perf_counter() - start
            rows += f.shape[0]
            return out

        gen.tail = timed_tail
        try:
            start = time.perf_counter()
            expl.solve_all()
            wall = time.perf_counter() - start
        finally:
            del gen.tail
        h, its = expl.health(), int(expl.iterations.sum())
        share = min(1.0, forward * ratio / wall)
        print(f"[breakdown] n={n} {preset}: wall {wall:.1f} s, {its:,} subset-iterations "
              f"({1e3 * wall / its:.2f} ms each), {rows:,} tail rows ({100 * (1 - its / max(rows, 1)):.0f}% padding) "
              f"-> tail fwd+bwd {100 * share:.0f}% of wall (bwd/fwd {ratio - 1:.2f}), rest {100 * (1 - share):.0f}% | "
              f"cancellation {h.cancellation:.4f} | L1 {h.l1_ratio:.4f} | worst patch {h.worst_patch_mse:.3g}",
              flush=True)


def precision_pair(model: str, cheap: bool, seed: int, n: int, preset: str = "interactive",
                   modes: tuple[str, ...] = ("fp32", "mixed")) -> None:
    """One fresh solve per precision mode of the same image, side by side: wall, subset-iterations
    (and wall per subset-iteration), the tail's rows run in fp32 and in bf16 with their measured
    forward cost per row, cancellation, L1, worst patch (every mode reports fp32 numbers except
    ``bf16``), then each mode's ratios to the first.
    """
    rows = {}
    for mode in modes:
        with Explainer(model, cheap=cheap, solver=preset, progress=False, precision=mode) as ex:
            expl = ex.explain(seed, n=n)
            wall, count, spent = _solve_counting_precisions(ex, expl)
            h, its = expl.health(), int(expl.iterations.sum())
            per_row = {k: (1e3 * spent[k] / count[k] if count[k] else float("nan")) for k in (False, True)}
            rows[mode] = (wall, its, h)
            print(f"[precision] n={n} {preset} {mode:<5} wall {wall:6.1f} s, {its:,} subset-iterations "
                  f"({1e3 * wall / its:.2f} ms each) | tail rows fp32 {count[False]:,} ({per_row[False]:.2f} ms fwd "
                  f"each), bf16 {count[True]:,} ({per_row[True]:.2f} ms) | cancellation {h.cancellation:.4f}, "
                  f"L1 {h.l1_ratio:.4f}, worst patch {h.worst_patch_mse:.3g} (ε {h.epsilon:.3g}), "
                  f"feasible {h.subsets - h.infeasible}/{h.subsets}", flush=True)
    base = modes[0]
    for mode in modes[1:]:
        (w0, i0, h0), (w1, i1, h1) = rows[base], rows[mode]
        print(f"[precision] n={n} {mode} vs {base}: wall x{w0 / w1:.2f} faster, subset-iterations "
              f"{100 * (i1 / i0 - 1):+.1f}%, cancellation {h0.cancellation:.4f} -> {h1.cancellation:.4f}, "
              f"L1 {100 * (h1.l1_ratio / h0.l1_ratio - 1):+.2f}%", flush=True)


def _solve_counting_precisions(ex: Explainer, expl) -> tuple[float, dict, dict]:
    """Solve ``expl`` and return the wall, and the tail's rows and forward seconds by precision
    (``True``: under bf16 autocast).
    """
    gen, tail = ex.generator, ex.generator.tail
    count, spent = {False: 0, True: 0}, {False: 0.0, True: 0.0}

    def timed_tail(f, *a, **k):
        bf16 = torch.is_autocast_enabled(f.device.type)
        start = time.perf_counter()
        out = tail(f, *a, **k)
        spent[bf16] += time.perf_counter() - start
        count[bf16] += f.shape[0]
        return out

    gen.tail = timed_tail
    try:
        start = time.perf_counter()
        expl.solve_all()
        return time.perf_counter() - start, count, spent
    finally:
        del gen.tail


def _backward_ratio(tail, block, shape, code, repeats: int = 10) -> float:
    """(forward + backward) / forward of the tail on ``block`` rows, alternated so load hits both alike."""
    fwd = both = 0.0
    for i in range(repeats + 1):
        xa = block.clone().requires_grad_(True)
        start = time.perf_counter()
        out = tail(xa.view(block.shape[0], *shape), code)
        mid = time.perf_counter()
        torch.autograd.grad(out.sum(), xa)
        end = time.perf_counter()
        if i:  # the first is a warm-up
            fwd, both = fwd + mid - start, both + end - start
    return both / fwd


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="dcgan-faces")
    p.add_argument("--cheap", action="store_true")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iterations", type=int, default=40, help="fixed iterations for the batching comparison")
    p.add_argument("--preset", default="fast")
    p.add_argument("--repeats", type=int, default=3, help="alternating repeats of the batching timing (best kept)")
    p.add_argument("--defaults-n", type=int, default=6, help="n of the old-vs-new defaults comparison (0: skip)")
    p.add_argument("--defaults-only", action="store_true", help="only the 0.2.0-vs-today comparison")
    p.add_argument("--breakdown", action="store_true",
                   help="only the wall-time breakdown (tail vs the rest) at n = 6 and n = 9, preset interactive")
    p.add_argument("--precision", action="store_true",
                   help="only fp32 vs mixed side by side at n = 6 and n = 9, preset interactive")
    args = p.parse_args()
    if args.precision:
        engine = bf16_matrix_engine("cuda" if torch.cuda.is_available() else "cpu")
        print("bf16 matrix engine: " + ("yes" if engine else "no - bf16 is emulated here, slower than fp32; "
                                        "read the rows and the quality, not the wall"))
        for n in (6, 9):
            precision_pair(args.model, args.cheap, args.seed, n)
        return
    if args.breakdown:
        for n in (6, 9):
            breakdown(args.model, args.cheap, args.seed, n)
        return
    if args.n >= 8 and args.defaults_n == 6:
        args.defaults_n = args.n  # `--n 9`: the side-by-side comparison at the paper's n
    torch.manual_seed(0)
    ex = Explainer(args.model, cheap=args.cheap, solver=args.preset, progress=False)
    expl = ex.explain(args.seed, n=args.n)
    subsets = list(range(1, expl.num_subsets))
    masks = ex.grid.patch_masks(expl.patches)
    print(f"model {args.model}, layer {ex.generator.layer} (d={ex.generator.d}), n={args.n} "
          f"({len(subsets)} subsets), torch threads {torch.get_num_threads()}, device {ex.device}")
    if args.defaults_n:
        compare_defaults(ex, args.seed, args.defaults_n, legacy=args.defaults_n < 8)
    if args.defaults_only:
        return

    fixed = get_solver_config(ex.config, iterations=args.iterations, early_stop=False)
    # alternate the two and keep each one's best time, so a burst of other load hits both alike
    t_batch = t_one = float("inf")
    for _ in range(args.repeats):
        t_batch = min(t_batch, timed_solve(ex, expl, masks, subsets, fixed, len(subsets))[0])
        t_one = min(t_one, timed_solve(ex, expl, masks, subsets, fixed, 1)[0])
    work = len(subsets) * args.iterations
    print(f"[batching] {args.iterations} fixed iterations: batched {1e3 * t_batch / work:.2f} ms/subset-iter, "
          f"batch_size=1 {1e3 * t_one / work:.2f} ms/subset-iter -> speed-up x{t_one / t_batch:.2f}")

    full = get_solver_config(ex.config, early_stop=False)
    t_fix, r_fix = timed_solve(ex, expl, masks, subsets, full, len(subsets))
    t_es, r_es = timed_solve(ex, expl, masks, subsets, ex.config, len(subsets))
    print(f"[early stop] preset {args.preset!r} ({full.iterations} iterations max): fixed schedule "
          f"{int(r_fix.iterations.sum())} subset-iterations, {t_fix:.1f} s, mean mse {r_fix.mse.mean():.2e}, "
          f"mean sparsity {r_fix.sparsity.mean():.4f}, feasible {int(r_fix.feasible.sum())}/{len(subsets)}")
    print(f"             early stopping {int(r_es.iterations.sum())} subset-iterations, {t_es:.1f} s, mean mse "
          f"{r_es.mse.mean():.2e}, mean sparsity {r_es.sparsity.mean():.4f}, feasible "
          f"{int(r_es.feasible.sum())}/{len(subsets)} -> "
          f"iterations x{r_fix.iterations.sum() / r_es.iterations.sum():.2f} "
          f"fewer, time x{t_fix / t_es:.2f}, sparsity ratio {float(r_es.sparsity.mean() / r_fix.sparsity.mean()):.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        cached = Explainer(ex.generator, grid=ex.grid.size, solver=ex.config, cache_dir=tmp, progress=False)
        start = time.perf_counter()
        cached.explain(args.seed, patches=expl.patches).solve_all()
        t_fresh = time.perf_counter() - start
        start = time.perf_counter()
        cached2 = Explainer(ex.generator, grid=ex.grid.size, solver=ex.config, cache_dir=tmp, progress=False)
        cached2.explain(args.seed, patches=expl.patches).solve_all()
        t_cached = time.perf_counter() - start
    print(f"[cache] fresh solve {t_fresh:.2f} s, from disk cache {t_cached:.3f} s -> x{t_fresh / t_cached:.0f}")


if __name__ == "__main__":
    main()
