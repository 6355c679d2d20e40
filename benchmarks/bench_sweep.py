"""Sweep benchmark: throughput with 1 and 2 Dask workers, overhead against a plain loop.

    python benchmarks/bench_sweep.py [--model toy-scenes --cheap] [--seeds 0:6] [--n 4] [--preset tiny]

Every configuration solves the same images from an empty cache and computes the same per-image
numbers (health and component ranking; ``metrics=False`` in the sweep):

* **loop**: one process, the model loaded once, ``explain(seed, patches=N).solve_all()`` per image
  with all the cores (the baseline: what a user would write without a cluster);
* **sweep, 1 worker**: a LocalCluster with one worker process using all the cores;
* **sweep, 2 workers** (or ``--workers K``): one process per core share.

Each configuration runs ``--repeat`` times from an empty cache and the fastest run counts (other
processes on a shared machine only ever slow a run down).  Cluster start-up and the workers'
one-time model load are timed apart (a warm-up sweep on other
images) and are not part of the throughput.  Overhead = sweep(1 worker) / loop − 1 on the same
cores (goal: ≤ 10%).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch


def loop(args, seeds, patches, cache) -> float:
    from prsg_widgets import Explainer

    with Explainer(args.model, cheap=args.cheap, solver=args.preset, batch_size=args.batch_size,
                   cache_dir=cache, progress=False) as ex:
        ex.explain(seeds[0], patches=patches)  # samples and baseline ready, like a warm worker
        start = time.perf_counter()
        for s in seeds:
            expl = ex.explain(s, patches=patches).solve_all()
            expl.health()
            expl.ranking()
        return time.perf_counter() - start


def sweep(args, seeds, patches, workers: int, cores: int) -> tuple[list[float], float, dict]:
    import prsg_widgets as pw
    from prsg_widgets.sweep.cluster import make_client

    t0 = time.perf_counter()
    client = make_client(workers=workers)
    cluster = client.cluster
    started = time.perf_counter() - t0
    common = dict(n=args.n, patches=patches, client=client, cheap=args.cheap, preset=args.preset,
                  batch_size=args.batch_size, metrics=False, progress=False, threads=max(1, cores // workers))
    try:
        with tempfile.TemporaryDirectory() as warm:
            t1 = time.perf_counter()
            warm_seeds = [10_000 + i for i in range(workers)]   # loads the model in every worker
            pw.sweep(args.model, seeds=warm_seeds, cache_dir=warm, chunk=1 << args.n, **common)
            started += time.perf_counter() - t1
            times = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as cache:
                    t2 = time.perf_counter()
                    study = pw.sweep(args.model, seeds=seeds, cache_dir=cache, **common)
                    times.append(time.perf_counter() - t2)
            return times, started, study.run
    finally:
        client.close()
        cluster.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="toy-scenes")
    p.add_argument("--cheap", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--seeds", default="0:6")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--workers", type=int, default=2, help="the larger cluster (the other has 1 worker)")
    p.add_argument("--repeat", type=int, default=2, help="runs of each configuration (the fastest is reported: "
                                                          "other processes on the machine only slow a run down)")
    args = p.parse_args()

    from prsg_widgets import Explainer
    from prsg_widgets.sweep.api import parse_seeds
    from prsg_widgets.sweep.cluster import cpu_count

    seeds = parse_seeds(args.seeds)
    cores = cpu_count()
    with Explainer(args.model, cheap=args.cheap, solver=args.preset, progress=False) as ex:
        patches = ex.explain(seeds[0], n=args.n).patches
        layer = ex.generator.layer
    subsets = len(seeds) * ((1 << args.n) - 1)
    print(f"{args.model} {layer}, {len(seeds)} images × {(1 << args.n) - 1} minimal features (n = {args.n}), "
          f"preset {args.preset}, batch {args.batch_size}, {cores} cores, torch {torch.__version__}", flush=True)
    torch.set_num_threads(cores)
    loops = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            loops.append(loop(args, seeds, patches, cache))
    t_loop = min(loops)
    print(f"loop, 1 process × {cores} threads: {t_loop:6.2f} s  {subsets / t_loop:6.1f} subsets/s  "
          f"(runs: {', '.join(f'{x:.2f}' for x in loops)} s)", flush=True)
    rows = {}
    for k in (1, args.workers):
        times, started, run = sweep(args, seeds, patches, k, cores)
        t = rows[k] = min(times)
        print(f"sweep, {k} worker{'s' if k > 1 else ' '} × {max(1, cores // k)} threads: {t:6.2f} s  "
              f"{subsets / t:6.1f} subsets/s  (cluster start + model load {started:.1f} s, "
              f"{run['chunks']} chunk tasks, {run['tasks']} tasks; runs: {', '.join(f'{x:.2f}' for x in times)} s)",
              flush=True)
    print(f"overhead of the sweep against the loop on the same cores: {rows[1] / t_loop - 1:+.1%} (goal ≤ 10%); "
          f"{args.workers} workers: {t_loop / rows[args.workers]:.2f}× the loop's throughput")
    return 0


if __name__ == "__main__":
    sys.exit(main())
