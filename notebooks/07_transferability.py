# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 8 — transferability of action fields across images
#
# Sec. 3.4: explain several images of the same network over the **same** patch positions; the
# action fields of the top-``k_a`` components of image a are largely found among the top-``k_b``
# of image b: ratio ``|A_a ∩ A_b| / k_a`` = 88.0% (NVAE), 76.3% (SiD) with ``k_a = 20``,
# ``k_b = 100`` of 511.  With ``n = 4`` (15 components) we scale ``k`` down and report the chance
# level ``k_b / (2^n − 1)`` of randomly drawn fields next to it.

# %% tags=["parameters"]
FULL = False            # True: the paper's setting (n = 9, middle layer, Table 2 schedule, ≥ 5 images) — use a GPU
MODEL = "dcgan-faces"   # built-in model
CHEAP = True            # the model's cheaper layer (shorter tail to re-run)
GRID = 6                # P × P patches
N = 4                   # selected patches: 2^N minimal features
SOLVER = "fast"         # solver preset (fast on CPU; nvae / biggan / ... as in Table 2)
SEEDS = [0, 1, 2]       # images
REGION = "foreground"   # N at random on the object (the model's rule); 'centre': the central block
K_A, K_B = 3, 6     # paper: 20, 100 of 511

# %%
if FULL:
    CHEAP, N, SOLVER = False, 9, "nvae"
    SEEDS = list(range(max(5, len(SEEDS))))
    K_A, K_B = 20, 100

# %%
# %matplotlib inline
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


# %%
first = explain(SEEDS[0])
positions = first.patches                      # the same patch positions for every image
expls = {s: ex.explain(s, patches=positions).solve_all() for s in SEEDS}
pairs = [(a, b) for a in SEEDS for b in SEEDS if a != b]
results = [M.transferability(expls[a], expls[b], K_A, K_B) for a, b in pairs]
F.transferability_figure(results, [f"{a}→{b}" for a, b in pairs])

# %%
sym = [M.transferability(expls[a], expls[b], K_A, K_A).ratio for a, b in pairs]
for (a, b), r in zip(pairs, results):
    print(f"{a}→{b}: {r.ratio:.0%} of the top-{r.k_a} fields of image {a} are among the top-{r.k_b} of image {b}")
print(f"This run: mean transferability {np.mean([r.ratio for r in results]):.1%} over {len(pairs)} ordered "
      f"pairs of {len(SEEDS)} images (chance {results[0].chance:.1%}); symmetric k_a = k_b = {K_A}: "
      f"{np.mean(sym):.1%} (chance {K_A / (2 ** len(positions) - 1):.1%}).")
