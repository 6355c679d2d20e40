"""Experiment: python run.py MODEL N SEEDS VARIANT [key=value ...]"""
import sys, time, json, torch
from dataclasses import replace
from prsg_widgets import Explainer
from prsg_widgets.core.solver import PRESETS, get_solver_config
torch.set_num_threads(2)
model, n, seeds, base = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4]
over = {}
for kv in sys.argv[5:]:
    k, v = kv.split("=")
    try: v = json.loads(v)
    except Exception: pass
    over[k] = v
cfg = get_solver_config(base, **over)
PL = {6: [3, 10, 19, 28, 0, 12], 9: [3, 10, 19, 26, 28, 33, 0, 12, 35]}
kw = dict(grid=6) if model == "toy-planted" else {}
if model == "dcgan-faces-cheap":
    from prsg_widgets.models import load
kw2 = {}
name = model
ex = Explainer("dcgan-faces", grid=6, cheap=True, solver=cfg, progress=False) if model == "faces" else Explainer(model, solver=cfg, progress=False, **kw)
patches = None
res = []
for seed in seeds:
    if model == "toy-planted":
        e = ex.explain(seed, patches=PL[n])
    else:
        e = ex.explain(seed, patches="foreground", n=n, seed=seed) if patches is None else ex.explain(seed, patches=patches)
        patches = e.patches
    t = time.perf_counter(); e.solve_all(); w = time.perf_counter() - t
    h = e.health()
    u = e.minimal_features()[1:] - e.baseline.reshape(1, -1)
    delta = e.sample.feature.reshape(-1) - e.baseline.reshape(-1)
    l1 = float(u.abs().mean(1).mean() / delta.abs().mean())
    extra = ""
    if model == "toy-planted":
        from prsg_widgets.models.planted import planted_answer
        truth = planted_answer(e); comps = e.component_array()
        errs = [float((comps[s] - uu).norm() / uu.norm()) for s, uu in truth.items()]
        extra = f" maxerr {max(errs):.4f}"
    its = int(e.iterations.sum())
    print(f"{base} {over} seed {seed}: its {its} wall {w:.0f}s L1 {l1:.4f} canc {h.cancellation:.3f} match {h.matching_error:.4f} infeas {h.infeasible}{extra}", flush=True)
    res.append((its, h.cancellation, l1))
import statistics as st
print(f"MEAN its {st.mean(r[0] for r in res):.0f} canc {st.mean(r[1] for r in res):.3f} max canc {max(r[1] for r in res):.3f} L1 {st.mean(r[2] for r in res):.4f}")
