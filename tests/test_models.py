"""Integration tests on the built-in pretrained models (weights from PyPI packages)."""
import subprocess
import sys

import pytest
import torch

from prsg_widgets import Explainer, load_generator
from prsg_widgets.models import MODELS, WeightsPackageMissing, weights_file

from test_cli import check_npz

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
            "load_generator('dcgan-faces'); print('omniart_eye_generator' in sys.modules, 'gan_face_generate' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_dcgan_faces_main_job(tmp_path):
    """The issue's acceptance run: n = 4 on the face model, fast preset."""
    from prsg_widgets.cli import main

    assert main(["explain", "--model", "dcgan-faces", "--seed", "0", "--n", "4", "--out", str(tmp_path)]) == 0
    z = check_npz(tmp_path / "explanation.npz")
    assert z["feasible"].mean() >= 0.9


def test_eyes_128_explains(tmp_path):
    from prsg_widgets.cli import main

    assert main(["explain", "--model", "eyes-128", "--cheap", "--seed", "1", "--n", "3", "--preset", "tiny",
                 "--out", str(tmp_path)]) == 0
    z = check_npz(tmp_path / "explanation.npz")
    assert z["feasible"].mean() >= 0.9
