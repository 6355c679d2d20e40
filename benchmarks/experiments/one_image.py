"""python img.py SEED key=value...: fast with overrides at n=9 on one image (the table's patches)."""
import sys, time, json, torch
from prsg_widgets import Explainer
from prsg_widgets.core.solver import get_solver_config
torch.set_num_threads(2)
seed = int(sys.argv[1]); over = {}
for kv in sys.argv[2:]:
    k, v = kv.split("="); over[k] = json.loads(v)
if "betas" in over: over["betas"] = tuple(over["betas"])
ex = Explainer("dcgan-faces", grid=6, cheap=True, solver=get_solver_config(over.pop("preset", "fast"), **over), progress=False)
patches = ex.explain(0, patches="foreground", n=9, seed=0).patches
e = ex.explain(seed, patches=patches)
t = time.perf_counter(); e.solve_all(); w = time.perf_counter() - t
h = e.health(k=30)
u = e.minimal_features() - e.baseline.reshape(1, -1)
delta = (e.sample.feature.reshape(-1) - e.baseline.reshape(-1)).abs().mean()
print(f"seed {seed} {over}: its {int(e.iterations.sum())} wall {w:.0f}s L1 {float(u[1:].abs().mean(1).mean() / delta):.4f} canc {h.cancellation:.3f} match {h.matching_error:.4f} infeas {h.infeasible}", flush=True)
