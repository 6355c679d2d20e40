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
# # 12 · Explain your own generator
#
# The toolkit explains any `torch.nn.Module` that maps a **code** to an **image**: you name the
# layer whose feature `f` is explained, give a way to draw codes, and the rest — baseline, minimal
# features, OR Harsanyi components, regional patterns — is the same as for the built-in models.
# This notebook walks through it with **BigGAN-deep** (the paper's BigGAN-128) from the PyPI
# package `pytorch-pretrained-biggan` (`pip install 'prsg_widgets[biggan]'`).
#
# Its weights are not downloaded here. Point `WEIGHTS` (or `$PRSG_BIGGAN_WEIGHTS`) at a folder
# with the official `config.json` + `pytorch_model.bin` to explain the real model; without one the
# notebook builds the **same architecture with random weights** — every step runs, but the
# images are structured noise, and every output says so. `TINY = True` (the default with random
# weights) shrinks it to a 32×32, 0.1 M-parameter BigGAN-deep with the same block types, so the
# notebook runs in seconds on a CPU. Recipes for StyleGAN2-ADA, NVAE and SiD: `docs/models.md`.

# %% tags=["parameters"]
import os
WEIGHTS = os.environ.get("PRSG_BIGGAN_WEIGHTS") or "random"   # a folder with the official files, or "random"
MODEL = "biggan-deep-128"   # biggan-deep-256 / -512: same architecture, deeper
TINY = WEIGHTS == "random"  # random weights: a 32×32 BigGAN-deep so this runs in seconds on a CPU
LAYER = None                # None: the model's middle layer (generator.layers.4; tiny: generator.layers.2)
CLASS_ID = 207              # ImageNet class of the sampled codes (207: golden retriever); tiny: 0-9
TRUNCATION = 0.4
GRID, N, SOLVER = 4, 3, "tiny"   # the paper: grid 6, n = 9, solver "biggan" (Table 2) on a GPU
SEED = 0

# %% [markdown]
# ## 1 · The generator as a plain module: code → image
#
# Any module works as long as `forward(code)` returns the image. BigGAN takes three inputs
# (`z`, a one-hot class, a truncation float); `load_biggan_module` wraps it so the code is one
# tensor `[z | one-hot | truncation]` — do the same for your own multi-input generator.

# %%
# %matplotlib inline
import time
import torch
import matplotlib.pyplot as plt
import prsg_widgets as pw
from prsg_widgets.models import layer_names, LayerNotFoundError
from prsg_widgets.models.biggan import biggan_config, biggan_sampler, load_biggan_module

torch.set_num_threads(2)
RANDOM = WEIGHTS == "random"
config = biggan_config("tiny") if TINY else None
module = load_biggan_module(MODEL, WEIGHTS, config=config if RANDOM else None)
cfg = module.config
if TINY:
    CLASS_ID = CLASS_ID % cfg.num_classes
LABEL = f"{MODEL}{' (tiny)' if TINY else ''}" + (" — RANDOM WEIGHTS, not a trained model" if RANDOM else "")
print(LABEL)
print(f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f} M parameters, "
      f"code = z ({cfg.z_dim}) + one-hot class ({cfg.num_classes}) + truncation (1)")

# %% [markdown]
# ## 2 · Choose the layer
#
# `layer_names(module)` lists every submodule; a wrong name lists them too. Hooks show each
# candidate's feature shape — the paper explains a middle layer.

# %%
shapes = {}
hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
         for n, m in module.named_modules() if n.count(".") == 2 and n.startswith("generator.layers.")]
sampler = biggan_sampler(cfg.z_dim, cfg.num_classes, TRUNCATION, CLASS_ID)
with torch.no_grad():
    module(sampler(1, torch.Generator().manual_seed(0)))
for h in hooks:
    h.remove()
for n, s in shapes.items():
    print(f"{n:20s} {type(module.get_submodule(n)).__name__:8s} {s}")
try:
    pw.split_generator(module, "generator.layer.4", sample_codes=sampler)
except LayerNotFoundError as err:
    print("\n" + str(err)[:160] + " …")

# %% [markdown]
# ## 3 · Split it
#
# `split_generator(module, layer, sample_codes)` returns the head `z → f` and the tail `f → x`.
# BigGAN is not an `nn.Sequential` (its blocks also take the class vector and the truncation), so
# the tail runs the forward with the layer's output replaced; `tail_path == "replay"` means
# everything computed before the layer is recorded once per code instead of re-run on every
# solver step (`"hook"` re-runs it; both give the same images and gradients).

