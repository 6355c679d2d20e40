"""The README's main-job figures, written by a script so they cannot drift.

    python scripts/main_job_table.py [--out docs/generated/main_job.md]

Runs the README's command 1 (``prsg explain --model dcgan-faces --seed 0 --n 4``, default layer)
with ``interactive`` (what the command uses) and with ``fast``, and writes a small markdown table
of the health each prints; ``tests/docs/test_readme_numbers.py`` checks the README holds that file.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from prsg_widgets import Explainer

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "generated" / "main_job.md")
    args = p.parse_args()
    lines = ["| preset | subset-iterations | solve (s, 2 cores) | every patch within ε | cancellation | "
             "top-4 matching error |", "|---|---|---|---|---|---|"]
    for preset in ("interactive", "fast"):
        with Explainer("dcgan-faces", grid=6, solver=preset, progress=False) as ex:
            expl = ex.explain(0, n=4)  # the CLI's rule: patches on the face, seeded by the sample's seed
            start = time.perf_counter()
            expl.solve_all()
            seconds = time.perf_counter() - start
            h = expl.health()
            lines.append(f"| `{preset}` | {int(expl.iterations.sum()):,} | {seconds:.0f} | "
                         f"{h.subsets - h.infeasible}/{h.subsets} | {h.cancellation:.2f} | {h.matching_error:.2g} |")
            print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
