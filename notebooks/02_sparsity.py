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
# # Fig. 3 and Fig. 16 — sparsity of feature components, and the dense control
#
# Sec. 2.3: the elements of all feature components, sorted by magnitude, fall off steeply — only
# a few elements are salient (Fig. 3).  App. I / Fig. 16: running the same pipeline on a random
# feature of the same shape (a "chaotic" representation) gives visibly *denser* components.
# Our dense control draws each channel i.i.d. normal with that channel's mean and standard
# deviation in the sample's feature, clamped at 0 after a ReLU (``metrics.dense_control``).

# %% tags=["parameters"]
FULL = False            # True: the paper's setting (n = 9, middle layer, Table 2 schedule, ≥ 5 images) — use a GPU
MODEL = "dcgan-faces"   # built-in model
CHEAP = True            # the model's cheaper layer (shorter tail to re-run)
GRID = 6                # P × P patches
N = 4                   # selected patches: 2^N minimal features
SOLVER = "fast"         # solver preset (fast on CPU; nvae / biggan / ... as in Table 2)
SEEDS = [0]             # images
REGION = "foreground"   # N at random on the object (the model's rule); 'centre': the central block

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
ex = setting.explainer()
print(setting.describe())

# %%
e = setting.explain(setting.seeds[0])
dense = M.dense_control(ex, e, seed=0)      # same patches, random feature; not solved yet
e.solve_all(); dense.solve_all()
curves = {f"seed {s}": M.sparsity_curve(setting.explain(s).solve_all()) for s in setting.seeds}
curves["dense control"] = M.sparsity_curve(dense)
F.sparsity_figure(curves, relative=True)

# %%
stats = {label: M.sparsity_stats(c) for label, c in curves.items()}
for label, s in stats.items():
    print(f"{label:>14}: {s['salient_fraction']:.2%} of elements above 1% of the max; "
          f"{s['mass_fraction']:.2%} of elements hold 90% of the L1 mass")

# %%
real = np.mean([stats[f"seed {s}"]["mass_fraction"] for s in setting.seeds])
ctrl = stats["dense control"]["mass_fraction"]
print(f"This run: 90% of the components' L1 mass sits in {real:.2%} of the elements for the real "
      f"feature(s) and in {ctrl:.2%} for the dense control — the control is "
      f"{ctrl / real:.1f}× denser" + (" (as in Fig. 16)." if ctrl > real else " (NOT as in Fig. 16)."))
