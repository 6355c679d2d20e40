"""GPU benchmark of the solver's execution path, one script, < 5 minutes on one H100/H200.

    python benchmarks/bench_gpu.py                      # a CUDA device; dcgan-faces main.5, n = 9
    python benchmarks/bench_gpu.py --cpu-smoke          # tiny settings on the CPU: the script works

Sections (each prints one or two lines, ``[tag] ...``):

1. ``[batching]``  batched (all subsets in one pool) vs one subset at a time (``batch_size=1``):
   milliseconds per subset-iteration on a fixed schedule;
2. ``[n=9]``       all 511 minimal features of n = 9 with a paper preset (Table 2; default
   ``sid``: lr 1e-3, ≤ 10⁴ iterations, λ 200, early stopping), batch from the memory budget:
   time, peak GPU memory, subset-iterations, health (feasible share, cancellation, matching error).
   A run longer than ``--budget`` seconds stops and reports what it finished;
3. ``[bf16]``      the same solve with the tail under bf16 autocast (masks and Adam in fp32): time and
   the difference of the health and of the minimal features against fp32;
4. ``[compile]``   ``torch.compile`` of the tail on/off (and ``[channels-last]``): ms per
   subset-iteration on a fixed schedule after a warm-up, and the one-time compile cost.

Everything is measured in this run.  CUDA timings synchronise the device.  On the CPU
(``--cpu-smoke``: toy-scenes' cheap layer, n = 3, a short schedule) the numbers say only that every
path runs.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from prsg_widgets import Explainer
from prsg_widgets.core import harsanyi
from prsg_widgets.core.health import explanation_health
from prsg_widgets.core.solver import estimate_batch_size, get_solver_config, solve_minimal_features
from prsg_widgets.defaults import Execution


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB peak GPU memory"
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB peak RSS (process)"


class Case:
    """One explanation's inputs, ready for :func:`solve_minimal_features`."""

    def __init__(self, ex: Explainer, seed: int, n: int) -> None:
        self.ex = ex
        expl = ex.explain(seed, n=n)
        self.n = expl.n
        self.sample = expl.sample
        self.masks = ex.grid.patch_masks(expl.patches, device=ex.device)
        self.patches = expl.patches

    def solve(self, subsets, config, batch_size=None, budget=None, **options):
        ex, s = self.ex, self.sample
        deadline = None if budget is None else time.perf_counter() + budget
        stop = None if deadline is None else (lambda: time.perf_counter() > deadline)
        done = []
        sync(ex.device)
        start = time.perf_counter()
        try:
            res = solve_minimal_features(
                lambda f: ex.generator.tail(f, s.code), s.feature.to(ex.device), ex.baseline, s.image.to(ex.device),
                self.masks, subsets, config, epsilon=ex.epsilon, batch_size=batch_size,
                feature_shape=ex.generator.feature_shape, progress=False, should_stop=stop,
                on_result=done.append, execution=Execution(**options))
            complete = True
        except Exception as exc:  # noqa: BLE001 - SolveInterrupted at the budget; report what finished
            if type(exc).__name__ != "SolveInterrupted":
                raise
            res, complete = None, False
        sync(ex.device)
        return time.perf_counter() - start, res, complete, done

    def health(self, res):
        ex = self.ex
        feats = res.features.detach().double().cpu()
        b = ex.baseline.double().cpu()
        comps = harsanyi.or_interactions(feats - b)
        return explanation_health(feats, b, self.sample.feature.cpu(), res.patch_mse.cpu().numpy(), ex.epsilon,
                                  comps.float())


