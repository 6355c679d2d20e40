"""python warm.py MODEL N SEEDS key=value... : interactive, then independent refinement from it."""
import sys, time, json, torch
from prsg_widgets import Explainer
from prsg_widgets.core.solver import get_solver_config, solve_minimal_features
from prsg_widgets.core import harsanyi
from prsg_widgets.core.health import explanation_health
torch.set_num_threads(2)
model, n, seeds = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
over = {}
for kv in sys.argv[4:]:
    k, v = kv.split("="); 
    try: v = json.loads(v)
    except Exception: pass
    over[k] = v
base = over.pop("base", "interactive")
ref = get_solver_config("fast", **over)
PL = {6: [3, 10, 19, 28, 0, 12], 9: [3, 10, 19, 26, 28, 33, 0, 12, 35]}
if model == "faces":
    ex = Explainer("dcgan-faces", grid=6, cheap=True, solver=base, progress=False)
else:
    ex = Explainer(model, grid=6, solver=base, progress=False)
patches = None
for seed in seeds:
    if model == "toy-planted":
        e = ex.explain(seed, patches=PL[n])
    else:
        e = ex.explain(seed, patches="foreground", n=n, seed=seed) if patches is None else ex.explain(seed, patches=patches)
        patches = e.patches
    t = time.perf_counter(); e.solve_all(); w1 = time.perf_counter() - t
    h1 = e.health(); its1 = int(e.iterations.sum())
    F = e.minimal_features()
    subsets = list(range(1, 1 << n))
    masks = e.patch_masks if hasattr(e, "patch_masks") else None
    import inspect
    t = time.perf_counter()
    res = solve_minimal_features(lambda f: ex.generator.tail(f), e.sample.feature, ex.baseline, e.sample.image,
        ex.grid.patch_masks(e.patches), subsets, ref, epsilon=ex.epsilon,
        feature_shape=ex.generator.feature_shape, progress=False, start={s: F[s] for s in subsets})
    w2 = time.perf_counter() - t
    F2 = F.clone(); F2[1:] = res.features
    u = F2 - ex.baseline.reshape(1, -1)
    comps = harsanyi.or_transform(u) if hasattr(harsanyi, "or_transform") else None
    print("phase1", its1, f"{w1:.0f}s canc {h1.cancellation:.3f}", "| phase2", int(res.iterations.sum()), f"{w2:.0f}s feas {int(res.feasible.sum())}/{len(subsets)}", flush=True)
    e2 = e.with_minimal_features(F2) if hasattr(e, "with_minimal_features") else None
    h2 = e2.health()
    delta = e.sample.feature.reshape(-1) - ex.baseline.reshape(-1)
    l1a = float((F[1:]-ex.baseline.reshape(1,-1)).abs().mean(1).mean() / delta.abs().mean())
    l1b = float(u[1:].abs().mean(1).mean() / delta.abs().mean())
    extra = ""
    if model == "toy-planted":
        from prsg_widgets.models.planted import planted_answer
        truth = planted_answer(e2); comps = e2.component_array()
        errs = [float((comps[s] - uu).norm() / uu.norm()) for s, uu in truth.items()]
        extra = f" maxerr {max(errs):.4f}"
    print(f"seed {seed}: total its {its1 + int(res.iterations.sum())} L1 {l1a:.4f}->{l1b:.4f} canc {h1.cancellation:.3f}->{h2.cancellation:.3f} match {h2.matching_error:.4f}{extra}", flush=True)
