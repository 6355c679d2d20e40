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
# # Figs. 9–12 — controllable and sequential reconstruction
#
# App. F: adding to the baseline, one by one in order of norm, the components whose action field
# covers part of a target patch set ``T`` reconstructs ``T`` (RMSE on ``clip_T`` falls to the
# solver's tolerance) while patches outside ``T`` are only partly reconstructed (Figs. 9–10).
# Sequentially adding the components of one patch at a time reconstructs the image patch by
# patch (Figs. 11–12).

# %% tags=["parameters"]
FULL = False            # True: the paper's setting (n = 9, middle layer, Table 2 schedule, ≥ 5 images) — use a GPU
MODEL = "dcgan-faces"   # built-in model
CHEAP = True            # the model's cheaper layer (shorter tail to re-run)
GRID = 6                # P × P patches
N = 4                   # selected patches: 2^N minimal features
SOLVER = "fast"         # solver preset (fast on CPU; nvae / biggan / ... as in Table 2)
SEEDS = [0]             # images
REGION = "foreground"   # N at random on the object (the model's rule); 'centre': the central block
TARGET_SIZE = 2   # patches in the target set

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
e = setting.explain(setting.seeds[0]).solve_all()
rng = np.random.default_rng(0)
target = sorted(rng.choice(e.patches, size=TARGET_SIZE, replace=False).tolist())
ctrl = M.controllable_reconstruction(e, target)
F.controllable_reconstruction_figure(e, ctrl)

# %%
seq = M.sequential_reconstruction(e, seed=0)
F.sequential_reconstruction_figure(e, seq)

# %%
print(f"This run: target {target}: RMSE {ctrl.rmse[0]:.3f} at the baseline → {ctrl.rmse[-1]:.3f} after "
      f"{len(ctrl.subsets)} components (√ε = {ctrl.tolerance:.3f}); the rest of the image goes "
      f"{ctrl.rmse_other[0]:.3f} → {ctrl.rmse_other[-1]:.3f} (partly reconstructed).")
print(f"Sequential: each newly added patch ends at RMSE ≤ {np.nanmax(seq.rmse_new):.3f} "
      f"(mean {np.nanmean(seq.rmse_new):.3f}); a patch not yet added keeps a mean RMSE of "
      f"{np.mean([seq.rmse_patch[j, seq.patches.index(p)] for j, p in enumerate(seq.order)]):.3f} "
      f"just before its turn.")