def fmt_health(h) -> str:
    return (f"every patch within ε {h.subsets - h.infeasible}/{h.subsets}, cancellation {h.cancellation:.2f}, "
            f"matching error top-{h.k} {h.matching_error:.3g}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpu-smoke", action="store_true", help="tiny settings on the CPU (checks that every path runs)")
    p.add_argument("--model", default=None, help="built-in model (default dcgan-faces; toy-scenes with --cpu-smoke)")
    p.add_argument("--cheap", action="store_true", help="the model's cheaper layer")
    p.add_argument("--n", type=int, default=None, help="patches of the full solve (default 9; 3 with --cpu-smoke)")
    p.add_argument("--preset", default=None, help="paper preset of the full solve (default sid; tiny with --cpu-smoke)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=None,
                   help="seconds per full solve before it stops and reports (default 75; 60 with --cpu-smoke)")
    p.add_argument("--fixed-iterations", type=int, default=None, help="schedule of the per-iteration timings")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile section")
    args = p.parse_args()

    smoke = args.cpu_smoke
    if not smoke and not torch.cuda.is_available():
        print("no CUDA device here: run with --cpu-smoke to check the script on the CPU", file=sys.stderr)
        return 2
    device = "cpu" if smoke else "cuda"
    model = args.model or ("toy-scenes" if smoke else "dcgan-faces")
    cheap = args.cheap or (smoke and args.model is None)
    n = args.n or (3 if smoke else 9)
    preset = args.preset or ("tiny" if smoke else "sid")
    budget = args.budget or (60.0 if smoke else 75.0)
    fixed_it = args.fixed_iterations or (5 if smoke else 50)

    t0 = time.perf_counter()
    ex = Explainer(model, cheap=cheap, device=device, solver=preset, progress=False)
    case = Case(ex, args.seed, n)
    gen = ex.generator
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    print(f"{model} {gen.layer} (d = {gen.d}), n = {n} ({(1 << n) - 1} minimal features), preset {preset}, "
          f"{name}, torch {torch.__version__}, model ready in {time.perf_counter() - t0:.1f} s", flush=True)
    all_subsets = list(range(1, 1 << n))
    every = list(range(1 << n))  # with ∅ (answered without optimising): rows indexed by bitmask
    auto_batch = estimate_batch_size(lambda f: gen.tail(f.view(f.shape[0], *gen.feature_shape), case.sample.code),
                                     (gen.d,), ex.device)
    # on a GPU a block is the whole batch: a batch above the request would only add padding rows
    auto_batch = min(auto_batch, len(all_subsets))
    print(f"memory budget picks batch {auto_batch}", flush=True)

    # 1. batched vs one at a time, fixed schedule
    fixed = get_solver_config(ex.config, iterations=fixed_it, early_stop=False, restart=False)
    k = min(len(all_subsets), 64 if not smoke else 7)
    picked = all_subsets[:k]
    case.solve(picked[:1], fixed, batch_size=1)  # warm-up (kernels, allocator)
    t_b, *_ = case.solve(picked, fixed, batch_size=k)
    t_1, *_ = case.solve(picked, fixed, batch_size=1)
    work = k * fixed_it
    print(f"[batching] {k} subsets × {fixed_it} fixed iterations: batched {1e3 * t_b / work:.3f} ms/subset-iter, "
          f"one at a time {1e3 * t_1 / work:.3f} ms/subset-iter → ×{t_1 / t_b:.1f}", flush=True)

    # 2. all minimal features, paper preset, fp32
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t32, r32, ok32, done32 = case.solve(every, ex.config, batch_size=auto_batch, budget=budget)
    mem32 = peak_memory(ex.device)
    if ok32:
        h32 = case.health(r32)
        print(f"[n={n}] fp32: {t32:.1f} s, {int(r32.iterations.sum()):,} subset-iterations "
              f"({1e3 * t32 / max(1, int(r32.iterations.sum())):.3f} ms each), {mem32}; {fmt_health(h32)}", flush=True)
    else:
        print(f"[n={n}] fp32: stopped at the {budget:.0f} s budget with {sum(len(r.subsets) for r in done32)} of "
              f"{len(all_subsets)} minimal features finished; {mem32}", flush=True)

    # 3. bf16 autocast of the tail
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t16, r16, ok16, done16 = case.solve(every, ex.config, batch_size=auto_batch, budget=budget,
                                        precision="bf16")
    mem16 = peak_memory(ex.device)
    if ok16 and ok32:
        h16 = case.health(r16)
        scale = float((r32.features - ex.baseline).abs().max())
        diff = float((r16.features - r32.features).abs().max()) / scale
        print(f"[bf16] {t16:.1f} s (×{t32 / t16:.2f} vs fp32), {mem16}; {fmt_health(h16)}; vs fp32: cancellation "
              f"{h16.cancellation - h32.cancellation:+.3f}, "
              f"feasible share {h16.feasible_share - h32.feasible_share:+.3f}, "
              f"matching error {h16.matching_error - h32.matching_error:+.3g}, max |Δf_T| / max |f_T − b| {diff:.3g}",
              flush=True)
    else:
        print(f"[bf16] {'finished' if ok16 else 'stopped at the budget'} after {t16:.1f} s with "
              f"{sum(len(r.subsets) for r in done16)} of {len(all_subsets)} finished; {mem16}"
              + ("" if ok32 else " (fp32 did not finish: no comparison)"), flush=True)

    # 4. compile on/off, channels-last: per subset-iteration on a fixed schedule, after a warm-up
    k = min(len(all_subsets), auto_batch)
    picked = all_subsets[:k]
    t_plain, *_ = case.solve(picked, fixed, batch_size=k)
    t_cl, *_ = case.solve(picked, fixed, batch_size=k, channels_last=True)
    work = k * fixed_it
    print(f"[channels-last] {k} subsets × {fixed_it} iterations: default {1e3 * t_plain / work:.3f}, channels-last "
          f"{1e3 * t_cl / work:.3f} ms/subset-iter (×{t_plain / t_cl:.2f})", flush=True)
    if args.no_compile:
        print("[compile] skipped (--no-compile)")
    else:
        try:
            t_first, *_ = case.solve(picked, fixed, batch_size=k, compile=True)
            t_comp, *_ = case.solve(picked, fixed, batch_size=k, compile=True)
            print(f"[compile] {k} subsets × {fixed_it} iterations: off {1e3 * t_plain / work:.3f}, on "
                  f"{1e3 * t_comp / work:.3f} ms/subset-iter (×{t_plain / t_comp:.2f}); first call incl. compile "
                  f"{t_first:.1f} s", flush=True)
        except Exception as exc:  # noqa: BLE001 - report, do not hide the other sections
            print(f"[compile] failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s")
    ex.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
