"""``prsg_widgets.paper.PaperSetting``: the notebooks' parameters resolved (the ``FULL``
overrides), checked, and turned into an explainer, explanations and the line they print.

Fast: no built-in model is loaded (the explainer is the tiny generator of ``conftest.py`` or a
stand-in).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import prsg_widgets.backend as backend
from prsg_widgets.paper import DEFAULT_CACHE_DIR, FULL_VALUES, PaperSetting, cache_dir, centre_patches

NOTEBOOK = dict(cheap=True, grid=6, n=4, solver="fast", seeds=[0], region="foreground")  # a parameters cell


# ---------------------------------------------------------------------------------- values
def test_cpu_values_are_kept():
    s = PaperSetting("dcgan-faces", **NOTEBOOK)
    assert (s.model, s.cheap, s.grid, s.n, s.solver, s.seeds, s.region, s.full) == (
        "dcgan-faces", True, 6, 4, "fast", [0], "foreground", False)


@pytest.mark.parametrize("seeds, expected", [([0], [0, 1, 2, 3, 4]), ([0, 1, 2], [0, 1, 2, 3, 4]),
                                             (list(range(7)), list(range(7))), ([3], [0, 1, 2, 3, 4])])
def test_full_is_the_papers_setting(seeds, expected):
    # what every notebook's `if FULL:` cell did: CHEAP, N, SOLVER = False, 9, "nvae";
    # SEEDS = list(range(max(5, len(SEEDS))))
    s = PaperSetting("dcgan-faces", **{**NOTEBOOK, "seeds": seeds}, full=True)
    assert (s.cheap, s.n, s.solver, s.seeds) == (False, 9, "nvae", expected)
    assert (s.model, s.grid, s.region) == ("dcgan-faces", 6, "foreground")
    assert dict(FULL_VALUES) == {"cheap": False, "n": 9, "solver": "nvae", "images": 5}


def test_full_values_change_what_full_sets():
    # notebook 10 (Table 2): the paper's setting at n = 6 on dcgan-faces' 6×6 grid
    table2 = {"model": "dcgan-faces", "grid": 6, "n": 6}
    s = PaperSetting("toy-scenes", **{**NOTEBOOK, "grid": 4}, full=True, full_values=table2)
    assert (s.model, s.cheap, s.grid, s.n, s.solver, s.seeds) == ("dcgan-faces", False, 6, 6, "nvae", [0, 1, 2, 3, 4])
    cpu = PaperSetting("toy-scenes", **{**NOTEBOOK, "grid": 4}, full=False, full_values=table2)
    assert (cpu.model, cpu.grid, cpu.n, cpu.solver) == ("toy-scenes", 4, 4, "fast")
    assert PaperSetting(**NOTEBOOK, full=True, full_values={"images": 2}).seeds == [0, 1]
    # n = 9 does not fit this grid's central block, but only FULL would use it
    assert PaperSetting(**{**NOTEBOOK, "grid": 4, "region": "centre"}).n == 4


@pytest.mark.parametrize("changes, message", [
    ({"model": "dcgan"}, "did you mean dcgan-faces"),
    ({"model": None}, "model"),
    ({"cheap": 1}, "cheap must be True or False"),
    ({"grid": 6.0}, "grid must be an integer"),
    ({"grid": 0}, "grid must be between 1"),
    ({"n": 0}, "at least 1"),
    ({"n": True}, "must be an integer"),
    ({"n": 13}, "the limit is 12"),
    ({"n": 40, "grid": 3}, "limit"),
    ({"n": 10, "grid": 3}, "do not fit a 3×3 grid (9 patches)"),
    ({"full": True, "full_values": {"grid": 2}}, "9 patches do not fit a 2×2 grid"),
    ({"n": 5, "region": "centre", "grid": 4}, "central block of a 4×4 grid (4 patches)"),
    ({"solver": "nva"}, "unknown solver preset 'nva'"),
    ({"solver": None}, "solver must be a preset name"),
    ({"region": "center"}, "did you mean centre"),
    ({"region": ""}, "region name is empty"),
    ({"seeds": []}, "seeds is empty"),
    ({"seeds": "01"}, "seeds must be a list"),
    ({"seeds": 0}, "seeds must be a list"),
    ({"seeds": [0, 1.5]}, "seeds[1] must be an integer"),
    ({"seeds": [2**70]}, "seeds[0] must be between"),
    ({"full": "yes"}, "full must be True or False"),
    ({"full_values": {"k": 30}}, "unknown names ['k']"),
    ({"full_values": [("n", 6)]}, "full_values must be a mapping"),
    ({"full_values": {"n": 20}}, "the limit is 12"),          # checked even when full is False
    ({"full_values": {"images": 0}}, "full_values['images'] must be"),
])
def test_bad_values_are_refused(changes, message):
    values = {"model": "dcgan-faces", **NOTEBOOK, **changes}
    with pytest.raises(ValueError) as err:
        PaperSetting(values.pop("model"), **values)
    assert message in str(err.value)


# ---------------------------------------------------------------------------------- region
def test_centre_patches():
    assert centre_patches(6) == [7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 21, 22, 25, 26, 27, 28]
    assert centre_patches(4) == [5, 6, 9, 10]
    assert centre_patches(2) == []


def test_region_centre_mask_and_explain(tiny_explainer):
    s = PaperSetting(**{**NOTEBOOK, "grid": 4, "n": 3, "region": "centre"})
    mask = s.region_mask(tiny_explainer)     # 8×8 image, 4×4 grid: the central 4×4 pixels
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert torch.equal(mask.bool(), expected)
    for seed in range(4):
        e = s.explain(seed, explainer=tiny_explainer)
        assert len(e.patches) == 3 and set(e.patches) <= {5, 6, 9, 10}
    assert PaperSetting(**NOTEBOOK).region_mask(tiny_explainer) is None


# ---------------------------------------------------------------------------------- explainer
@pytest.fixture
def built(monkeypatch, tiny_explainer):
    """``Explainer`` replaced by a recorder that returns the tiny explainer."""
    calls = []

    def fake(model, **kwargs):
        calls.append((model, kwargs))
        return tiny_explainer

    monkeypatch.setattr(backend, "Explainer", fake)
    return calls


def test_explainer_arguments_cache_and_sharing(built, monkeypatch, tiny_explainer):
    monkeypatch.setenv("PRSG_SOLVE_CACHE", "/tmp/some-cache")
    s = PaperSetting("dcgan-faces", **NOTEBOOK)
    assert s.explainer() is tiny_explainer and s.explainer() is tiny_explainer
    assert built == [("dcgan-faces", dict(grid=6, solver="fast", cheap=True, cache_dir=Path("/tmp/some-cache"),
                                          progress=False))]
    s.explainer(model="toy-scenes", grid=4)
    s.explainer(solver="tiny", iterations=10, cache_dir=None)
    assert built[1] == ("toy-scenes", dict(grid=4, solver="fast", cheap=True, cache_dir=Path("/tmp/some-cache"),
                                           progress=False))
    assert built[2] == ("dcgan-faces", dict(grid=6, solver="tiny", cheap=True, cache_dir=None, progress=False,
                                            iterations=10))
    s.explain(0)                              # the shared explainer: nothing new built
    assert len(built) == 3


def test_cache_dir(monkeypatch):
    monkeypatch.setenv("PRSG_SOLVE_CACHE", "~/elsewhere")
    assert cache_dir() == Path("~/elsewhere").expanduser()
    monkeypatch.setenv("PRSG_SOLVE_CACHE", "")
    assert cache_dir() == Path(DEFAULT_CACHE_DIR).expanduser()
    monkeypatch.delenv("PRSG_SOLVE_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "prsg_widgets" / "solves"
    assert PaperSetting().cache_dir == cache_dir()


def test_describe_is_the_line_the_notebooks_printed(monkeypatch):
    # the line notebook 01 printed before PaperSetting (its committed output)
    stand_in = SimpleNamespace(generator=SimpleNamespace(layer="main.8", d=32768), epsilon=0.001)
    monkeypatch.setattr(backend, "Explainer", lambda model, **kwargs: stand_in)
    s = PaperSetting("dcgan-faces", **NOTEBOOK)
    assert s.describe() == "dcgan-faces split at main.8 (d = 32768), grid 6×6, n = 4, solver 'fast', ε = 0.001"
    full = PaperSetting("dcgan-faces", **NOTEBOOK, full=True)
    assert full.describe().endswith("grid 6×6, n = 9, solver 'nvae', ε = 0.001")
    assert repr(full).startswith("PaperSetting('dcgan-faces', cheap=False, grid=6, n=9, solver='nvae', seeds=[0, 1")
