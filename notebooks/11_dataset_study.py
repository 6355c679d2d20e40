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
# # A dataset study on a Dask cluster
#
# The paper's claims are statistics over images: transferability (Sec. 3.4) over *pairs* of
# images explained at the same patch positions, ρ (Sec. 3.2.1) over many components, and the
# health of every explanation.  ``prsg_widgets.sweep`` explains many images on a
# [Dask](https://distributed.dask.org) cluster — an embedded ``LocalCluster`` here, any cluster
# through its scheduler address (``docs/cluster.md``: SLURM/PBS with dask-jobqueue, Kubernetes,
# one worker per GPU) — and aggregates them.  Tasks are *(image, chunk of subsets)*, each worker
# loads the model once, and every result goes through the shared solve cache: a rerun, or the
# retry of a task whose worker was lost, solves only what is missing.
#
# The CPU setting below (toy scenes, cheap layer, n = 4, the ``tiny`` preset, 6 images on 2
# worker processes) runs in under a minute; ``FULL`` is the paper's setting, for a cluster.

# %% tags=["parameters"]
FULL = False            # True: the paper's setting (n = 9, Table 2 schedule, 64 images) — on a cluster of GPUs
MODEL = "toy-scenes"    # built-in model
CHEAP = True            # the model's cheaper layer
N = 4                   # patches per image (the same positions for every image)
SEEDS = "0:6"           # images
PRESET = "tiny"         # solver preset
WORKERS = 2             # local worker processes (ignored with SCHEDULER)
SCHEDULER = None        # e.g. "tcp://10.0.0.5:8786": join a running cluster instead
K_A, K_B = 3, 6         # transferability's top-k (None: the paper's 20 / 100 of 511 scaled to n, here 1 / 3)

# %%
import os

if FULL:
    MODEL, CHEAP, N, SEEDS, PRESET = "dcgan-faces", False, 9, "0:64", "nvae"
    K_A, K_B = 20, 100
    SCHEDULER = os.environ.get("PRSG_SCHEDULER", SCHEDULER)   # your cluster; None: every local core/GPU

# %%
import tempfile
import prsg_widgets as pw
from IPython.display import Markdown, display

CACHE = os.environ.get("PRSG_SOLVE_CACHE", os.path.expanduser("~/.cache/prsg_widgets/solves"))
OUT = tempfile.mkdtemp(prefix="prsg_study_")     # study.json, study.md, study.png
client = pw.sweep.make_client(scheduler=SCHEDULER) if SCHEDULER else pw.sweep.make_client(workers=WORKERS)

# %% [markdown]
# ## The sweep
#
# Every image is explained over the first image's foreground patches (transferability compares
# action fields at the same positions).  The bar counts minimal features; the Dask dashboard
# (when ``bokeh`` is installed) shows the tasks on each worker.

# %%
study = pw.sweep(MODEL, seeds=SEEDS, n=N, out=OUT, client=client, cheap=CHEAP, preset=PRESET, cache_dir=CACHE,
                 k_a=K_A, k_b=K_B)
print(study.summary())

# %% [markdown]
# ## Distributions over images
#
# Left: the transferability matrix over all ordered pairs (top-``k_a`` action fields of image a
# found among the top-``k_b`` of image b; the paper's 20 / 100 of 511 scaled to ``2^n − 1`` would
# be 1 / 3 at n = 4, too coarse, so this run uses 3 / 6 as notebook 07 does).  Then the
# distributions of transferability (dashed: chance; dotted: the paper's
# NVAE and SiD at n = 9), of ρ (the share of a regional pattern inside its action field, mean
# over each image's top components) and of cancellation (1 = components never cancel).

# %%
study.figure();

# %% [markdown]
# ``study.md`` puts the paper's numbers beside ours, with the spread of every per-image number.
# At n = 4 there are only 15 components, so chance is high and the ratio moves in large steps:
# compare with the chance column.

# %%
display(Markdown(open(os.path.join(OUT, "study.md")).read()))

# %% [markdown]
# ## Per image, and one image up close
#
# ``study.images`` holds each image's numbers; its explanation is in the cache, so an explainer
# with the same settings loads it without solving.

# %%
for im in study.images:
    h = im["health"]
    print(f"seed {im['seed']}: cancellation {h['cancellation']:.2f}, feasible {h['feasible_share']:.0%}, "
          f"ρ {im['rho']['mean']:.2f} (chance {im['rho']['chance']:.2f}), breach {im['breach']['mean']:.2f}, "
          f"inconsistency {im['inconsistency']['mean']:.3f}")

ex = pw.Explainer(MODEL, cheap=CHEAP, solver=PRESET, cache_dir=CACHE, progress=False)
first = study.images[0]
expl = ex.explain(first["seed"], patches=first["patches"])
print(expl, "— loaded from the cache:", expl.is_complete)
for c in expl.components(top=3):
    print(c)

# %% [markdown]
# ## A rerun solves nothing
#
# The results went through the store, so the same sweep again only plans and measures.

# %%
again = pw.sweep(MODEL, seeds=SEEDS, n=N, client=client, cheap=CHEAP, preset=PRESET, cache_dir=CACHE,
                 k_a=K_A, k_b=K_B, progress=False)
print(f"solved now: {again.run['solved_now']}, found in the cache: {again.run['skipped']}")
assert again.run["solved_now"] == 0

# %%
ex.close()
client.close()
client.cluster.close() if client.cluster is not None else None