# %%
LAYER = LAYER or ("generator.layers.2" if TINY else "generator.layers.4")
split = pw.split_generator(module, LAYER, sample_codes=sampler, value_range=(-1.0, 1.0), name=LABEL)
code0 = split.sample_codes(1, torch.Generator().manual_seed(SEED))
with torch.no_grad():
    f = split.head(code0)
    err = (split.tail(f, code0) - split.generate(code0)).abs().max().item()
print(f"split at {split.layer}: feature {split.feature_shape} (d = {split.d}), image {split.image_shape}")
print(f"tail path {split.tail_path!r}; max |tail(head(z)) − G(z)| = {err:.1e}")
feats = f.expand(8, *f.shape[1:])

def best_ms(fn, repeats=3):
    fn()  # warm-up (and the replay's one head pass)
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return 1e3 * min(times)

for path in split.tail_paths:
    with torch.no_grad():
        ms = best_ms(lambda: split.tail(feats, code0, path=path))
    print(f"  tail of 8 features via {path!r}: {ms:.1f} ms")

# %% [markdown]
# ## 4 · Explain one image
#
# `Explainer(split)` computes the baseline `b = E_z[head(z)]`; `explain` picks the patches `N`;
# `solve_all` solves the `2^n` minimal features and the components `I(S)` follow.

# %%
ex = pw.Explainer(split, grid=GRID, solver=SOLVER, baseline_samples=64, progress=False)
sample = ex.sample(SEED)
P = GRID
patches = [r * P + c for r, c in [(1, 1), (1, 2), (2, 1), (2, 2), (0, 1), (1, 0), (2, 3), (3, 2), (0, 0)][:N]]
t = time.perf_counter()
expl = ex.explain(sample, patches=patches).solve_all()
print(f"{2 ** N} minimal features in {time.perf_counter() - t:.1f} s; "
      f"all patches within ε = {ex.epsilon:g}: {bool(expl.feasible.all())} "
      f"({int(expl.feasible.sum())}/{len(expl.feasible)} subsets)")


# %%
def show(img, ax, title):
    ax.imshow(((img.permute(1, 2, 0).clamp(-1, 1) + 1) / 2).cpu().numpy())
    ax.set_title(title, fontsize=8)
    ax.set_xticks([]); ax.set_yticks([])

top = expl.components(top=4)
fig, axes = plt.subplots(1, 1 + len(top), figsize=(2.2 * (1 + len(top)), 2.6))
show(sample.image, axes[0], "image x, patches N")
H, W = split.image_shape[1:]
for p in expl.patches:
    r, c = divmod(p, P)
    axes[0].add_patch(plt.Rectangle((c * W / P - .5, r * H / P - .5), W / P, H / P, fill=False, ec="yellow", lw=1.5))
for ax, comp in zip(axes[1:], top):
    pat = expl.regional_pattern(comp.subset)
    show(pat / (pat.abs().max() + 1e-12), ax, f"Δx for S = {list(comp.patches)}\n‖I(S)‖₂ = {comp.norm:.3g}")
fig.suptitle(LABEL, fontsize=9, color="red" if RANDOM else "black")
plt.tight_layout()

# %% [markdown]
# ## 5 · Check the explanation
#
# Completeness (Eq. 7 with `T = N`) holds to float precision: the components add up to
# `f_N − b`. With random weights the patterns have no meaning — this checks the plumbing.

# %%
comps = expl.component_array()
gap = (ex.baseline.cpu() + comps.sum(0) - expl.minimal_feature(2 ** N - 1)).abs().max().item()
print(f"max |b + Σ_S I(S) − f_N| = {gap:.1e}")
for c in expl.components(top=2 ** N - 1):
    print(f"  S = {str(list(c.patches)):14s} order {c.order}  ‖I(S)‖₂ = {c.norm:.4f}")
ex.close()

# %% [markdown]
# ## With the real weights
#
# ```python
# split = pw.load_generator("biggan-deep-128", weights="/path/to/biggan-deep-128")  # generator.layers.4
# ex = pw.Explainer(split, grid=6, solver="biggan")   # Table 2: lr 1e-4, 1000 iterations, λ = 500
# expl = ex.explain(ex.sample(0), patches="foreground", n=9).solve_all()
# ```
#
# `split = pw.load_generator(..., cheap=True)` splits at `generator.layers.6` (a shorter tail).
# Set `WEIGHTS` above and `TINY = False` to run this notebook on the real model; timings on a GPU
# and recipes for StyleGAN2-ADA, NVAE and SiD are in `docs/models.md`.
