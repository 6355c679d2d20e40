"""Generate the figure notebooks ``notebooks/01_…`` – ``10_…`` (one per paper figure / table).

    python scripts/make_notebooks.py            # write the .ipynb files (no outputs)
    python scripts/make_notebooks.py --execute  # ... and run them in place (outputs committed)
    python scripts/make_notebooks.py --only 05 --execute

Every notebook: a markdown paragraph on what the paper claims, a ``parameters`` cell (papermill)
with CPU defaults and ``FULL = True`` for the paper's setting on a GPU, the computation through
the public API only (``prsg_widgets``, ``prsg_widgets.metrics``, ``prsg_widgets.figures``), and a
closing statement computed from this run.  Solves are shared through one disk cache
(``$PRSG_SOLVE_CACHE``), so notebooks with the same model, image, patches and solver reuse
each other's minimal features.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str, tags: tuple[str, ...] = ()):
    cell = new_code_cell(textwrap.dedent(text).strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


DEFAULTS = [
    ("FULL", "False", "True: the paper's setting (n = 9, middle layer, Table 2 schedule, ≥ 5 images) — use a GPU"),
    ("MODEL", '"dcgan-faces"', "built-in model"),
    ("CHEAP", "True", "the model's cheaper layer (shorter tail to re-run)"),
    ("GRID", "6", "P × P patches"),
    ("N", "4", "selected patches: 2^N minimal features"),
    ("SOLVER", '"fast"', "solver preset (fast on CPU; nvae / biggan / ... as in Table 2)"),
    ("SEEDS", "[0]", "images"),
    ("REGION", '"foreground"', "N at random on the object (the model's rule); 'centre': the central block"),
]


def params(extra: str = "", full: str = "", **overrides: str):
    """The papermill ``parameters`` cell (defaults, ``overrides`` of them, then ``extra`` lines),
    and the cell that switches to the paper's setting when ``FULL`` (then runs ``full``)."""
    lines = []
    for name, value, note in DEFAULTS:
        lines.append(f"{name} = {overrides.pop(name, value)}".ljust(24) + f"# {note}")
    if overrides:
        raise ValueError(f"unknown parameters {list(overrides)}")
    lines += [ln for ln in textwrap.dedent(extra).strip().splitlines() if ln.strip()]
    switch = ["if FULL:", '    CHEAP, N, SOLVER = False, 9, "nvae"', "    SEEDS = list(range(max(5, len(SEEDS))))"]
    switch += ["    " + ln for ln in textwrap.dedent(full).strip().splitlines() if ln.strip()]
    return [code("\n".join(lines), ("parameters",)), code("\n".join(switch))]


SETUP = code("""
    %matplotlib inline
    import os
    import numpy as np
    import prsg_widgets as pw
    from prsg_widgets import metrics as M, figures as F

    CACHE = os.environ.get("PRSG_SOLVE_CACHE", os.path.expanduser("~/.cache/prsg_widgets/solves"))
    ex = pw.Explainer(MODEL, grid=GRID, solver=SOLVER, cheap=CHEAP, cache_dir=CACHE, progress=False)
    print(f"{MODEL} split at {ex.generator.layer} (d = {ex.generator.d}), grid {GRID}×{GRID}, "
          f"n = {N}, solver {SOLVER!r}, ε = {ex.epsilon:g}")

    P = ex.grid.size
    CENTRE = ex.grid.mask([r * P + c for r in range(1, P - 1) for c in range(1, P - 1)])

    def explain(seed):
        # N patches drawn as the paper does, at random on the object (the model's foreground rule,
        # e.g. the face region), or on the central block
        return ex.explain(seed, n=N, mask=CENTRE if REGION == "centre" else None)
""")


