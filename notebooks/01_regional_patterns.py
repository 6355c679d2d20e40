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
# # Fig. 2 — regional patterns of the salient feature components
#
# The paper disentangles the intermediate feature ``f`` into feature components ``I(S)`` (OR
# Harsanyi interactions over the patches ``N``, Eq. 6) and shows, for the top-10% components by
# ``‖I(S)‖₂``, the regional pattern ``Δx_S = g(f_N) − g(f_N − I(S))``: what disappears from the
# image when the component is removed.  The claim: each pattern lies mostly inside its action
# field ``A(S)`` (the patches of ``S``, outlined).

# %% tags=["parameters"]
FULL = False            # True: the paper's setting (n = 9, middle layer, Table 2 schedule, ≥ 5 images) — use a GPU
MODEL = "dcgan-faces"   # built-in model
CHEAP = True            # the model's cheaper layer (shorter tail to re-run)
GRID = 6                # P × P patches
N = 4                   # selected patches: 2^N minimal features
SOLVER = "fast"         # solver preset (fast on CPU; nvae / biggan / ... as in Table 2)
SEEDS = [0]             # images
REGION = "foreground"   # N at random on the object (the model's rule); 'centre': the central block
TOP_SHARE = 0.10   # share of components shown (at least 3)

# %%
# %matplotlib inline
import numpy as np
from prsg_widgets import metrics as M, figures as F
from prsg_widgets.paper import PaperSetting

# The values above, checked; FULL = True swaps in the paper's (middle layer, n = 9, "nvae", ≥ 5 images).
# setting.explainer() is the model's Explainer (solves cached in $PRSG_SOLVE_CACHE, by default
# ~/.cache/prsg_widgets/solves); setting.explain(seed) draws N as the paper does, at random on
# the object (the model's foreground rule, e.g. the face region), or in the central block for
# REGION = "centre".
setting = PaperSetting(MODEL, cheap=CHEAP, grid=GRID, n=N, solver=SOLVER, seeds=SEEDS, region=REGION, full=FULL)
print(setting.describe())

# %%
e = setting.explain(setting.seeds[0])
e.solve_all()
k = max(3, int(round(TOP_SHARE * (e.num_subsets - 1))))
top = e.components(top=k)
subsets = [c.subset for c in top]
patterns = e.regional_patterns(subsets)
print("patches N:", e.patches)
print(e.health().summary())   # is this explanation faithful? (read it before the figure)
F.regional_patterns_figure(e, subsets, patterns)

# %%
rho = M.real_action_field_ratios(e, subsets)
area = M.action_field_area(e, subsets)
for c, r, a in zip(top, rho, area):
    print(f"S = {list(c.patches)!s:<18} ‖I(S)‖₂ = {c.norm:7.3f}   ρ = {r:.3f}   (area of A(S): {a:.3f})")

# %%
print(f"This run: the {k} most salient components of {e.num_subsets - 1} put on average "
      f"{np.nanmean(rho):.0%} of their pattern's L1 mass inside their action field, "
      f"which covers {np.mean(area):.0%} of the image on average "
      f"({'supports' if np.nanmean(rho) > 2 * np.mean(area) else 'does not clearly support'} the paper's claim).")
