"""Integration tests on the built-in pretrained models (weights from PyPI packages)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from npz_check import check_npz

from prsg_widgets import Explainer, load_generator
from prsg_widgets.models import MODELS, WeightsPackageMissing, weights_file

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["dcgan-faces", "eyes-128"])
@pytest.mark.parametrize("cheap", [False, True])
def test_head_then_tail_equals_full_forward(name, cheap):
    g = load_generator(name, cheap=cheap)
    assert g.layer == (MODELS[name].cheap_layer if cheap else MODELS[name].default_layer)
    code = g.sample_codes(3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = g.generate(code)
        torch.testing.assert_close(g.tail(g.head(code)), full, rtol=1e-4, atol=1e-5)
    assert full.shape[1:] == ((3, 64, 64) if name == "dcgan-faces" else (3, 128, 128))
    assert full.min() >= -1 and full.max() <= 1


def test_eye_codes_carry_the_class():
    g = load_generator("eyes-128", eye_class="blue")
    code = g.sample_codes(4, torch.Generator().manual_seed(0))
    assert code.shape == (4, 108) and torch.all(code[:, 100:].argmax(1) == 1)
    with pytest.raises(ValueError, match="classes: amber"):
        load_generator("eyes-128", eye_class="purple")


def test_missing_weights_package_prints_the_pip_command():
    with pytest.raises(WeightsPackageMissing, match="pip install --no-deps not-a-weights-pkg"):
        weights_file("not_a_weights_pkg", "w.pt")


def test_weight_packages_are_not_imported():
    code = ("import sys, prsg_widgets; from prsg_widgets import load_generator; load_generator('eyes-128');"
            "load_generator('dcgan-faces');"
            "print('omniart_eye_generator' in sys.modules, 'gan_face_generate' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_dcgan_faces_main_job(tmp_path):
    """The README's main job: n = 4 on the face model's default layer, interactive (nested) preset."""
    from prsg_widgets.cli import main

    assert main(["explain", "--model", "dcgan-faces", "--seed", "0", "--n", "4", "--preset", "interactive",
                 "--out", str(tmp_path)]) == 0
    z = check_npz(tmp_path / "explanation.npz")
    assert z["feasible"].all()
    assert z["health_cancellation"] < 2.0


def _independent_health(z, tail):
    """Health recomputed from the npz and the generator alone, without the package's metric code."""
    F, C, b = z["minimal_features"].astype(np.float64), z["components"].astype(np.float64), z["baseline"]
    x, patches, eps = torch.from_numpy(z["image"]), z["patches"].tolist(), float(z["epsilon"])
    n = len(patches)
    with torch.no_grad():
        imgs = tail(torch.from_numpy(z["minimal_features"]))
    worst = 0.0
    for t in range(1, 2 ** n):
        for i, p in enumerate(patches):
            if (t >> i) & 1:
                r, c = divmod(p, 6)
                sl = (slice(None), slice(round(r * 64 / 6), round((r + 1) * 64 / 6)),
                      slice(round(c * 64 / 6), round((c + 1) * 64 / 6)))
                worst = max(worst, float(((imgs[t][sl] - x[sl]) ** 2).mean()))
    u = F - b
    cancellation = np.abs(C[1:]).sum() / np.abs(u[-1]).sum()
    top = [s for s in np.argsort(-np.linalg.norm(C, axis=1), kind="stable") if s != 0][:16]
    u_hat = np.stack([sum((C[s] for s in top if s & t), np.zeros_like(b)) for t in range(2 ** n)])
    return worst, eps, cancellation, ((u - u_hat) ** 2).sum() / (u ** 2).sum()


def test_faithful_components_on_the_face_model(tmp_path):
    """Issue 7's acceptance run: cheap layer, seed 1, n = 6, the independent `fast` solve."""
    from prsg_widgets.cli import main

    assert main(["explain", "--model", "dcgan-faces", "--cheap", "--seed", "1", "--n", "6",
                 "--out", str(tmp_path)]) == 0
    z = np.load(tmp_path / "explanation.npz")
    worst, eps, cancellation, matching = _independent_health(z, load_generator("dcgan-faces", cheap=True).tail)
    assert worst <= eps * (1 + 1e-4)
    assert cancellation <= 2.0
    assert matching <= 0.05
    health = json.loads((tmp_path / "health.json").read_text())
    assert health["feasible_share"] == 1.0 and abs(health["cancellation"] - cancellation) < 1e-3


def test_foreground_patches_lie_on_the_face():
    ex = Explainer("dcgan-faces", cheap=True, progress=False, baseline_samples=50)
    prior = ex.generator.extras["foreground"](None, ex.sample(0).image)
    for seed in range(3):
        ids = ex.explain(seed, n=6, seed=seed).patches
        assert all(ex.grid.patch_scores(prior)[p] >= 0.5 for p in ids), ids


def test_eyes_128_explains(tmp_path):
    from prsg_widgets.cli import main

    assert main(["explain", "--model", "eyes-128", "--cheap", "--seed", "1", "--n", "3", "--preset", "tiny",
                 "--out", str(tmp_path)]) == 0
    z = check_npz(tmp_path / "explanation.npz")
    assert z["feasible"].mean() >= 0.9
