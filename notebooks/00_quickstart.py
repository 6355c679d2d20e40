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
# # Quickstart — explore a generator's primitive representation structures
#
# `explore()` opens the dashboard on a built-in model: a generated image with its patch grid, the
# **feature components** `I(S)` of the chosen patches `N` (OR Harsanyi interactions of the minimal
# features `f_T`, DESIGN.md Eq. 6) as regional patterns, their **sparsity** against a dense control
# (Fig. 3 / App. I), and their **transferability** to a second image (Sec. 3.4).
#
# The solves run in a background thread: the kernel stays free, progress bars show the solve,
# and the views fill in as results land.  On a CPU keep `N` small (2^N minimal features per image)
# and keep the default solver: on a CPU it is the *nested* interactive mode (labelled in the
# dashboard, with a button to re-solve every subset independently, the reference).

# %% tags=["parameters"]
MODEL = "dcgan-faces"   # built-in model: "dcgan-faces", "eyes-128" or "toy-scenes"
CHEAP = True            # the model's cheaper layer (a shorter tail to re-run)
GRID = 6                # P × P patches
N = 4                   # patches to explain: 2^N minimal features
SOLVER = None           # None: "interactive" (nested, fast) on a CPU, "fast" on a GPU; or a preset name
SEED = 0                # the image
SEED_B = 1              # the second image of the transferability view

# %% tags=["nbval-ignore-output"]
import os
from prsg_widgets import explore

CACHE = os.environ.get("PRSG_SOLVE_CACHE")  # optional disk cache of solves
d = explore(MODEL, seed=SEED, n=N, grid=GRID, solver=SOLVER, cheap=CHEAP, seed_b=SEED_B,
            cache_dir=CACHE)
d

# %% [markdown]
# Click or drag on the image to choose other patches (at most 12), or press **auto** for the
# foreground ones, then **Explain selection**.  In the component browser, click a patch to list the
# components whose action field covers it, a thumbnail for its norm, ρ and sparsity, and move the
# *top-k* slider to rebuild the target patches from the strongest components (App. F).
#
# Everything the views show is also on the Python side:

# %% tags=["nbval-ignore-output"]
d.wait()   # blocks in scripts and nbval; in JupyterLab / Notebook 7 it returns at once (the views fill in)
if d.explanation.is_complete:
    print("patches N:", d.explanation.patches, "| solved:", d.explanation.progress)
    print(d.explanation.health().summary())   # is the explanation faithful? (also in the browser header)
    print("strongest components:", d.explanation.components(top=3))
    print("transferability |A_a ∩ A_b| / k_a =", d.pairer.ratio)
else:
    print("still solving", d.explanation.progress, "- run this cell again when the progress bars are full")

# %% tags=["nbval-ignore-output"]
# each view also works on its own, e.g. the browser on the dashboard's explanation
from prsg_widgets.widgets import ComponentBrowser

ComponentBrowser(d.explanation, target=d.explanation.patches[:2])
