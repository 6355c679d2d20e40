"""Measure what the split's tail costs on BigGAN-deep (random weights, CPU) — issue 11, item 2.

For a non-Sequential generator the hook tail re-runs the whole forward, head included, on every
solver iteration.  This prints, per layer and batch size B (B subsets of one image, as the solver
batches them), the time of one head pass on the code expanded to B, of one tail forward and of one
solver-like iteration (tail forward + backward to a per-element mask) on the ``hook`` path, the
head's share of each, then the same on the ``replay`` path and its speed-up (best of
``--repeats``, interleaved).

    python scripts/bench_split.py [--model biggan-deep-128] [--batch 1 4] [--repeats 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch

from prsg_widgets.models.biggan import CHEAP_LAYER, DEFAULT_LAYER, load_biggan


def _best(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="biggan-deep-128")
    ap.add_argument("--layers", nargs="+", default=[DEFAULT_LAYER, CHEAP_LAYER])
    ap.add_argument("--batch", nargs="+", type=int, default=[1, 4])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--solve", type=int, default=0, metavar="K",
                    help="also time a real solve (n = 2, K iterations) with each tail path")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.solve:
        solve(args)
        return
    print(f"{args.model}, random weights, CPU, {args.threads} threads, best of {args.repeats}")
    print(f"{'layer':20s} {'B':>3s} {'head':>7s} {'hook fwd':>9s} {'hook iter':>9s} {'head/fwd':>8s} "
          f"{'head/iter':>9s} {'replay fwd':>10s} {'replay iter':>11s} {'fwd ×':>6s} {'iter ×':>6s}")
    for layer in args.layers:
        g = load_biggan(args.model, layer=layer, weights="random")
        code = g.sample_codes(1, torch.Generator().manual_seed(0))
        with torch.no_grad():
            feature = g.head(code)
        b = torch.zeros_like(feature)
        for batch in args.batch:
            big = code.expand(batch, -1)

            # the loop's values bound as defaults (each closure is only called in its own iteration)
            def head(g=g, big=big):
                with torch.no_grad():
                    g.head(big)

            def fwd(path, g=g, feature=feature, batch=batch, code=code):
                with torch.no_grad():
                    g.tail(feature.expand(batch, *feature.shape[1:]), code, path=path)

            # one solver step: f_T = b + m ⊙ (f − b), tail, gradient to m
            def it(path, g=g, feature=feature, batch=batch, code=code, b=b):
                m = torch.full((batch, *feature.shape[1:]), 0.5, requires_grad=True)
                x = g.tail(b + m * (feature - b), code, path=path)
                torch.autograd.grad(x.square().sum(), m)

            t = {"head": [], "hook fwd": [], "replay fwd": [], "hook iter": [], "replay iter": []}
            for fn in (head, lambda: fwd("hook"), lambda: fwd("replay"), lambda: it("hook"), lambda: it("replay")):
                fn()  # warm-up (the replay records the head here)
            for _ in range(args.repeats):  # interleaved, so load changes hit every column alike
                for key, fn in (("head", head), ("hook fwd", lambda: fwd("hook")),
                                ("replay fwd", lambda: fwd("replay")), ("hook iter", lambda: it("hook")),
                                ("replay iter", lambda: it("replay"))):
                    s0 = time.perf_counter()
                    fn()
                    t[key].append(time.perf_counter() - s0)
            m = {k: min(v) for k, v in t.items()}
            print(f"{layer:20s} {batch:3d} {m['head']:7.3f} {m['hook fwd']:9.3f} {m['hook iter']:9.3f} "
                  f"{m['head'] / m['hook fwd']:8.1%} {m['head'] / m['hook iter']:9.1%} {m['replay fwd']:10.3f} "
                  f"{m['replay iter']:11.3f} {m['hook fwd'] / m['replay fwd']:6.2f} "
                  f"{m['hook iter'] / m['replay iter']:6.2f}",
                  flush=True)


def solve(args) -> None:
    """End to end: the Explainer solving n = 2 (3 subsets, one batch) for K iterations per path."""
    from prsg_widgets import Explainer

    for layer in args.layers:
        g = load_biggan(args.model, layer=layer, weights="random")
        times = {}
        for path in ("hook", "replay"):
            g._replay_ok = path == "replay"  # the split's default path (private switch, for this benchmark)
            g._records.clear()
            ex = Explainer(g, grid=6, solver="fast", iterations=args.solve, batch_size=4, progress=False,
                           baseline_samples=8, device="cpu")
            try:
                e = ex.explain(ex.sample(0), patches=[14, 15])
                t = time.perf_counter()
                e.solve_all()
                times[path] = time.perf_counter() - t
            finally:
                ex.close()
        g._replay_ok = True
        print(f"{layer:20s} solve n=2, {args.solve} iterations max: hook {times['hook']:.1f} s, "
              f"replay {times['replay']:.1f} s ({times['hook'] / times['replay']:.2f}×)", flush=True)


if __name__ == "__main__":
    main()
