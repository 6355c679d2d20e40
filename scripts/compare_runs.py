#!/usr/bin/env python
"""Put several ``reproduce.py`` runs side by side, with the paper's numbers, as one Markdown table.

    python scripts/compare_runs.py new=runs/fast/results.json nested=runs/interactive/results.json \
        legacy=runs/legacy/results.json > table.md

Each argument is ``LABEL=PATH`` to a ``results.json``; rows are the union of the runs' keys, in
the first run's order.  Nothing is recomputed: the cells are the runs' own ``ours_text``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def table(runs: dict[str, dict]) -> str:
    keys: list[str] = []
    rows: dict[str, dict[str, dict]] = {}
    for label, result in runs.items():
        for r in result["results"]:
            key = "solver" if r["key"].startswith("solver_") else r["key"]  # one row whatever the preset
            if key not in rows:
                keys.append(key)
                rows[key] = {}
            rows[key][label] = r
    head = "| figure | metric | " + " | ".join(runs) + " | paper |"
    lines = [head, "|" + "---|" * (len(runs) + 3)]
    for key in keys:
        first = next(iter(rows[key].values()))
        cells = [first["figure"], first["metric"]]
        cells += [rows[key][label]["ours_text"] if label in rows[key] else "–" for label in runs]
        cells.append(first["paper_text"])
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    settings = []
    for label, result in runs.items():
        s, t = result["setting"], result["timings_s"]
        settings.append(f"- **{label}**: solver `{s['solver']}`, {s['images']} images (seeds {s['seed']}…"
                        f"{s['seed'] + s['images'] - 1}), layer `{s.get('resolved_layer')}` "
                        f"(d = {s.get('feature_size')}), "
                        f"n = {s['n']}, grid {s['grid']}; solve {t.get('solve', float('nan')):.0f} s, "
                        f"total {t.get('total', float('nan')):.0f} s")
    return "\n".join(settings + [""] + lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv or any("=" not in a for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    runs = {}
    for arg in argv:
        label, path = arg.split("=", 1)
        runs[label] = json.loads(Path(path).read_text())
    sys.stdout.write(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