def _nb(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


NOTEBOOKS: dict[str, list] = {}

# ---------------------------------------------------------------------------------- 01
NOTEBOOKS["01_regional_patterns"] = [
    md("""
    # Fig. 2 — regional patterns of the salient feature components

    The paper disentangles the intermediate feature ``f`` into feature components ``I(S)`` (OR
    Harsanyi interactions over the patches ``N``, Eq. 6) and shows, for the top-10% components by
    ``‖I(S)‖₂``, the regional pattern ``Δx_S = g(f_N) − g(f_N − I(S))``: what disappears from the
    image when the component is removed.  The claim: each pattern lies mostly inside its action
    field ``A(S)`` (the patches of ``S``, outlined).
    """),
    *params("TOP_SHARE = 0.10   # share of components shown (at least 3)"),
    SETUP,
    code("""
    e = explain(SEEDS[0])
    e.solve_all()
    k = max(3, int(round(TOP_SHARE * (e.num_subsets - 1))))
    top = e.components(top=k)
    subsets = [c.subset for c in top]
    patterns = e.regional_patterns(subsets)
    print("patches N:", e.patches)
    print(e.health().summary())   # is this explanation faithful? (read it before the figure)
    F.regional_patterns_figure(e, subsets, patterns)
    """),
    code("""
    rho = M.real_action_field_ratios(e, subsets)
    area = M.action_field_area(e, subsets)
    for c, r, a in zip(top, rho, area):
        print(f"S = {list(c.patches)!s:<18} ‖I(S)‖₂ = {c.norm:7.3f}   ρ = {r:.3f}   (area of A(S): {a:.3f})")
    """),
    code("""
    print(f"This run: the {k} most salient components of {e.num_subsets - 1} put on average "
          f"{np.nanmean(rho):.0%} of their pattern's L1 mass inside their action field, "
          f"which covers {np.mean(area):.0%} of the image on average "
          f"({'supports' if np.nanmean(rho) > 2 * np.mean(area) else 'does not clearly support'} the paper's claim).")
    """),
]

# ---------------------------------------------------------------------------------- 02
NOTEBOOKS["02_sparsity"] = [
    md("""
    # Fig. 3 and Fig. 16 — sparsity of feature components, and the dense control

    Sec. 2.3: the elements of all feature components, sorted by magnitude, fall off steeply — only
    a few elements are salient (Fig. 3).  App. I / Fig. 16: running the same pipeline on a random
    feature of the same shape (a "chaotic" representation) gives visibly *denser* components.
    Our dense control draws each channel i.i.d. normal with that channel's mean and standard
    deviation in the sample's feature, clamped at 0 after a ReLU (``metrics.dense_control``).
    """),
    *params(),
    SETUP,
    code("""
    e = explain(SEEDS[0])
    dense = M.dense_control(ex, e, seed=0)      # same patches, random feature; not solved yet
    e.solve_all(); dense.solve_all()
    curves = {f"seed {s}": M.sparsity_curve(explain(s).solve_all()) for s in SEEDS}
    curves["dense control"] = M.sparsity_curve(dense)
    F.sparsity_figure(curves, relative=True)
    """),
    code("""
    stats = {label: M.sparsity_stats(c) for label, c in curves.items()}
    for label, s in stats.items():
        print(f"{label:>14}: {s['salient_fraction']:.2%} of elements above 1% of the max; "
              f"{s['mass_fraction']:.2%} of elements hold 90% of the L1 mass")
    """),
    code("""
    real = np.mean([stats[f"seed {s}"]["mass_fraction"] for s in SEEDS])
    ctrl = stats["dense control"]["mass_fraction"]
    print(f"This run: 90% of the components' L1 mass sits in {real:.2%} of the elements for the real "
          f"feature(s) and in {ctrl:.2%} for the dense control — the control is "
          f"{ctrl / real:.1f}× denser" + (" (as in Fig. 16)." if ctrl > real else " (NOT as in Fig. 16)."))
    """),
]

# ---------------------------------------------------------------------------------- 03
NOTEBOOKS["03_linear_additivity"] = [
    md("""
    # Fig. 4 — linear additivity with the top-k components

    Theorem 2 (Eq. 7): every minimal feature is the baseline plus the components whose action
    field meets ``T``, ``f_T = b + Σ_{S∩T≠∅} I(S)`` — exact with all components.  Sec. 3.1 keeps
    only the top-30 of 512 components by norm and shows the matching error
    ``‖u(T) − û(T)‖²/d`` is small compared with ``‖u(T)‖``, for every ``T``.  With ``n = 4`` here
    (15 components) we keep ``K`` of them.
    """),
    *params("K = 5   # components kept (paper: 30 of 511)", "K = 30"),
    SETUP,
    code("""
    e = explain(SEEDS[0]).solve_all()
    full = M.matching_error(e, k=e.num_subsets)      # all components: Eq. 7 is an identity
    res = M.matching_error(e, k=K)
    print(f"with all components, max error = {full.error.max():.2e} (float precision)")
    F.matching_error_figure(res)
    """),
    code("""
    h = e.health(k=K)
    print(h.summary())
    rel = res.relative[1:]
    print(f"Both readings of Fig. 4 with the top {K}: Σ‖u − û‖² is {h.matching_error:.3g} of Σ‖f_T − b‖² "
          f"(u = f_T − b, the honest one) and {h.matching_error_vs_feature:.3g} of Σ‖f_T‖² (b dominates f_T).")
    print(f"This run: keeping the top {res.k} of {e.num_subsets - 1} components, the matching error is a "
          f"median {np.nanmedian(rel):.2%} (max {np.nanmax(rel):.2%}) of ‖u(T)‖²/d over the "
          f"{e.num_subsets - 1} non-empty subsets T; with all components it is {full.error.max():.1e}.")
    """),
]

# ---------------------------------------------------------------------------------- 04
NOTEBOOKS["04_boundary_breach"] = [
    md("""
    # Figs. 5, 14, 15 — spatial boundedness (boundary breach)

    Axiom 2 / Sec. 3.2.2: pick a patch ``i``; add to the baseline, in order of norm, the components
    whose action field does **not** contain ``i``.  The RMSE of patch ``i`` against ``g(b)`` should
    stay near 0 while the other patches change (Fig. 5); Figs. 14–15 repeat this on other models.
    Here: the faces DCGAN and the toy-scenes model (``FULL`` adds ``eyes-128``).
    """),
    *params("OTHER_MODELS = [\"toy-scenes\"]   # Figs. 14–15: more models", "OTHER_MODELS = [\"toy-scenes\", \"eyes-128\"]"),
    SETUP,
    code("""
    e = explain(SEEDS[0]).solve_all()
    results = [M.boundary_breach(e, p) for p in e.patches]
    F.boundary_breach_figure(results[:2], explanation=e, show_images=4)
    """),
    code("""
    ratios = {MODEL: [r.breach_ratio for r in results]}
    for name in OTHER_MODELS:
        ex2 = pw.Explainer(name, grid=GRID if name != "toy-scenes" else 4, solver=SOLVER, cheap=CHEAP,
                           cache_dir=CACHE, progress=False)
        e2 = ex2.explain(SEEDS[0], n=N).solve_all()
        res2 = [M.boundary_breach(e2, p) for p in e2.patches]
        ratios[name] = [r.breach_ratio for r in res2]
        display(F.boundary_breach_figure(res2[:2], labels=[f"{name}: i = {r.patch}" for r in res2[:2]]))
    """),
    code("""
    for name, rs in ratios.items():
        print(f"{name:>12}: final RMSE(patch i) / RMSE(other patches) = "
              + ", ".join(f"{x:.2f}" for x in rs) + f"   (mean {np.nanmean(rs):.2f})")
    ok = all(np.nanmean(rs) < 0.5 for rs in ratios.values())
    print(f"This run: patch i changes on average {np.nanmean([np.nanmean(r) for r in ratios.values()]):.0%} as much "
          f"as the other patches when the components avoiding it are added — "
          + ("bounded, as the paper claims." if ok else "a visible breach on at least one model."))
    """),
]

# ---------------------------------------------------------------------------------- 05
NOTEBOOKS["05_real_action_fields"] = [
    md("""
    # Fig. 6 — real action fields (ρ)

    Sec. 3.2.1 measures how much of a component's regional pattern lies inside its action field:
    ``ρ(S) = ‖clip_{A(S)}(Δx_S)‖₁ / ‖Δx_S‖₁``.  The paper reports ρ close to 1 for the salient
    components.  We compare ρ with the area share of ``A(S)`` (the ρ of a pattern spread evenly),
    and on the toy-scenes model — whose true object masks are known — check that the action
    fields of the top components fall on the objects' patches.
    """),
    *params("TOP = 8              # components scored\nTOY_TOP = 3          # toy-scenes: top components checked against the true objects\nTOY_SEEDS = [0, 1, 2, 3, 4]   # toy-scenes images (cheap: 16 small solves each)",
            "TOP = 50\nTOY_SEEDS = list(range(20))"),
    SETUP,
    code("""
    rhos, areas, orders = [], [], []
    for seed in SEEDS:
        e = explain(seed).solve_all()
        comps = e.components(top=TOP)
        subsets = [c.subset for c in comps]
        rhos.append(M.real_action_field_ratios(e, subsets))
        areas.append(M.action_field_area(e, subsets))
        orders.append([c.order for c in comps])
    F.real_action_field_figure(rhos[0], orders[0], areas[0], title=f"{MODEL}, seed {SEEDS[0]}")
    """),
    code("""
    toy = pw.Explainer("toy-scenes", grid=4, solver=SOLVER, cheap=CHEAP, cache_dir=CACHE, progress=False)
    shares = []
    for seed in TOY_SEEDS:
        et = toy.explain(seed, patches="random", n=N, seed=seed)   # random patches: objects and background
        et.solve_all()
        shares.append(M.object_share(et, top=TOY_TOP))
        print(f"toy seed {seed}: N = {et.patches}, object patches {shares[-1]['object_patches']}, "
              f"top-{TOY_TOP} fields {shares[-1]['fields']}")
    subs = [c.subset for c in et.components(top=TOY_TOP)]
    F.regional_patterns_figure(et, subs, et.regional_patterns(subs))
    """),
    code("""
    rho_all, area_all = np.concatenate(rhos), np.concatenate(areas)
    share = np.nanmean([s["share"] for s in shares]); chance = np.mean([s["chance"] for s in shares])
    print(f"This run: mean ρ of the top {TOP} components on {MODEL} is {np.nanmean(rho_all):.3f} "
          f"(median {np.nanmedian(rho_all):.3f}) against an area share of {area_all.mean():.3f}; "
          f"on toy-scenes, {share:.0%} of the top-{TOY_TOP} action-field patches are object patches "
          f"(chance: {chance:.0%} of the selected patches are on objects), over {len(TOY_SEEDS)} toy images.")
    """),
]

# ---------------------------------------------------------------------------------- 06
NOTEBOOKS["06_consistency"] = [
    md("""
    # Fig. 7 — consistency of regional patterns

    Axiom 3 / Sec. 3.3: a component should add the same regional pattern whatever else is
    generated.  For component ``S`` and a patch set ``T`` disjoint from ``S``, the pattern of ``S``
    on top of the components triggered by ``T`` is
    ``p_S^T = g(b + Σ_{S'∩T≠∅} I(S') + I(S)) − g(b + Σ_{S'∩T≠∅} I(S'))``; the inconsistency
    ``‖clip_{A(S)}(p_S^T − p_S^∅)‖₂ / ‖clip_{A(S)}(p_S^∅)‖₂`` (averaged over ``T``) should be small.
    """),
    *params("TOP = 3            # components tested\nMAX_CONTEXTS = 7   # contexts T per component (all when fewer)",
            "TOP = 10\nMAX_CONTEXTS = 30"),
    SETUP,
    code("""
    e = explain(SEEDS[0]).solve_all()
    comps = [c for c in e.components() if c.subset != e.full][:TOP]   # S = N leaves no context
    results = [M.inconsistency(e, c.subset, max_contexts=MAX_CONTEXTS) for c in comps]
    F.consistency_figure(e, results, max_contexts=4)
    """),
    code("""
    for r in results:
        print(f"S = {r.field!s:<16} inconsistency over {len(r.values)} contexts: mean {r.mean:.3f}, "
              f"max {r.values.max():.3f}")
    means = [r.mean for r in results]
    print(f"This run: the top {len(results)} components change their pattern inside A(S) by "
          f"{np.mean(means):.1%} on average (L2, relative) when other regions are generated first.")
    """),
]

# ---------------------------------------------------------------------------------- 07
NOTEBOOKS["07_transferability"] = [
    md("""
    # Fig. 8 — transferability of action fields across images

    Sec. 3.4: explain several images of the same network over the **same** patch positions; the
    action fields of the top-``k_a`` components of image a are largely found among the top-``k_b``
    of image b: ratio ``|A_a ∩ A_b| / k_a`` = 88.0% (NVAE), 76.3% (SiD) with ``k_a = 20``,
    ``k_b = 100`` of 511.  With ``n = 4`` (15 components) we scale ``k`` down and report the chance
    level ``k_b / (2^n − 1)`` of randomly drawn fields next to it.
    """),
    *params("K_A, K_B = 3, 6     # paper: 20, 100 of 511", "K_A, K_B = 20, 100", SEEDS="[0, 1, 2]"),
    SETUP,
    code("""
    first = explain(SEEDS[0])
    positions = first.patches                      # the same patch positions for every image
    expls = {s: ex.explain(s, patches=positions).solve_all() for s in SEEDS}
    pairs = [(a, b) for a in SEEDS for b in SEEDS if a != b]
    results = [M.transferability(expls[a], expls[b], K_A, K_B) for a, b in pairs]
    F.transferability_figure(results, [f"{a}→{b}" for a, b in pairs])
    """),
    code("""
    sym = [M.transferability(expls[a], expls[b], K_A, K_A).ratio for a, b in pairs]
    for (a, b), r in zip(pairs, results):
        print(f"{a}→{b}: {r.ratio:.0%} of the top-{r.k_a} fields of image {a} are among the top-{r.k_b} of image {b}")
    print(f"This run: mean transferability {np.mean([r.ratio for r in results]):.1%} over {len(pairs)} ordered "
          f"pairs of {len(SEEDS)} images (chance {results[0].chance:.1%}); symmetric k_a = k_b = {K_A}: "
          f"{np.mean(sym):.1%} (chance {K_A / (2 ** len(positions) - 1):.1%}).")
    """),
]

# ---------------------------------------------------------------------------------- 08
NOTEBOOKS["08_reconstruction"] = [
    md("""
    # Figs. 9–12 — controllable and sequential reconstruction

    App. F: adding to the baseline, one by one in order of norm, the components whose action field
    covers part of a target patch set ``T`` reconstructs ``T`` (RMSE on ``clip_T`` falls to the
    solver's tolerance) while patches outside ``T`` are only partly reconstructed (Figs. 9–10).
    Sequentially adding the components of one patch at a time reconstructs the image patch by
    patch (Figs. 11–12).
    """),
    *params("TARGET_SIZE = 2   # patches in the target set"),
    SETUP,
    code("""
    e = explain(SEEDS[0]).solve_all()
    rng = np.random.default_rng(0)
    target = sorted(rng.choice(e.patches, size=TARGET_SIZE, replace=False).tolist())
    ctrl = M.controllable_reconstruction(e, target)
    F.controllable_reconstruction_figure(e, ctrl)
    """),
    code("""
    seq = M.sequential_reconstruction(e, seed=0)
    F.sequential_reconstruction_figure(e, seq)
    """),
    code("""
    print(f"This run: target {target}: RMSE {ctrl.rmse[0]:.3f} at the baseline → {ctrl.rmse[-1]:.3f} after "
          f"{len(ctrl.subsets)} components (√ε = {ctrl.tolerance:.3f}); the rest of the image goes "
          f"{ctrl.rmse_other[0]:.3f} → {ctrl.rmse_other[-1]:.3f} (partly reconstructed).")
    print(f"Sequential: each newly added patch ends at RMSE ≤ {np.nanmax(seq.rmse_new):.3f} "
          f"(mean {np.nanmean(seq.rmse_new):.3f}); a patch not yet added keeps a mean RMSE of "
          f"{np.mean([seq.rmse_patch[j, seq.patches.index(p)] for j, p in enumerate(seq.order)]):.3f} "
          f"just before its turn.")
    """),
]

# ---------------------------------------------------------------------------------- 09
NOTEBOOKS["09_table1_properties"] = [
    md("""
    # Table 1, measured — our components vs. PCA directions of the feature (GANSpace style)

    Table 1 of the paper marks which explanation methods satisfy feature completeness, spatial
    boundedness and consistency (App. C argues GANSpace satisfies neither completeness nor
    boundedness).  Going further, we *measure* the properties with the same metrics for the OR
    components and for a baseline: the feature change ``f_N − b`` projected on the top principal
    directions of the layer (as many directions as components).  PCA directions claim no action
    field, so each is given the patches of ``N`` where its own pattern is strongest, sized like
    the OR component of the same rank — this favours the baseline.  Transferability compares two
    images over the same patch positions.
    """),
    *params("TOP = 5            # components scored per method\nPCA_SAMPLES = 300  # codes for the PCA",
            "TOP = 20\nPCA_SAMPLES = 2000", SEEDS="[0, 1]"),
    SETUP,
    code("""
    from IPython.display import Markdown

    e_a = explain(SEEDS[0]).solve_all()
    e_b = ex.explain(SEEDS[1], patches=e_a.patches).solve_all()
    ours_a, ours_b = M.decomposition_from_explanation(e_a), M.decomposition_from_explanation(e_b)
    dirs = M.pca_directions(ex, k=len(ours_a), num_samples=PCA_SAMPLES)
    sizes_a = [len(f) for f in ours_a.fields]; sizes_b = [len(f) for f in ours_b.fields]
    pca_a, pca_b = M.pca_decomposition(e_a, dirs, sizes_a), M.pca_decomposition(e_b, dirs, sizes_b)
    scores = [M.score_properties(ours_a, ours_b, top=TOP), M.score_properties(pca_a, pca_b, top=TOP)]
    Markdown(F.markdown_table({s.name: s.as_dict() for s in scores},
                              ["components", "completeness_residual", "rho_mean", "rho_chance",
                               "inconsistency_mean", "breach_ratio_mean", "transfer"]))
    """),
    code("""
    F.properties_figure(scores)
    """),
    code("""
    o, p = scores
    def wins(k, lower):  # better by more than 10% (relative); closer counts as a tie
        a, b = (getattr(o, k), getattr(p, k)) if lower else (getattr(p, k), getattr(o, k))
        return a < 0.9 * b
    better = [k for k in ("completeness_residual", "inconsistency_mean", "breach_ratio_mean") if wins(k, True)]
    better += [k for k in ("rho_mean", "transfer") if wins(k, False)]
    print(f"This run ({MODEL}, n = {N}, top {TOP}): completeness residual {o.completeness_residual:.1e} vs "
          f"{p.completeness_residual:.2f}; mean ρ {o.rho_mean:.2f} vs {p.rho_mean:.2f} (chance {o.rho_chance:.2f}); "
          f"inconsistency {o.inconsistency_mean:.2f} vs {p.inconsistency_mean:.2f}; breach ratio "
          f"{o.breach_ratio_mean:.2f} vs {p.breach_ratio_mean:.2f}; transferability {o.transfer:.0%} vs "
          f"{p.transfer:.0%}.  The OR components score clearly better (>10%) on {len(better)} of 5: "
          f"{', '.join(better) or 'none'}.")
    """),
]

# ---------------------------------------------------------------------------------- 10
NOTEBOOKS["10_table2_convergence"] = [
    md("""
    # Table 2 — solver convergence under each preset

    App. E, Table 2 lists the optimiser settings per architecture (learning rate, iterations, λ).
    Here every preset solves the same explanation (the face model's cheap layer, 4 patches) and we
    report the mean final mse against ε, the share of feasible minimal features (every patch within
    ε), the mean iterations used (early stopping), the sparsity ``‖f_T − b‖₁ / ‖f − b‖₁``, the
    health of the components (cancellation ``Σ‖I(S)‖₁/‖u(N)‖₁``, top-k matching error) and wall
    time.  ``interactive`` is ``fast`` solved nested; ``legacy`` is the 0.1.0 solver.
    On a CPU the paper's 10⁴-iteration presets are capped at ``MAX_ITERATIONS`` (``FULL`` lifts
    the cap).  Solves are not cached here, so the times are real.
    """),
    *params('PRESETS = ["tiny", "fast", "interactive", "legacy", "biggan", "nvae"]\nMAX_ITERATIONS = 300   # cap for CPU runs (None: the preset\'s own)',
            'MODEL, GRID, N = "dcgan-faces", 6, 6   # Table 2 per preset: 64 subsets each\nPRESETS = ["tiny", "fast", "interactive", "legacy", "biggan", "stylegan", "nvae", "sid"]\nMAX_ITERATIONS = None',
            MODEL='"dcgan-faces"', GRID="6", N="4"),
    code("""
    %matplotlib inline
    import time
    import numpy as np
    from IPython.display import Markdown
    import prsg_widgets as pw
    from prsg_widgets import metrics as M, figures as F

    summaries = {}
    for preset in PRESETS:
        cap = {} if MAX_ITERATIONS is None else {"iterations": min(MAX_ITERATIONS, pw.PRESETS[preset].iterations)}
        ex = pw.Explainer(MODEL, grid=GRID, solver=preset, cheap=CHEAP, progress=False, **cap)
        e = ex.explain(SEEDS[0], n=N)
        t0 = time.perf_counter()
        e.solve_all()
        seconds = time.perf_counter() - t0
        h = e.health()
        summaries[preset] = {**M.solver_summary(e), "seconds": seconds, "lr": ex.config.lr,
                             "max it": ex.config.iterations, "λ": ex.config.lam,
                             "cancellation": h.cancellation, f"match top-{h.k}": h.matching_error}
    Markdown(F.markdown_table(summaries, ["lr", "max it", "λ", "mse", "epsilon", "feasible", "iterations",
                                          "sparsity", "cancellation", f"match top-{h.k}", "seconds"]))
    """),
    code("""
    F.convergence_figure({k: v for k, v in summaries.items()})
    """),
    code("""
    best = min(summaries, key=lambda k: (-summaries[k]["feasible"], summaries[k]["sparsity"]))
    stuck = [k for k, v in summaries.items() if v["sparsity"] > 0.5]
    print("This run: share feasible (every patch within ε) per preset: "
          + ", ".join(f"{k} {v['feasible']:.0%}" for k, v in summaries.items())
          + "; sparsity ‖f_T − b‖₁/‖f − b‖₁: "
          + ", ".join(f"{k} {v['sparsity']:.2f}" for k, v in summaries.items())
          + "; cancellation Σ‖I‖₁/‖u(N)‖₁: "
          + ", ".join(f"{k} {v['cancellation']:.2f}" for k, v in summaries.items())
          + f".  Most minimal among the most feasible: {best!r}.  'legacy' is prsg_widgets 0.1.0's "
          "solver (start from m = 1, one mse over T), kept to show why it was replaced."
          + (f"  Not minimal within this run's iteration cap (they keep over half of ‖f − b‖₁, so "
             f"their low cancellation means little): {', '.join(stuck)} — a slow learning rate "
             "cannot climb from m = 0 in time, and the restart from m = 1 barely descends."
             if stuck else ""))
    """),
]


def write(only: list[str] | None = None) -> list[Path]:
    NB_DIR.mkdir(exist_ok=True)
    paths = []
    for name, cells in NOTEBOOKS.items():
        if only and not any(name.startswith(o) for o in only):
            continue
        path = NB_DIR / f"{name}.ipynb"
        nbformat.write(_nb(cells), path)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--execute", action="store_true", help="run each notebook in place (nbconvert)")
    ap.add_argument("--only", nargs="*", help="name prefixes, e.g. 01 05")
    args = ap.parse_args()
    for path in write(args.only):
        print("wrote", path.relative_to(ROOT))
        if args.execute:
            t0 = __import__("time").perf_counter()
            subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                            "--inplace", "--ExecutePreprocessor.timeout=1200", str(path)], check=True, cwd=NB_DIR)
            print(f"  executed in {__import__('time').perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
