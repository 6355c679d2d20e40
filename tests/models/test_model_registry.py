"""register_model() and the ``prsg_widgets.models`` entry-point group: a model added once works
wherever a name is taken (load_generator, Explainer/Settings, explore, the command line, sweep —
the sweep half is in tests/sweep/test_sweep_registries.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_model import load_tiny, make_tiny_module

import prsg_widgets as pw
from prsg_widgets.cli import main
from prsg_widgets.models import (
    MODELS,
    ModelExistsError,
    ModelInfo,
    UnknownModelError,
    load_generator,
    model_info,
    register_model,
    unregister_model,
)


@pytest.fixture
def models(monkeypatch):
    """MODELS as it was before the test, restored after it (registrations and discoveries)."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    monkeypatch.setattr(MODELS, "_local", set(MODELS._local))
    monkeypatch.setattr(MODELS, "_discovered", MODELS._discovered)
    return MODELS


def test_a_registered_model_loads_by_name(models):
    info = register_model("tiny", load_tiny, "2", cheap_layer="4", description="8×8 test generator")
    assert model_info("tiny") is info and "tiny" in models and "tiny" in list(models)
    g = load_generator("tiny")
    assert g.layer == "2" and load_generator("tiny", cheap=True).layer == "4"
    assert load_generator("tiny", layer="1").layer == "1"
    code = g.sample_codes(2, torch.Generator().manual_seed(0))
    with torch.no_grad():  # the registered loader's generator is the module it wraps
        torch.testing.assert_close(g.generate(code), make_tiny_module()(code))
    with pytest.raises(KeyError, match="valid layer names: 0, 1, 2"):
        load_generator("tiny", layer="no-such-layer")


def test_a_registered_model_works_in_explainer_and_explore(models):
    register_model("tiny", load_tiny, "2")
    with pw.Explainer("tiny", grid=4, solver="tiny", progress=False, baseline_samples=16) as ex:
        assert ex.generator.name == "tiny" and ex.settings.model == "tiny"
        expl = ex.explain(0, n=2).solve_all()
        assert expl.is_complete and expl.n == 2
    dash = pw.explore("tiny", grid=4, n=2, solve=False, baseline_samples=16)
    assert dash is not None


def test_the_command_line_takes_a_registered_model(models, tmp_path, capsys):
    register_model("tiny", load_tiny, "2")
    assert main(["explain", "--model", "tiny", "--grid", "4", "--n", "2", "--preset", "tiny",
                 "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "explanation.npz").stat().st_size > 0
    assert main(["explain", "--model", "tiny-typo", "--out", str(tmp_path / "bad")]) != 0
    assert "registered models: tiny" in capsys.readouterr().err


def test_registering_a_taken_name_is_an_error_unless_replace(models):
    first = register_model("tiny", load_tiny, "2")
    with pytest.raises(ModelExistsError, match="'tiny' is registered already; pass replace=True"):
        register_model("tiny", load_tiny, "4")
    assert model_info("tiny") is first                                 # the refused call changed nothing
    second = register_model("tiny", load_tiny, "4", replace=True)
    assert model_info("tiny") is second and load_generator("tiny").layer == "4"
    for name in ("toy-scenes", "dcgan-faces"):                         # built-in names name saved results
        with pytest.raises(ModelExistsError, match="built-in model and cannot be replaced"):
            register_model(name, load_tiny, "2", replace=True)
    with pytest.raises(ModelExistsError, match="cannot be removed"):
        unregister_model("toy-scenes")
    assert unregister_model("tiny") is second and "tiny" not in models
    with pytest.raises(UnknownModelError, match="unknown model 'tiny'"):
        load_generator("tiny")


def test_unknown_names_list_built_in_and_registered_models(models):
    register_model("tiny", load_tiny, "2")
    with pytest.raises(UnknownModelError) as err:
        load_generator("tinny")
    text = str(err.value)
    assert "did you mean tiny?" in text and "built-in models: dcgan-faces" in text
    assert text.rstrip().endswith("registered models: tiny (register_model() adds one)")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    with pytest.raises(UnknownModelError, match="registered models: tiny"):
        pw.Explainer("tinny")


@pytest.mark.parametrize("args, message", [
    (("", load_tiny, "2"), "model name ''"),
    (("my gan", load_tiny, "2"), "model name 'my gan'"),
    ((3, load_tiny, "2"), "model name 3"),
    (("tiny", "not callable", "2"), "loader must be callable"),
    (("tiny", load_tiny, ""), "default_layer of model 'tiny' name is empty"),
    (("tiny", load_tiny, None), "default_layer of model 'tiny' must be a name"),
])
def test_bad_registrations_name_the_field(models, args, message):
    with pytest.raises(ValueError, match=message):
        register_model(*args)
    assert "tiny" not in models


def test_models_is_read_only(models):
    with pytest.raises(TypeError):
        models["tiny"] = ModelInfo("tiny", load_tiny, "2", "2", "")  # type: ignore[index]


def _install_entry_points(root, lines: str) -> None:
    """A distribution on ``root`` that declares ``lines`` in the ``prsg_widgets.models`` group."""
    dist = root / "tiny_models-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-models\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[prsg_widgets.models]\n" + lines)
    (root / "tiny_models.py").write_text(
        "from prsg_widgets.models import ModelInfo\nfrom tiny_model import load_tiny\n"
        "TINY = ModelInfo('tiny-ep', load_tiny, '2', '4', 'a model another package declares')\n"
        "def make():\n    return ModelInfo('tiny-made', load_tiny, '2', '2', '')\n"
        "CLASH = ModelInfo('toy-scenes', load_tiny, '2', '2', '')\n")


def test_entry_points_declare_models_for_every_process(models, tmp_path, monkeypatch):
    _install_entry_points(tmp_path, "tiny-ep = tiny_models:TINY\ntiny-made = tiny_models:make\n"
                                    "clash = tiny_models:CLASH\nbroken = tiny_models:MISSING\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("tiny_models", None)
    with pytest.warns(UserWarning) as caught:
        models.discover()
    skipped = sorted(str(w.message).split("'")[1] for w in caught)
    assert skipped == ["broken", "clash"]                     # both named, neither stops the others
    assert model_info("toy-scenes").loader is not load_tiny   # a package cannot take a built-in name
    assert load_generator("tiny-ep", cheap=True).layer == "4" and load_generator("tiny-made").layer == "2"
    # a model registered in this process wins over an entry point of the same name
    mine = register_model("tiny-ep", load_tiny, "1", replace=True)
    with pytest.warns(UserWarning):
        models.discover()
    assert model_info("tiny-ep") is mine


def test_the_command_line_finds_entry_point_models(tmp_path):
    """A fresh process (what `prsg` is) sees an installed package's models without any import."""
    _install_entry_points(tmp_path, "tiny-ep = tiny_models:TINY\n")
    tests = str(Path(__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), tests, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "prsg_widgets.cli", "explain", "--model", "tiny-ep", "--grid", "4",
                          "--n", "2", "--preset", "tiny", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "o" / "explanation.npz").stat().st_size > 0
