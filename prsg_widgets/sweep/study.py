"""A study over many images: per-image numbers, across-image transferability, their spread.

:class:`Study` is built from the per-image summaries of :func:`~prsg_widgets.sweep.tasks.image_metrics`
(health, ρ, boundary breach, inconsistency, component ranking).  Transferability (Sec. 3.4) is
computed for every *ordered* pair of images over the same patch positions, from each image's
ranking — exactly :func:`prsg_widgets.metrics.transferability` (a test checks the two agree),
without holding every explanation in memory.  ``k_a``/``k_b`` default to the paper's 20 / 100 of
511 scaled to ``2^n − 1`` components (rounded up, at least 1); the symmetric reading uses
``k_a = k_b``.  :meth:`Study.save` writes ``study.json``, ``study.md`` (the paper's numbers beside
ours) and ``study.png``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Study", "scaled_k", "spread", "transfer_ratio", "PAPER"]

PAPER = {
    "transferability": {"NVAE": 0.880, "SiD": 0.763, "n": 9, "k_a": 20, "k_b": 100},
}
"""The paper's transferability (Sec. 3.4, Fig. 8): n = 9 patches, top-20 of a among top-100 of b."""


def scaled_k(n: int, k_a: int | None = None, k_b: int | None = None) -> tuple[int, int]:
    """The paper's ``k_a = 20``, ``k_b = 100`` of ``511`` components scaled to ``2^n − 1``
    (rounded up, at least 1; ``k_b ≥ k_a``), unless given.  A given ``k_a``/``k_b`` must be a
    whole number ≥ 1 with ``k_a ≤ k_b`` (the share ``|A_a ∩ A_b| / k_a`` compares image a's top
    ``k_a`` with a wider top ``k_b`` of image b); above ``2^n − 1`` it is capped.  One-line
    ``ValueError`` otherwise.
    """
    from ..core.validate import is_integer

    total = (1 << n) - 1
    for name, k in (("k_a", k_a), ("k_b", k_b)):
        if k is not None and (not is_integer(k) or int(k) < 1):
            raise ValueError(f"{name} must be a whole number of components ≥ 1 (at most 2^n − 1 = {total} "
                             f"count), got {k!r}")
    if k_a is not None and k_b is not None and int(k_a) > int(k_b):
        raise ValueError(f"k_a = {k_a} is above k_b = {k_b}: transferability compares image a's top k_a with "
                         "image b's wider top k_b; give k_b ≥ k_a (the paper: 20 and 100)")
    ka = max(1, math.ceil(20 * total / 511)) if k_a is None else int(k_a)
    kb = max(ka, math.ceil(100 * total / 511)) if k_b is None else int(k_b)
    return min(ka, total), min(kb, total)


