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
# features `f_T`, [Eq. 6](../docs/theory.md#3-feature-components-or-interactions)) as regional patterns, their **sparsity** against a dense control
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
SOLVER = None           # None: "interactive" (nested, faithful); "fast" = the paper's independent baseline
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
# Click or drag on the image to choose other patches (at most 12; Tab and the arrow keys reach the
# patches, Space toggles one), or press **auto** for the foreground ones, then **Explain selection**;
# ◀ ▶ explain the previous or next image.  While the largest subsets are solved, the component
# browser shows the minimal features already solved as the images they regenerate, `g(f_T)`; the
# components replace them when every minimal feature they need is there.  Click a patch to list
# the components whose action field covers it (pointing at a component outlines its patches),
# a thumbnail for its norm, ρ and sparsity — and **remove I(S)** to see the image without it — and
# move the *top-k* slider to rebuild the target patches from the strongest components (App. F).
# One progress line, at the top, reports every view's solve with a time left and one Cancel /
# Resume for all of them.
#
# Everything the views show is also on the Python side. The block below fills in by itself once
# every view is solved (no need to run the cell again):

# %% tags=["nbval-ignore-output"]
d.wait()     # blocks in scripts and executed notebooks; in JupyterLab / Notebook 7 it returns at once
d.report()   # health, strongest components, transferability: appears here when the solves end

# %% [markdown]
# In a script, or once the progress line says every view is solved, the same numbers are plain
# Python: `d.explanation.health().summary()`, `d.explanation.components(top=3)`, `d.pairer.ratio`.
# Each view also works on its own, e.g. the browser on the dashboard's explanation:

# %% tags=["nbval-ignore-output"]
from prsg_widgets.widgets import ComponentBrowser

ComponentBrowser(d.explanation, target=d.explanation.patches[:2])
