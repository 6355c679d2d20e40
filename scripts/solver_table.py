"""The n = 9 solver table of the README and docs/solver.md, written by a script so it cannot drift.

    python scripts/solver_table.py [--seeds 0:5] [--n 9] [--out docs/n9_cpu]
    python scripts/solver_table.py --rows interactive --precision fp32 bf16   # rerun some rows only
    python scripts/solver_table.py --device cuda --precision fp32 bf16 --out docs/n9_gpu  # a GPU's rows
    python scripts/solver_table.py --table-only        # rewrite the table from solver_v3.json

dcgan-faces, cheap layer, 6×6 grid, n patches drawn on the face (the model's prior) for image 0 and
reused for every image (as ``scripts/reproduce.py`` does).  Solves every image with today's
``fast`` and ``interactive`` and with 0.2.0's ``interactive`` (``RELEASE_0_2``); 0.2.0's ``fast``
(53–113 k subset-iterations an image) is read from ``health_by_image.json``, written for the
same setting in 0.2.0 (its L1 there has another normalisation, so it is left out).  Each row is
run once per ``--precision`` on ``--device``; a row's name says both when they are not the CPU's
fp32.  Rows not rerun are kept from ``solver_v3.json``.  Writes ``solver_v3.json`` (every figure
per image, with the wall time of each solve) and ``solver_table.md`` (the table;
``tests/docs/test_readme_numbers.py`` checks the README holds it).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from prsg_widgets import Explainer
from prsg_widgets.core.solver import RELEASE_0_2, get_solver_config
from prsg_widgets.defaults import PRECISIONS

ROOT = Path(__file__).resolve().parents[1]


def measure(expl, seconds: float) -> dict:
    """The figures of one solved explanation: subset-iterations, wall, L1, health."""
    h = expl.health(k=30)
    u = expl.minimal_features() - expl.baseline.reshape(1, -1)
    delta = (expl.sample.feature.reshape(-1) - expl.baseline.reshape(-1)).abs().mean()
    return {"iterations": int(expl.iterations.sum()), "seconds": round(seconds, 1),
            "l1": float(u[1:].abs().mean(1).mean() / delta), "cancellation": h.cancellation,
            "matching": h.matching_error, "feasible": (h.subsets - h.infeasible) / h.subsets,
            "mass": h.mass_share}


def run(solver, seeds: list[int], n: int, device: str = "cpu", precision: str = "fp32") -> list[dict]:
    rows = []
    with Explainer("dcgan-faces", grid=6, solver=solver, cheap=True, progress=False, device=device,
                   precision=precision) as ex:
        first = ex.explain(seeds[0], patches="foreground", n=n, seed=seeds[0])
        for seed in seeds:
            expl = first if seed == seeds[0] else ex.explain(seed, patches=first.patches)
            start = time.perf_counter()
            expl.solve_all()
            rows.append({"seed": seed, "device": device, "precision": precision,
                         **measure(expl, time.perf_counter() - start)})
            print(solver if isinstance(solver, str) else "0.2.0", rows[-1], flush=True)
    return rows


SOLVERS = {"interactive": ("`interactive`", "interactive"),
           "0.2.0-interactive": ("0.2.0 `interactive`", RELEASE_0_2["interactive"]),
           "fast": ("`fast`", "fast")}


def row_name(label: str, device: str, precision: str) -> str:
    """A row's name: the solver, then the precision and device where they are not the CPU's fp32."""
    return label + ("" if precision == "fp32" else f" {precision}") + ("" if device == "cpu" else f" ({device})")


def table(results: dict) -> str:
    """Markdown: one line per solver, mean and range over images."""
    lines = ["| solver | subset-iterations / image | mean L1 of ‖f−b‖₁ | cancellation | top-30 matching error "
             "| every patch within ε | solve s / image |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        def span(key: str, fmt: str, rows: list = rows) -> str:
            vals = [r.get(key) for r in rows]
            if None in vals:
                return "—"
            return f"{format(statistics.mean(vals), fmt)} ({format(min(vals), fmt)}–{format(max(vals), fmt)})"
        feas = min(r["feasible"] for r in rows)
        lines.append(f"| {name} | {span('iterations', ',.0f')} | {span('l1', '.3f')} | {span('cancellation', '.2f')} "
                     f"| {span('matching', '.2g')} | {'100%' if feas == 1 else f'≥ {100 * feas:.0f}%'} "
                     f"| {span('seconds', '.1f')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0:5")
    p.add_argument("--n", type=int, default=9)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "n9_cpu")
    p.add_argument("--rows", nargs="+", choices=list(SOLVERS), default=list(SOLVERS), help="the solvers to (re)run")
    p.add_argument("--precision", nargs="+", choices=list(PRECISIONS), default=["fp32"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--table-only", action="store_true", help="rewrite the table from solver_v3.json, solve nothing")
    args = p.parse_args()
    lo, hi = (int(v) for v in args.seeds.split(":"))
    seeds = list(range(lo, hi))
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "solver_v3.json"
    results: dict = json.loads(saved.read_text())["results"] if saved.exists() else {}
    old = args.out / "health_by_image.json"
    if old.exists():
        results["0.2.0 `fast` (read from health_by_image.json)"] = [
            {"seed": r["seed"], "iterations": r["iterations"], "l1": None, "cancellation": r["cancellation"],
             "matching": r["matching"], "feasible": r["feasible"], "mass": r["mass"], "seconds": None}
            for r in json.loads(old.read_text())["fast"] if r["seed"] in seeds]
    settings = {name: get_solver_config(name).as_dict() for name in ("fast", "interactive")}
    for key in [] if args.table_only else args.rows:
        label, solver = SOLVERS[key]
        for precision in args.precision:
            results[row_name(label, args.device, precision)] = run(solver, seeds, args.n, args.device, precision)
            saved.write_text(json.dumps({"seeds": seeds, "n": args.n, "settings": settings, "results": results},
                                        indent=1))
            (args.out / "solver_table.md").write_text(table(results))
    (args.out / "solver_table.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
