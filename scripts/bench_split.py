"""Measure what the split's tail costs on BigGAN-deep (random weights, CPU) — issue 11, item 2.

For a non-Sequential generator the hook tail re-runs the whole forward, head included, on every
solver iteration.  This prints, per layer and batch size, the time of one head pass on the
expanded code, of one tail forward and of one solver-like iteration (tail forward + backward to
the mask), for every tail path the split offers (``hook``; ``replay`` once implemented), and the
head's share of each.

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
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{args.model}, random weights, CPU, {args.threads} threads, best of {args.repeats}")
    print(f"{'layer':20s} {'B':>3s} {'path':7s} {'head':>8s} {'tail fwd':>9s} {'iter':>8s} "
          f"{'head/fwd':>9s} {'head/iter':>9s}")
    for layer in args.layers:
        g = load_biggan(args.model, layer=layer, weights="random")
        code = g.sample_codes(1, torch.Generator().manual_seed(0))
        with torch.no_grad():
            feature = g.head(code)
        b = torch.zeros_like(feature)
        paths = [p for p in ("hook", "replay") if p in getattr(g, "tail_paths", ("hook",))]
        for batch in args.batch:
            big = code.expand(batch, -1)

            def head():
                with torch.no_grad():
                    g.head(big)

            t_head = _best(head, args.repeats)
            for path in paths:
                def fwd():
                    with torch.no_grad():
                        g.tail(feature.expand(batch, *feature.shape[1:]), code, **({"path": path} if len(paths) > 1 else {}))

                def it():
                    m = torch.full((batch, 1, 1, 1), 0.5, requires_grad=True)
                    f = b + m * (feature - b)
                    x = g.tail(f, code, **({"path": path} if len(paths) > 1 else {}))
                    torch.autograd.grad(x.square().sum(), m)

                t_fwd, t_it = _best(fwd, args.repeats), _best(it, args.repeats)
                print(f"{layer:20s} {batch:3d} {path:7s} {t_head:8.3f} {t_fwd:9.3f} {t_it:8.3f} "
                      f"{t_head / t_fwd:9.1%} {t_head / t_it:9.1%}", flush=True)


if __name__ == "__main__":
    main()