def spread(values: Sequence[float | None]) -> dict:
    """Mean, std, median, quartiles, min, max and count of the finite ``values``."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if not v.size:
        return {"count": 0, "mean": None, "std": None, "median": None, "q25": None, "q75": None,
                "min": None, "max": None}
    return {"count": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "median": float(np.median(v)), "q25": float(np.quantile(v, 0.25)),
            "q75": float(np.quantile(v, 0.75)), "min": float(v.min()), "max": float(v.max())}


def transfer_ratio(top_a: Sequence, top_b: Sequence, k_a: int, k_b: int) -> float:
    """Sec. 3.4 from two rankings (action fields, strongest first): the share of the first ``k_a``
    of ``top_a`` found among the first ``k_b`` of ``top_b`` — what
    :func:`prsg_widgets.metrics.transferability` returns as ``ratio``.
    """
    a = [frozenset(x) for x in top_a[:k_a]]
    b = {frozenset(x) for x in top_b[:k_b]}
    return sum(x in b for x in a) / max(1, len(a))


@dataclass
class Study:
    """The result of :func:`prsg_widgets.sweep`: ``images`` (one dict per image, see
    :func:`~prsg_widgets.sweep.tasks.image_metrics`), ``transfer`` (matrices and pairs),
    ``settings`` and ``run`` (timings, tasks, what was solved now).
    """

    images: list[dict]
    settings: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    k_a: int | None = None
    k_b: int | None = None
    transfer: dict = field(init=False)

    def __post_init__(self) -> None:
        self.images = sorted(self.images, key=lambda im: im["seed"])
        n = self.images[0]["n"] if self.images else 1
        ka, kb = scaled_k(n, self.k_a, self.k_b)
        self.k_a, self.k_b = ka, kb
        self.transfer = self._transfer(ka, kb)

    # ------------------------------------------------------------------ numbers
    @property
    def seeds(self) -> list[int]:
        """The images' seeds, in order."""
        return [im["seed"] for im in self.images]

    def _transfer(self, ka: int, kb: int) -> dict:
        ims = self.images
        m = len(ims)
        fields = [[tuple(p) for _, p, _ in im["top"]] for im in ims]
        asym = np.full((m, m), np.nan)
        sym = np.full((m, m), np.nan)
        pairs = []
        for i in range(m):
            for j in range(m):
                if i == j or sorted(ims[i]["patches"]) != sorted(ims[j]["patches"]):
                    continue
                asym[i, j] = transfer_ratio(fields[i], fields[j], ka, kb)
                sym[i, j] = transfer_ratio(fields[i], fields[j], ka, ka)
                pairs.append({"a": ims[i]["seed"], "b": ims[j]["seed"], "ratio": asym[i, j],
                              "symmetric": sym[i, j]})
        n = ims[0]["n"] if ims else 1
        total = (1 << n) - 1
        return {
            "k_a": ka, "k_b": kb, "components": total,
            "chance": min(kb, total) / total, "chance_symmetric": min(ka, total) / total,
            "pairs": pairs, "seeds": self.seeds,
            "matrix": _nan_to_none(asym), "matrix_symmetric": _nan_to_none(sym),
            "ratio": spread([p["ratio"] for p in pairs]),
            "symmetric": spread([p["symmetric"] for p in pairs]),
        }

    def values(self, name: str) -> list[float | None]:
        """Per-image values of a metric: a health field (``"cancellation"``, ``"feasible_share"``,
        …), ``"rho"``, ``"rho_chance"``, ``"breach"`` or ``"inconsistency"``.
        """
        out = []
        for im in self.images:
            if name in im.get("health", {}):
                out.append(im["health"][name])
            elif name == "rho_chance":
                out.append(im.get("rho", {}).get("chance"))
            else:
                out.append((im.get(name) or {}).get("mean"))
        return out

    PER_IMAGE = ("feasible_share", "cancellation", "matching_error", "l1_ratio", "mass_share",
                 "rho", "rho_chance", "breach", "inconsistency")

    def metric_names(self) -> list[str]:
        """:attr:`PER_IMAGE`, then the registered metrics the images carry (a dict with a ``"mean"``)."""
        extra = {k for im in self.images for k, v in im.items() if isinstance(v, dict) and "mean" in v}
        return list(self.PER_IMAGE) + sorted(extra - set(self.PER_IMAGE))

    def per_image_spread(self) -> dict:
        """The :func:`spread` of each per-image metric (:meth:`metric_names`)."""
        return {name: spread(self.values(name)) for name in self.metric_names()}

    def as_dict(self) -> dict:
        """Everything :meth:`save` writes to ``study.json``."""
        return {"settings": self.settings, "run": self.run, "k_a": self.k_a, "k_b": self.k_b,
                "paper": PAPER, "summary": self.per_image_spread(), "transferability": self.transfer,
                "images": self.images}

    # ------------------------------------------------------------------ files
    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``study.json``, ``study.md`` and ``study.png`` into ``out``; returns their paths."""
        from ..backend.persistence.files import figure_bytes, write_bytes, write_text

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "study.json", "md": out / "study.md", "png": out / "study.png"}
        # atomic writes: a link in out is replaced, never written through (--force)
        write_text(paths["json"], json.dumps(_clean(self.as_dict()), indent=1) + "\n")
        write_text(paths["md"], self.markdown())
        fig = self.figure()
        write_bytes(paths["png"], figure_bytes(fig, format="png", dpi=110, bbox_inches="tight"))
        import matplotlib.pyplot as plt

        plt.close(fig)
        return paths

    @classmethod
    def load(cls, path: str | Path) -> Study:
        """Read a ``study.json`` (or the folder holding one)."""
        path = Path(path)
        if path.is_dir():
            path = path / "study.json"
        d = json.loads(path.read_text())
        return cls(d["images"], d.get("settings", {}), d.get("run", {}), d.get("k_a"), d.get("k_b"))

    # ------------------------------------------------------------------ reports
    def markdown(self) -> str:
        """``study.md``: settings, transferability with the paper's numbers beside, per-image spread."""
        s, t = self.settings, self.transfer
        n = self.images[0]["n"] if self.images else 0
        lines = [f"# Study: {s.get('model', '?')} layer {s.get('layer', '?')}, {len(self.images)} images, n = {n}", ""]
        lines.append(f"Solver `{s.get('preset', '?')}`; seeds {self.seeds}; patches "
                     + ("the same for every image: " + str(self.images[0]['patches']) if s.get("same_patches")
                        and self.images else "per image") + ".")
        if self.run:
            r = self.run
            lines.append(f"Run: {r.get('workers', '?')} on `{r.get('cluster', '?')}`, "
                         f"{r.get('solved_now', 0)} minimal features solved now, {r.get('skipped', 0)} "
                         f"found in the cache, {r.get('seconds', float('nan')):.1f} s.")
        lines += ["", "## Transferability (Sec. 3.4, Fig. 8)", "",
                  f"Ordered pairs over the same patch positions: {len(t['pairs'])}. "
                  f"k_a = {t['k_a']}, k_b = {t['k_b']} of {t['components']} components "
                  f"(the paper's 20 / 100 of 511 scaled to n = {n}).", "",
                  "| | ours: mean ± std | median [q25, q75] | min – max | chance | paper (n = 9, k 20/100) |",
                  "|---|---|---|---|---|---|",
                  f"| top-k_a of a in top-k_b of b | {_pm(t['ratio'])} | {_med(t['ratio'])} | {_rng(t['ratio'])} "
                  f"| {t['chance']:.1%} | NVAE 88.0%, SiD 76.3% (chance 19.6%) |",
                  f"| symmetric, k_a = k_b = {t['k_a']} | {_pm(t['symmetric'])} | {_med(t['symmetric'])} "
                  f"| {_rng(t['symmetric'])} | {t['chance_symmetric']:.1%} | — |", ""]
        if n != PAPER["transferability"]["n"]:
            lines += [f"With n = {n} there are only {t['components']} components, so the ratio moves in steps "
                      f"of 1/{t['k_a']} and chance is high; compare with the chance column, not with the paper.", ""]
        lines += ["## Per image", "", "| metric | mean ± std | median [q25, q75] | min – max | images |",
                  "|---|---|---|---|---|"]
        labels = {"feasible_share": "subsets with every patch within ε",
                  "cancellation": "cancellation Σ‖I‖₁/‖u(N)‖₁ (1 = none)",
                  "matching_error": "matching error top-k (of Σ‖f_T−b‖²)", "l1_ratio": "‖u(N)‖₁/‖f−b‖₁",
                  "mass_share": "share of elements holding 90% of the mass", "rho": "ρ (top components, Sec. 3.2.1)",
                  "rho_chance": "ρ chance (pixel share of A(S))", "breach": "boundary breach ratio (0 = bounded)",
                  "inconsistency": "inconsistency (Sec. 3.3)"}
        for name, sp in self.per_image_spread().items():
            if sp["count"]:
                lines.append(f"| {labels.get(name, name)} | {_pm(sp, pct=False)} | {_med(sp, pct=False)} "
                             f"| {_rng(sp, pct=False)} | {sp['count']} |")
        warn = [(im["seed"], w) for im in self.images for w in im.get("warnings", [])]
        if warn:
            lines += ["", "## Health warnings", ""] + [f"- seed {sd}: {w}" for sd, w in warn]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """A few lines for a terminal."""
        t = self.transfer
        sp = self.per_image_spread()
        out = [f"{len(self.images)} images, {len(t['pairs'])} ordered pairs: transferability "
               f"{_pm(t['ratio'])} (k {t['k_a']}/{t['k_b']} of {t['components']}, chance {t['chance']:.1%}; "
               f"paper at n = 9: NVAE 88.0%, SiD 76.3%), symmetric {_pm(t['symmetric'])}"]
        for name in ("cancellation", "rho", "breach", "inconsistency", "feasible_share"):
            if sp[name]["count"]:
                out.append(f"{name}: {_pm(sp[name], pct=False)} (median {sp[name]['median']:.3g})")
        return "\n".join(out)

    def figure(self):
        """Transferability matrix and the distributions of transferability, ρ and cancellation."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
        mat = np.array([[np.nan if v is None else v for v in row] for row in self.transfer["matrix"]], dtype=float)
        im = axes[0].imshow(mat, vmin=0, vmax=1, cmap="viridis")
        axes[0].set_title(f"transferability (k {self.k_a}/{self.k_b})")
        axes[0].set_xlabel("image b (seed)")
        axes[0].set_ylabel("image a (seed)")
        ticks = range(len(self.seeds))
        axes[0].set_xticks(ticks, self.seeds, fontsize=7)
        axes[0].set_yticks(ticks, self.seeds, fontsize=7)
        fig.colorbar(im, ax=axes[0], fraction=0.046)
        rho_chance = spread(self.values("rho_chance"))["mean"]
        hists = [([p["ratio"] for p in self.transfer["pairs"]], "transferability over ordered pairs",
                  self.transfer["chance"], "chance"),
                 (self.values("rho"), "ρ per image (mean over top components)", rho_chance, "chance (area of A(S))"),
                 (self.values("cancellation"), "cancellation per image (1 = none)", 1.0, "no cancellation")]
        for ax, (vals, title, ref, label) in zip(axes[1:], hists, strict=True):
            v = [x for x in vals if x is not None and np.isfinite(x)]
            ax.hist(v, bins=min(20, max(5, len(v))), color="tab:blue", alpha=0.8)
            if ref is not None:
                ax.axvline(ref, color="k", ls="--", lw=1, label=label)
                ax.legend(fontsize=7)
            ax.set_title(title, fontsize=9)
            ax.set_ylabel("pairs" if ax is axes[1] else "images", fontsize=8)
        if self.transfer["pairs"]:
            for name, val in (("NVAE", 0.880), ("SiD", 0.763)):
                axes[1].axvline(val, color="tab:red", ls=":", lw=1)
                axes[1].text(val, axes[1].get_ylim()[1] * 0.9, f" paper {name}", fontsize=6, color="tab:red")
        fig.tight_layout()
        return fig


def _nan_to_none(a: np.ndarray) -> list:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _pm(sp: dict, pct: bool = True) -> str:
    if not sp["count"]:
        return "—"
    f = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.3g}")
    return f"{f(sp['mean'])} ± {f(sp['std'])}"


def _med(sp: dict, pct: bool = True) -> str:
    if not sp["count"]:
        return "—"
    f = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.3g}")
    return f"{f(sp['median'])} [{f(sp['q25'])}, {f(sp['q75'])}]"


def _rng(sp: dict, pct: bool = True) -> str:
    if not sp["count"]:
        return "—"
    f = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.3g}")
    return f"{f(sp['min'])} – {f(sp['max'])}"
