"""Record real solves for the ETA tests: every batched step and every finished group, with times.

Runs the dashboard's solve — a nested ``interactive`` solve of dcgan-faces on the cheap layer,
through the explainer's scheduler, exactly as ``explore()`` queues it — and writes one JSON per
``(n, seed)`` to ``tests/backend/data/`` (``solve_n{n}_s{seed}.json``)::

    python scripts/record_solves.py --n 4 7 12 --seeds 0 1

The record is compact: ``steps`` holds, per batched iteration, its time (s since submit) and the
subsets in the batch; ``subsets`` holds, per subset, ``[bitmask, first step, iterations run at
that step, last step, iterations]`` — enough to rebuild ``{subset: iterations}`` of every step —
and ``results`` holds each finished group ``[time, step, [subsets]]``.  ``total_s`` is the wall
time from submit until the future resolved (store and save included).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

import prsg_widgets.backend.explainer as explainer_module
from prsg_widgets import Explainer
from prsg_widgets.core.solver import block_width

OUT = Path(__file__).resolve().parent.parent / "tests" / "backend" / "data"


def record(explainer: Explainer, seed: int, n: int) -> dict:
    """Solve ``sample(seed)`` over its ``n`` foreground patches (the dashboard's choice) and record it."""
    expl = explainer.explain(seed, n=n)
    steps: list[list[float]] = []  # [t, subsets in the batch]
    first: dict[int, list[int]] = {}  # subset -> [first step, iterations then]
    last: dict[int, int] = {}
    results: list[list] = []
    off = [0]  # steps whose iteration counts did not advance by exactly one (should stay 0)
    t0 = [0.0]
    real = explainer_module.solve_minimal_features

    def wrapped(*args, on_step=None, on_result=None, **kwargs):
        def step(batch: dict) -> None:
            j = len(steps)
            steps.append([round(time.monotonic() - t0[0], 4), len(batch)])
            for s, k in batch.items():
                if s not in first:
                    first[s] = [j, int(k)]
                elif int(k) != first[s][1] + (j - first[s][0]):
                    off[0] += 1
                last[s] = j
            if on_step is not None:
                on_step(batch)

        def result(res) -> None:
            labels = [int(v) for v in res.subsets.tolist()]
            results.append([round(time.monotonic() - t0[0], 4), len(steps), labels])
            if on_result is not None:
                on_result(res)

        return real(*args, on_step=step, on_result=result, **kwargs)

    explainer_module.solve_minimal_features = wrapped
    try:
        t0[0] = time.monotonic()
        fut = expl.submit(range(1, 1 << n))
        fut.result()
        total = time.monotonic() - t0[0]
    finally:
        explainer_module.solve_minimal_features = real
    its = [int(v) for v in expl.iterations]
    widest = max(k for _, k in steps) if steps else 0
    unit = block_width(explainer.device, explainer.batch_size or (1 << 20), n, nested=True)
    return {
        "what": "nested interactive solve, dcgan-faces cheap layer, through the explainer's scheduler",
        "n": n, "seed": seed, "patches": [int(p) for p in expl.patches],
        "solver": explainer.config.as_dict(), "unit": unit, "widest_batch": widest,
        "total_s": round(total, 3), "off_by_one_steps": off[0],
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "python": platform.python_version(), "load": os.getloadavg(),
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "steps": steps,
        "subsets": [[s, first[s][0], first[s][1], last[s], its[s]] for s in sorted(first)],
        "iterations": its,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 7, 12])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with Explainer("dcgan-faces", solver="interactive", cheap=True, progress=False) as ex:
        ex.sample(0)  # warm up the model before the clock runs
        for n in args.n:
            for seed in args.seeds:
                rec = record(ex, seed, n)
                path = args.out / f"solve_n{n}_s{seed}.json"
                path.write_text(json.dumps(rec, separators=(",", ":")))
                print(f"n={n} seed={seed}: {rec['total_s']:.1f} s, {len(rec['steps'])} steps, "
                      f"widest batch {rec['widest_batch']}, {path.stat().st_size / 1024:.0f} KB → {path}", flush=True)


if __name__ == "__main__":
    main()
