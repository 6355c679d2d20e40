#!/usr/bin/env python
"""Reproduce the paper's figures and measurements, and tabulate them beside the paper's numbers.

    python scripts/reproduce.py --out results/            # CPU default: a few minutes on 2 cores
    python scripts/reproduce.py --full --out results/     # the paper's setting, for a GPU
    python scripts/reproduce.py --model toy-scenes --n 3 --images 2 --out /tmp/r   # seconds

Writes into ``--out``: one PNG per figure (``fig02_regional_patterns.png`` ...), ``results.md``
(the results table, Markdown) and ``results.json`` (the same rows plus the setting, the timings
and the figure files).  Minimal features are cached in ``--cache-dir`` (default
``~/.cache/prsg_widgets/solves``): a rerun, or a run interrupted with Ctrl-C, resumes from it.

Every number comes from :mod:`prsg_widgets.metrics` (the metric definitions, reconstructions
documented there) and every figure from :mod:`prsg_widgets.figures`.  The paper's extracted
text lost most of its reported values; only those that survived are tabulated as numbers, the
rest as the paper's qualitative claim.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CACHE = "~/.cache/prsg_widgets/solves"


class ReproduceError(RuntimeError):
    """A failure with a one-line explanation for the user."""


# ---------------------------------------------------------------------------------- settings
@dataclass
class Setting:
    """Everything that determines a run.  ``k_*`` of ``None`` are scaled from the paper's values
    (which are for ``n = 9``, 511 components) to the number of components of this ``n``.
    """

    name: str
    model: str
    layer: str | None
    cheap: bool
    grid: int
    n: int
    solver: str
    images: int
    seed: int = 0
    top_fraction: float = 0.10      # Fig. 2: top 10% components
    matching_k: int | None = None    # Sec. 3.1: paper 30 of 511
    k_a: int | None = None           # Sec. 3.4: paper 20 of 511
    k_b: int | None = None           # Sec. 3.4: paper 100 of 511
    pca_k: int = 20                 # Table 1 baseline: PCA directions
    pca_samples: int = 500
    max_contexts: int | None = 7     # Sec. 3.3: contexts T per component
    table2_presets: tuple[str, ...] = ()  # Table 2: extra presets solved on image 0

    @property
    def num_components(self) -> int:
        return (1 << self.n) - 1

    def scaled(self, paper_k: int, minimum: int) -> int:
        """``paper_k`` of 511 scaled to this ``n`` (exact at ``n = 9``), at least ``minimum``."""
        return min(self.num_components, max(minimum, round(paper_k * self.num_components / 511)))

    def resolve(self) -> Setting:
        if self.matching_k is None:
            self.matching_k = self.scaled(30, max(1, min(30, self.num_components // 3)))
        if self.k_a is None:
            self.k_a = self.scaled(20, 3)
        if self.k_b is None:
            self.k_b = max(self.k_a, self.scaled(100, 2 * self.k_a))
        return self


def default_setting(model: str = "dcgan-faces") -> Setting:
    """The CPU setting: the model's cheap layer, ``n = 4``, the ``tiny`` preset, 2 images; Table 2
    also solves image 1 with the ``fast`` preset.
    """
    return Setting("default (CPU)", model, None, True, 6 if model != "toy-scenes" else 4, 4, "tiny", 2,
                   table2_presets=("fast",))


def full_setting(model: str = "dcgan-faces") -> Setting:
    """The paper's setting: middle layer, ``n = 9`` (512 minimal features), a Table 2 schedule
    (``biggan``: lr 1e-4, 1e3 iterations, λ 500, the paper's GAN preset), 5 images; Table 2
    compares the ``fast`` preset.
    """
    return Setting("full (paper)", model, None, False, 6, 9, "biggan", 5, table2_presets=("fast",))


# ---------------------------------------------------------------------------------- paper's numbers
PAPER: dict[str, dict[str, Any]] = {
    "completeness": {"text": "exact (Theorem 2, Axiom 1)", "value": 0.0},
    "matching_error": {"text": "“tiny” (top-30 of 511; value lost in extraction)", "value": None},
    "sparsity": {"text": "most elements ≈ 0 (Fig. 3)", "value": None},
    "dense_control": {"text": "visibly denser (Fig. 16)", "value": None},
    "rho": {"text": "all ρ above a threshold (value lost in extraction)", "value": None},
    "boundary_breach": {"text": "patch i stays ≈ 0 while others grow (Fig. 5)", "value": None},
    "inconsistency": {"text": "“small” (Fig. 7; value lost in extraction)", "value": None},
    "transferability": {"text": "88.0% (NVAE), 76.3% (SiD); k_a=20, k_b=100, n=9",
                        "value": {"NVAE": 0.880, "SiD": 0.763}},
    "controllable_reconstruction": {"text": "“small reconstruction error” (Figs. 9–10)", "value": None},
    "sequential_reconstruction": {"text": "each new patch “accurately reconstructed” (Figs. 11–12)", "value": None},
    "table1_or": {"text": "✓ completeness, ✓ spatial boundedness, ✓ consistency", "value": None},
    "table1_pca": {"text": "GANSpace: ✗ completeness, ✗ spatial boundedness", "value": None},
    "solver": {"text": "512 minimal features in ≈30 min on 4× RTX 3080 Ti (App. J)", "value": 1800.0},
}


# ---------------------------------------------------------------------------------- helpers
def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        raise ReproduceError("tqdm is missing: pip install tqdm") from None
    return tqdm


def _num(x: Any) -> float | None:
    """JSON-safe float (``None`` for nan/inf/missing)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _g(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


@dataclass
class Row:
    """One line of the results table."""

    key: str
    figure: str
    metric: str
    ours: float | None
    ours_text: str
    reference: str = ""
    paper: Any = None
    paper_text: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _mean(xs: Sequence[float]) -> float | None:
    vals = [float(x) for x in xs if x is not None and math.isfinite(float(x))]
    return sum(vals) / len(vals) if vals else None


class _MissingFigures:
    """Stands in for :mod:`prsg_widgets.figures` when it cannot be imported: every figure then
    fails with the import error (recorded in the outputs) and the table is still written.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str):
        raise RuntimeError(f"prsg_widgets.figures is not available ({self.reason})")


# ---------------------------------------------------------------------------------- the run
class Run:
    """Builds the explanations of one setting, measures, draws, and writes the outputs."""

    def __init__(self, setting: Setting, out: Path, cache_dir: Path | None, device: str | None,
                 progress: bool = True) -> None:
        self.s = setting.resolve()
        self.out = out
        self.cache_dir = cache_dir
        self.device = device
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.rows: list[Row] = []
        self.figures: dict[str, str] = {}
        self.figure_errors: dict[str, str] = {}
        self.layer_name: str | None = setting.layer
        self.feature_size: int | None = None
        self.cached_subsets = 0  # minimal features found in the solve cache (not timed)
        self.total_subsets = 0
        self.tqdm = _tqdm()

    # -------------------------------------------------------------- plumbing
    def _timed(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 2)

    def _explainer(self, solver: str | None = None):
        from prsg_widgets import Explainer
        from prsg_widgets.models import WeightsPackageMissing

        try:
            return Explainer(self.s.model, grid=self.s.grid, layer=self.s.layer, cheap=self.s.cheap,
                             solver=solver or self.s.solver, cache_dir=self.cache_dir, device=self.device,
                             progress=False)
        except WeightsPackageMissing as exc:
            raise ReproduceError(f"{exc}".splitlines()[0]) from None

    def _solve(self, expl, desc: str) -> None:
        """Solve every minimal feature of ``expl`` with a progress bar (resumes from the cache)."""
        done, total = expl.progress
        self.cached_subsets += done - 1  # f_∅ = b is never solved
        self.total_subsets += total - 1
        if done == total:
            return
        bar = self.tqdm(total=total, initial=done, desc=desc, unit="subset", leave=False,
                        disable=not self.progress)
        last = [done]

        def on_progress(_d: int, _t: int) -> None:
            now = expl.progress[0]
            bar.update(now - last[0])
            last[0] = now

        try:
            expl.submit(on_progress=on_progress).result()
        except KeyboardInterrupt:
            expl.explainer.cancel()
            raise
        finally:
            bar.close()

    def _save(self, key: str, filename: str, make: Callable[[], Any]) -> None:
        """Draw one figure with :mod:`prsg_widgets.figures` and save it; a failing figure is
        reported in the outputs instead of stopping the run.
        """
        import matplotlib.pyplot as plt

        try:
            fig = make()
            path = self.out / filename
            fig.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(fig)
            self.figures[key] = filename
        except ReproduceError:
            raise
        except Exception as exc:  # one broken figure must not cost the whole table
            self.figure_errors[key] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            warnings.warn(f"figure {key} failed: {self.figure_errors[key]}", stacklevel=2)

    @staticmethod
    def _fig2(F, e, top_k: int):
        subs = [c.subset for c in e.components(top=top_k)]
        return F.regional_patterns_figure(e, subs, e.regional_patterns(subs))

    # -------------------------------------------------------------- main
    def run(self) -> dict:  # noqa: C901 - one straight section per figure of the paper, in order
        import torch

        from prsg_widgets import metrics as M

        try:
            from prsg_widgets import figures as F
        except ImportError as exc:  # the numbers do not need the figures
            F = _MissingFigures(str(exc))

        s = self.s
        self.out.mkdir(parents=True, exist_ok=True)
        t_start = time.perf_counter()
        stages = ["explain", "Fig. 2", "Fig. 3/16", "Fig. 4", "Fig. 5", "Fig. 6", "Fig. 7", "Fig. 8",
                  "Figs. 9–12", "Table 1", "Table 2", "write"]
        bar = self.tqdm(total=len(stages), desc="reproduce", unit="step", disable=not self.progress)

        def stage(name: str) -> None:
            bar.set_postfix_str(name)

        # ---- explanations: image 0 chooses N (foreground), the others reuse it (Sec. 3.4 needs
        # the same patch positions on every image)
        stage("explain")
        ex = self._timed("load model", lambda: self._explainer())
        self.layer_name, self.feature_size = ex.generator.layer, ex.generator.d
        samples = [ex.sample(s.seed + i) for i in range(s.images)]
        first = ex.explain(samples[0], patches="foreground", n=s.n, seed=s.seed)
        expls = [first] + [ex.explain(smp, patches=first.patches) for smp in samples[1:]]
        for i, e in enumerate(expls):
            self._timed("solve", lambda e=e, i=i: self._solve(e, f"image {i + 1}/{len(expls)}"))
        main_cached, main_total = self.cached_subsets, self.total_subsets
        e0 = expls[0]
        top_k = max(1, math.ceil(s.top_fraction * s.num_components))
        bar.update()

        # ---- completeness (Axiom 1 / Eq. 7 with the full set)
        resid = [M.completeness_residual(M.decomposition_from_explanation(e)) for e in expls]
        self.rows.append(Row("completeness", "Eq. 7, Axiom 1", "‖(f_N − b) − Σ I(S)‖ / ‖f_N − b‖",
                             _num(max(resid)), f"{max(resid):.1e}", "exact up to float error",
                             PAPER["completeness"]["value"], PAPER["completeness"]["text"]))

        # ---- Fig. 2: regional patterns of the top 10%
        stage("Fig. 2")
        self._timed("Fig. 2", lambda: self._save("fig2", "fig02_regional_patterns.png",
                                                 lambda: self._fig2(F, e0, top_k)))
        bar.update()

        # ---- Fig. 3 / 16: sparsity and the dense control
        stage("Fig. 3/16")

        def sparsity():
            dense = M.dense_control(ex, e0, seed=s.seed)
            self._solve(dense, "dense control")
            curve, dense_curve = M.sparsity_curve(e0), M.sparsity_curve(dense)
            st, sd = M.sparsity_stats(curve), M.sparsity_stats(dense_curve)
            # the 90%-of-mass share discriminates; the share of elements above 1% of the max saturates
            self.rows.append(Row("sparsity", "Fig. 3", "share of elements holding 90% of the L1 mass (image 1)",
                                 _num(st["mass_fraction"]), _pct(st["mass_fraction"]),
                                 f"elements > 1% of the max |value|: {_pct(st['salient_fraction'])}",
                                 None, PAPER["sparsity"]["text"], {k: _num(v) for k, v in st.items()}))
            nested_note = " (solved nested: the union bound makes any feature look sparse)" if ex.config.nested else ""
            ratio = sd["mass_fraction"] / st["mass_fraction"] if st["mass_fraction"] else float("nan")
            self.rows.append(Row("dense_control", "Fig. 16 (App. I)", "same, on a random feature",
                                 _num(sd["mass_fraction"]), f"{_pct(sd['mass_fraction'])} ({_g(ratio, 2)}× ours)",
                                 f"elements > 1% of the max |value|: {_pct(sd['salient_fraction'])}{nested_note}",
                                 None, PAPER["dense_control"]["text"],
                                 {**{k: _num(v) for k, v in sd.items()}, "ratio": _num(ratio)}))
            curves = {"feature components": curve, "dense control (App. I)": dense_curve}
            self._save("fig3", "fig03_sparsity.png", lambda: F.sparsity_figure(curves))

        self._timed("Fig. 3/16", sparsity)
        bar.update()

        # ---- Fig. 4: matching error with the top-k components
        stage("Fig. 4")

        def matching():
            res = [M.matching_error(e, k=s.matching_k) for e in expls]
            health = [e.health(k=s.matching_k) for e in expls]
            rel = _mean([h.matching_error for h in health])
            rel_f = _mean([h.matching_error_vs_feature for h in health])
            self.rows.append(Row("matching_error", "Fig. 4 (Sec. 3.1)",
                                 f"Σ_T ‖u(T) − û(T)‖² / Σ_T ‖u(T)‖², u = f_T − b, top-{s.matching_k} of "
                                 f"{s.num_components}, mean over images",
                                 rel, _g(rel), f"relative to Σ_T ‖f_T‖² instead: {_g(rel_f)}",
                                 None, PAPER["matching_error"]["text"],
                                 {"per_image": [_num(h.matching_error) for h in health], "vs_feature": _num(rel_f)}))
            canc = [h.cancellation for h in health]
            self.rows.append(Row("cancellation", "health (ours)", "Σ_S ‖I(S)‖₁ / ‖u(N)‖₁, mean over images",
                                 _mean(canc), f"{_g(_mean(canc))} (max {_g(max(canc))})",
                                 "1 = components never cancel", None, "— (not in the paper)",
                                 {"per_image": [_num(c) for c in canc]}))
            feas = _mean([h.feasible_share for h in health])
            self.rows.append(Row("feasible", "health (ours), Eq. 10", "share of subsets with every patch within ε",
                                 feas, _pct(feas),
                                 f"worst patch mse {_g(max(h.worst_patch_mse for h in health))}, ε = {_g(e0.epsilon)}",
                                 None, "“full reconstruction” of every patch in T"))
            self._save("fig4", "fig04_matching_error.png", lambda: F.matching_error_figure(res[0]))

        self._timed("Fig. 4", matching)
        bar.update()

        # ---- Fig. 5: boundary breach
        stage("Fig. 5")

        def breach():
            res = [M.boundary_breach(e, p) for e in expls for p in e.patches]
            ratio = _mean([r.breach_ratio for r in res])
            self.rows.append(Row("boundary_breach", "Fig. 5 (Sec. 3.2.2)",
                                 "final RMSE(patch i) / RMSE(other patches), mean over i",
                                 ratio, _g(ratio), "0 = perfectly bounded",
                                 None, PAPER["boundary_breach"]["text"]))
            first_res = res[:e0.n]  # image 0, one result per patch i
            self._save("fig5", "fig05_boundary_breach.png",
                       lambda: F.boundary_breach_figure(first_res[:4], explanation=e0,
                                                        labels=[f"patch i = {r.patch}" for r in first_res[:4]]))

        self._timed("Fig. 5", breach)
        bar.update()

        # ---- Fig. 6: real action fields
        stage("Fig. 6")

        def rho():
            vals, chance, fig_args = [], [], None
            for e in expls:
                comps = e.components(top=top_k)
                subs = [c.subset for c in comps]
                r, a = M.real_action_field_ratios(e, subs), M.action_field_area(e, subs)
                vals += list(r)
                chance += list(a)
                fig_args = fig_args or (r, [c.order for c in comps], a)
            m, lo = _mean(vals), _num(min(vals)) if vals else None
            self.rows.append(Row("rho", "Fig. 6 (Sec. 3.2.1)", f"ρ(S), mean over the top {top_k} components",
                                 m, f"{_g(m)} (min {_g(lo)})", f"chance (field area) {_g(_mean(chance))}",
                                 None, PAPER["rho"]["text"], {"min": lo, "chance": _mean(chance)}))
            self._save("fig6", "fig06_real_action_fields.png",
                       lambda: F.real_action_field_figure(*fig_args, title=f"image 1, top {top_k}"))

        self._timed("Fig. 6", rho)
        bar.update()

        # ---- Fig. 7: consistency
        stage("Fig. 7")

        def consistency():
            vals, first_res = [], []
            for i, e in enumerate(expls):
                for c in e.components(top=top_k):
                    if c.subset == e.full:
                        continue
                    r = M.inconsistency(e, c.subset, max_contexts=s.max_contexts, seed=s.seed)
                    if i == 0:
                        first_res.append(r)
                    vals.append(r.mean)
            m = _mean(vals)
            self.rows.append(Row("inconsistency", "Fig. 7 (Sec. 3.3)",
                                 f"‖clip_A(p_S^T − p_S^∅)‖ / ‖clip_A(p_S^∅)‖, top {top_k}", m, _g(m),
                                 "0 = perfectly consistent", None, PAPER["inconsistency"]["text"]))
            if first_res:
                self._save("fig7", "fig07_consistency.png", lambda: F.consistency_figure(e0, first_res[:4]))

        self._timed("Fig. 7", consistency)
        bar.update()

        # ---- Fig. 8: transferability over ordered image pairs
        stage("Fig. 8")

        def transfer():
            pairs = [(i, j) for i in range(len(expls)) for j in range(len(expls)) if i != j]
            res = [M.transferability(expls[i], expls[j], k_a=s.k_a, k_b=s.k_b) for i, j in pairs]
            m = _mean([r.ratio for r in res]) if res else None
            chance = res[0].chance if res else None
            self.rows.append(Row("transferability", "Fig. 8 (Sec. 3.4)",
                                 f"|A_a ∩ A_b| / k_a, k_a={s.k_a}, k_b={s.k_b} of {s.num_components}, "
                                 f"{len(pairs)} ordered pairs", m, _pct(m), f"chance {_pct(chance)}",
                                 PAPER["transferability"]["value"], PAPER["transferability"]["text"],
                                 {"pairs": [[i, j, _num(r.ratio)] for (i, j), r in zip(pairs, res, strict=True)],
                                  "chance": _num(chance)}))
            if res:
                self._save("fig8", "fig08_transferability.png",
                           lambda: F.transferability_figure(res, [f"{i + 1}→{j + 1}" for i, j in pairs]))

        if len(expls) >= 2:
            self._timed("Fig. 8", transfer)
        else:
            self.rows.append(Row("transferability", "Fig. 8 (Sec. 3.4)", "|A_a ∩ A_b| / k_a", None,
                                 "– (needs --images ≥ 2)", "", PAPER["transferability"]["value"],
                                 PAPER["transferability"]["text"]))
        bar.update()

        # ---- ground truth (toy-scenes): do the top components' action fields fall on the objects?
        if all(e.sample.object_masks is not None for e in expls):
            res = [M.object_share(e, top=max(top_k, 3)) for e in expls]
            m, chance = _mean([r["share"] for r in res]), _mean([r["chance"] for r in res])
            self.rows.append(Row("object_share", "ground truth (toy-scenes)",
                                 f"share of the top-{max(top_k, 3)} action fields' patches that lie on objects",
                                 m, _pct(m), f"chance (object patches in N) {_pct(chance)}", None,
                                 "— (not in the paper)", {"chance": chance}))

        # ---- Figs. 9–12: controllable and sequential reconstruction
        stage("Figs. 9–12")

        def reconstruction():
            ctrl = [M.controllable_reconstruction(e, [e.patches[0]]) for e in expls]
            seq = [M.sequential_reconstruction(e, seed=s.seed) for e in expls]
            tol = math.sqrt(e0.epsilon)
            m = _mean([r.rmse[-1] for r in ctrl])
            self.rows.append(Row("controllable_reconstruction", "Figs. 9–10 (App. F)",
                                 "final RMSE of the target patch", m, _g(m),
                                 f"√ε = {_g(tol)}; from {_g(_mean([r.rmse[0] for r in ctrl]))} at b",
                                 None, PAPER["controllable_reconstruction"]["text"]))
            ms = _mean([float(v) for r in seq for v in r.rmse_new[1:]])
            self.rows.append(Row("sequential_reconstruction", "Figs. 11–12 (App. F)",
                                 "RMSE of each newly added patch", ms, _g(ms), f"√ε = {_g(tol)}",
                                 None, PAPER["sequential_reconstruction"]["text"]))
            self._save("fig9", "fig09_controllable_reconstruction.png",
                       lambda: F.controllable_reconstruction_figure(e0, ctrl[0]))
            self._save("fig11", "fig11_sequential_reconstruction.png",
                       lambda: F.sequential_reconstruction_figure(e0, seq[0]))

        self._timed("Figs. 9–12", reconstruction)
        bar.update()

        # ---- Table 1 measured: OR components vs PCA directions (GANSpace-style)
        stage("Table 1")

        def table1():
            dirs = M.pca_directions(ex, k=s.pca_k, num_samples=s.pca_samples, seed=s.seed + 1)
            other = expls[1] if len(expls) > 1 else None
            ours = M.decomposition_from_explanation(e0)
            sizes = [len(f) for f in ours.fields]
            pca = M.pca_decomposition(e0, dirs, field_sizes=sizes)
            ours_b = M.decomposition_from_explanation(other) if other is not None else None
            pca_b = M.pca_decomposition(other, dirs, field_sizes=sizes) if other is not None else None
            kw = dict(top=top_k if top_k > 1 else 2, max_contexts=s.max_contexts, k_a=s.k_a, k_b=s.k_b)
            scores = [M.score_properties(ours, ours_b, **kw), M.score_properties(pca, pca_b, **kw)]
            for key, sc in zip(("table1_or", "table1_pca"), scores, strict=True):
                d = {k: (_num(v) if not isinstance(v, str) else v) for k, v in sc.as_dict().items()}
                self.rows.append(Row(key, "Table 1 (measured)", f"{sc.name}: completeness resid. / ρ / "
                                     "inconsistency / breach / transfer",
                                     d["completeness_residual"],
                                     f"{_g(d['completeness_residual'])} / {_g(d['rho_mean'])} / "
                                     f"{_g(d['inconsistency_mean'])} / {_g(d['breach_ratio_mean'])} / "
                                     f"{_pct(d['transfer'])}", f"ρ chance {_g(d['rho_chance'])}",
                                     None, PAPER[key]["text"], d))
            self._save("table1", "table1_properties.png", lambda: F.properties_figure(scores))

        self._timed("Table 1", table1)
        bar.update()

        # ---- Table 2: solver convergence (this run's preset, plus any extra presets on image 0)
        stage("Table 2")

        def table2():
            summaries = {s.solver: [M.solver_summary(e) for e in expls]}
            extra_cached: dict[str, int] = {}
            for preset in s.table2_presets:
                if preset == s.solver:
                    continue
                ex2 = self._explainer(preset)
                e2 = ex2.explain(samples[0], patches=first.patches)
                before = self.cached_subsets
                self._timed(f"solve ({preset})", lambda e2=e2, preset=preset: self._solve(e2, f"Table 2: {preset}"))
                summaries[preset] = [M.solver_summary(e2)]
                extra_cached[preset] = self.cached_subsets - before
            solve_s = self.timings.get("solve", float("nan"))
            per_image = solve_s / len(expls)
            cached_note = "" if main_cached == 0 else f" ({main_cached}/{main_total} from the solve cache)"
            for preset, sums in summaries.items():
                feas = _mean([d["feasible"] for d in sums])
                extra = {k: _mean([d[k] for d in sums]) for k in sums[0]}
                extra["subset_iterations"] = _mean([d["iterations"] for d in sums]) * s.num_components
                note = (f"mse {_g(extra['mse'])}, {_g(extra['iterations'])} it "
                        f"({extra['subset_iterations']:,.0f} subset-iterations / image), keeps "
                        f"{_pct(extra['sparsity'])} of ‖f − b‖₁")
                if preset == s.solver:
                    extra["seconds_per_image"] = _num(per_image)
                    note += f"; {per_image:.1f} s / image ({s.num_components + 1} subsets){cached_note}"
                    extra["cached_subsets"] = main_cached
                else:
                    t2 = self.timings.get(f"solve ({preset})")
                    extra["seconds_per_image"] = _num(t2)
                    extra["cached_subsets"] = extra_cached.get(preset, 0)
                    note += f"; {_g(t2)} s / image (image 1 only)"
                    if extra_cached.get(preset):
                        note += f" ({extra_cached[preset]}/{s.num_components} from the solve cache)"
                self.rows.append(Row(f"solver_{preset}", "Table 2 / App. J", f"solver {preset!r}: share feasible "
                                     "(every patch mse ≤ ε)", feas, _pct(feas), note, PAPER["solver"]["value"],
                                     PAPER["solver"]["text"], extra))
            means = {p: {k: _mean([d[k] for d in sums]) for k in sums[0]} for p, sums in summaries.items()}
            for row in self.rows:
                if row.key.startswith("solver_") and row.extra.get("seconds_per_image") is not None:
                    means[row.key[len("solver_"):]]["seconds"] = row.extra["seconds_per_image"]
            self._save("table2", "table2_solver.png", lambda: F.convergence_figure(means))

        self._timed("Table 2", table2)
        bar.update()

        stage("write")
        self.timings["total"] = round(time.perf_counter() - t_start, 2)
        result = self._write(torch)
        bar.update()
        bar.close()
        return result

    # -------------------------------------------------------------- outputs
    def _write(self, torch) -> dict:
        s = self.s
        result = {
            "setting": asdict(s) | {"num_components": s.num_components, "resolved_layer": self.layer_name,
                                    "feature_size": self.feature_size},
            "results": [r.as_dict() for r in self.rows],
            "figures": self.figures,
            "figure_errors": self.figure_errors,
            "timings_s": self.timings,
            "solve_cache": {"dir": str(self.cache_dir) if self.cache_dir else None,
                            "cached_subsets": self.cached_subsets, "solved_subsets": self.total_subsets},
            "environment": {"python": platform.python_version(), "torch": torch.__version__,
                            "device": str(self.device or ("cuda" if torch.cuda.is_available() else "cpu")),
                            "threads": torch.get_num_threads()},
            "paper_numbers_note": "The paper's extracted text lost most reported values; only those "
                                  "that survived are numbers here, the rest are its qualitative claims.",
        }
        (self.out / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        (self.out / "results.md").write_text(markdown_table(result))
        return result


def markdown_table(result: dict) -> str:
    """The results table (Markdown) of a ``results.json`` dict."""
    s = result["setting"]
    lines = [
        f"# Reproduction results — {s['name']}",
        "",
        f"Model `{s['model']}`, layer `{s.get('resolved_layer') or s['layer']}` "
        f"({'cheap' if s['cheap'] else 'middle' if not s['layer'] else 'chosen'}, d = {s.get('feature_size')}), "
        f"grid {s['grid']}×{s['grid']}, n = {s['n']} patches ({s['num_components']} components), "
        f"solver `{s['solver']}`, {s['images']} images (seeds {s['seed']}…{s['seed'] + s['images'] - 1}). "
        f"Total {result['timings_s'].get('total', float('nan')):.0f} s.",
        "",
        "| key | figure | metric | ours | reference | paper |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        cells = [r["key"], r["figure"], r["metric"], r["ours_text"], r["reference"], r["paper_text"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    if result["figures"]:
        lines.append("Figures: " + ", ".join(f"[{k}]({v})" for k, v in result["figures"].items()))
    if result["figure_errors"]:
        lines.append("")
        lines.append("Figures that failed: " + "; ".join(f"{k}: {v}" for k, v in result["figure_errors"].items()))
    lines.append("")
    lines.append("Timings (s; a stage includes the solves it triggers): "
                 + ", ".join(f"{k} {v:g}" for k, v in result["timings_s"].items()))
    lines.append("")
    lines.append(result["paper_numbers_note"])
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="reproduce.py",
        description="Run every figure of the paper and write PNGs plus a results table "
                    "(results.md, results.json) with the paper's numbers beside ours.")
    ap.add_argument("--out", type=Path, required=True, help="output directory (created)")
    ap.add_argument("--full", action="store_true",
                    help="the paper's setting: middle layer, n=9, 'biggan' schedule, 5 images (use a GPU)")
    ap.add_argument("--model", default="dcgan-faces", help="built-in model (dcgan-faces, eyes-128, toy-scenes)")
    ap.add_argument("--layer", default=None, help="split layer (default: the setting's cheap/middle layer)")
    ap.add_argument("--n", type=int, default=None, help="patches per explanation (default 4; --full: 9)")
    ap.add_argument("--grid", type=int, default=None, help="patch grid size P (default 6; toy-scenes 4)")
    ap.add_argument("--images", type=int, default=None, help="number of images (default 2; --full: 5)")
    ap.add_argument("--solver", default=None, help="solver preset (default tiny; --full: biggan)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first image")
    ap.add_argument("--table2-presets", default=None,
                    help="comma-separated extra presets for Table 2, solved on image 1 (default: fast); '' for none")
    ap.add_argument("--cache-dir", default=DEFAULT_CACHE,
                    help=f"solve cache directory (default {DEFAULT_CACHE}); 'none' disables it")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    return ap


def setting_from_args(args: argparse.Namespace) -> Setting:
    from prsg_widgets import MODELS, PRESETS

    if args.model not in MODELS:
        raise ReproduceError(f"unknown model {args.model!r}; built-in models: {', '.join(MODELS)}")
    s = full_setting(args.model) if args.full else default_setting(args.model)
    if args.layer is not None:
        s.layer, s.cheap = args.layer, False
    for name in ("n", "grid", "images", "solver"):
        if getattr(args, name) is not None:
            setattr(s, name, getattr(args, name))
    s.seed = args.seed
    if args.table2_presets is not None:
        s.table2_presets = tuple(p for p in args.table2_presets.split(",") if p)
    for preset in (s.solver, *s.table2_presets):
        if preset not in PRESETS:
            raise ReproduceError(f"unknown solver preset {preset!r}; presets: {', '.join(PRESETS)}")
    if not 1 <= s.n <= 12:
        raise ReproduceError(f"--n must be between 1 and 12 (2^n minimal features), got {s.n}")
    if s.images < 1:
        raise ReproduceError(f"--images must be at least 1, got {s.images}")
    return s


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        s = setting_from_args(args)
        cache = None if str(args.cache_dir).lower() == "none" else Path(os.path.expanduser(args.cache_dir))
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            if cache is not None:
                cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReproduceError(f"cannot create output/cache directory: {exc}") from None
        run = Run(s, args.out, cache, args.device, progress=not args.no_progress)
        result = run.run()
    except ReproduceError as exc:
        print(f"reproduce.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = f" (kept in {args.cache_dir})" if str(args.cache_dir).lower() != "none" else ""
        print(f"reproduce.py: interrupted; finished minimal features are kept{where}: rerun to resume",
              file=sys.stderr)
        return 130
    except ImportError as exc:
        if args.debug:
            raise
        print(f"reproduce.py: error: {exc} (is prsg_widgets installed? pip install -e .)", file=sys.stderr)
        return 2
    except Exception as exc:  # one line for the user; --debug shows the traceback
        if args.debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(f"reproduce.py: error: {type(exc).__name__}: {msg} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1
    print((args.out / "results.md").read_text())
    if result["figure_errors"]:
        print(f"reproduce.py: {len(result['figure_errors'])} figure(s) failed; see results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
