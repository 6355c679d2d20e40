"""The built-in "toy-scenes" model: renderer, trained generator, split and weight cache."""
from __future__ import annotations

import warnings

import pytest
import torch

from prsg_widgets.models import toy_scenes as ts
from prsg_widgets.models.split import SplitGenerator


def _codes(n: int, seed: int = 12345) -> torch.Tensor:
    return ts.sample_codes(n, torch.Generator().manual_seed(seed))


@pytest.fixture(scope="session")
def toy() -> SplitGenerator:
    """The cached toy-scenes generator (trains once, ~30-40 s, when the user cache is empty)."""
    return ts.load_toy_scenes()


# ------------------------------------------------------------------------------ renderer
def test_render_shapes_range_and_masks():
    code = _codes(64)
    images, masks = ts.render_scenes(code)
    assert images.shape == (64, 3, ts.IMAGE_SIZE, ts.IMAGE_SIZE)
    assert masks.shape == (64, ts.NUM_OBJECTS, ts.IMAGE_SIZE, ts.IMAGE_SIZE)
    assert masks.dtype == torch.bool
    assert images.min() >= -1 and images.max() <= 1
    # visible masks are disjoint (each pixel belongs to at most one object) and non-empty
    assert masks.sum(1).max() <= 1
    assert (masks.sum((2, 3)) > 0).all()
    # the frontmost object (triangle) is never occluded: about 10*9/2 pixels
    tri = masks[:, 2].sum((1, 2)).float()
    assert (tri > 30).all() and (tri < 60).all()


def test_render_colours_match_masks():
    code = _codes(16)
    images, masks = ts.render_scenes(code)
    for k in range(ts.NUM_OBJECTS):
        colour = torch.tensor(ts._COLOURS[k]).view(3, 1)
        pix = images.permute(1, 0, 2, 3)[:, masks[:, k]]  # (3, n visible pixels)
        # most visible pixels carry the object's colour (edges are anti-aliased)
        close = ((pix - colour).abs().max(0).values < 0.05).float().mean()
        assert close > 0.5
    background = ~masks.any(1)
    bg = images.permute(1, 0, 2, 3)[:, background]
    assert ((bg - ts._BACKGROUND[0]).abs().max(0).values < 0.05).float().mean() > 0.9


def test_render_deterministic_and_positions_follow_code():
    code = _codes(8)
    a, ma = ts.render_scenes(code)
    b, mb = ts.render_scenes(code.clone())
    assert torch.equal(a, b) and torch.equal(ma, mb)
    # centre of mass of the triangle's mask moves with code dims 4 (row) and 5 (col)
    code2 = code.clone()
    code2[:, 4] = -2.0
    code2[:, 5] = 2.0
    _, m2 = ts.render_scenes(code2)
    rows = torch.arange(ts.IMAGE_SIZE, dtype=torch.float32)
    tri = m2[:, 2].float()
    row_c = (tri.sum(2) * rows).sum(1) / tri.sum((1, 2))
    col_c = (tri.sum(1) * rows).sum(1) / tri.sum((1, 2))
    assert (row_c < 10).all() and (col_c > 22).all()


def test_render_rejects_wrong_code_shape():
    with pytest.raises(ValueError):
        ts.render_scenes(torch.zeros(2, 5))


def test_generator_architecture_layers():
    g = ts.ToyGenerator()
    names = dict(g.named_modules())
    assert isinstance(names[ts.DEFAULT_LAYER], torch.nn.ReLU)
    assert isinstance(names[ts.CHEAP_LAYER], torch.nn.ReLU)
    assert g(torch.zeros(2, ts.CODE_DIM)).shape == (2, 3, ts.IMAGE_SIZE, ts.IMAGE_SIZE)


# ------------------------------------------------------------------------------ trained model
def test_trained_generator_reproduces_scenes(toy):
    code = _codes(256, seed=999)  # held out: training uses other seeds
    with torch.no_grad():
        images = toy.generate(code)
    target, _ = ts.render_scenes(code)
    mse = ((images - target) ** 2).mean().item()
    assert mse < 0.01, mse


def test_split_shapes_and_metadata(toy):
    assert toy.name == "toy-scenes"
    assert toy.layer == ts.DEFAULT_LAYER
    assert toy.feature_shape == (64, 8, 8)
    assert toy.image_shape == (3, 32, 32)
    assert toy.value_range == (-1.0, 1.0)
    assert toy._fast_tail is not None  # the whole generator is one nn.Sequential
    code = toy.sample_codes(3, torch.Generator().manual_seed(1))
    assert code.shape == (3, ts.CODE_DIM)


def test_tail_of_head_is_full_forward(toy):
    code = _codes(5)
    with torch.no_grad():
        assert torch.allclose(toy.tail(toy.head(code)), toy.generate(code), atol=1e-6)
        # also through the flattened feature
        flat = toy.head(code).reshape(5, -1)
        assert torch.allclose(toy.tail(flat), toy.generate(code), atol=1e-6)


def test_cheap_layer_split(toy):
    cheap = ts.load_toy_scenes(layer=ts.CHEAP_LAYER)
    assert cheap.feature_shape == (32, 16, 16)
    code = _codes(4)
    with torch.no_grad():
        assert torch.allclose(cheap.tail(cheap.head(code)), toy.generate(code), atol=1e-6)


def test_object_masks_match_renderer(toy):
    code = _codes(6)
    masks = toy.object_masks(code)
    assert masks is not None
    assert masks.dtype == torch.bool and masks.shape == (6, 3, 32, 32)
    assert torch.equal(masks, ts.render_scenes(code)[1])


# ------------------------------------------------------------------------------ cache
@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PRSG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ts, "TRAIN_STEPS", 3)  # tiny training: only the plumbing is tested
    return tmp_path


def test_cache_round_trip(tmp_cache, monkeypatch):
    path = ts.cache_path()
    assert path.parent == tmp_cache and ts.CACHE_VERSION in path.name
    first = ts.load_toy_scenes()
    assert path.is_file()
    assert not list(tmp_cache.glob("*.tmp"))  # the atomic write left no temporary file

    def no_training(*a, **k):
        raise AssertionError("should have loaded the cache")

    monkeypatch.setattr(ts, "train_toy_generator", no_training)
    second = ts.load_toy_scenes()
    for (k1, v1), (k2, v2) in zip(first.module.state_dict().items(), second.module.state_dict().items(),
                                    strict=True):
        assert k1 == k2 and torch.equal(v1, v2)
    code = _codes(2)
    with torch.no_grad():
        assert torch.equal(first.generate(code), second.generate(code))


def test_retrain_flag_overwrites_cache(tmp_cache, monkeypatch):
    ts.load_toy_scenes()
    calls = []
    real = ts.train_toy_generator

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(ts, "train_toy_generator", counting)
    ts.load_toy_scenes(retrain=True)
    assert calls == [1]


def test_corrupt_cache_is_retrained_with_warning(tmp_cache):
    path = ts.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a torch checkpoint")
    with pytest.warns(RuntimeWarning, match="retrain"):
        split = ts.load_toy_scenes()
    assert isinstance(split, SplitGenerator)
    # the file was overwritten with good weights: loading again is silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ts.load_toy_scenes()


def test_cache_with_wrong_weights_is_retrained(tmp_cache):
    path = ts.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"main.0.weight": torch.zeros(3, 3)}, path)
    with pytest.warns(RuntimeWarning, match="retrain"):
        ts.load_toy_scenes()


def test_foreground_patches_lie_on_the_true_objects(toy):
    from prsg_widgets import Explainer

    ex = Explainer(toy, grid=6, progress=False, baseline_samples=64)
    for seed in range(4):
        s = ex.sample(seed)
        union = s.object_masks.reshape(-1, 32, 32).any(0).float()
        cover = ex.grid.patch_scores(union)
        ids = ex.explain(s, n=4).patches
        on_object = int((cover >= 0.5).sum())
        assert sum(float(cover[p]) >= 0.5 for p in ids) == min(4, on_object), (seed, ids, cover[ids])
        assert all(cover[p] > 0.25 for p in ids), (seed, ids, cover[ids])  # the rest: most covered


def test_cached_weights_follow_the_umask_and_training_says_so(tmp_cache, capsys):
    import os
    import stat

    old = os.umask(0o022)
    try:
        ts.load_toy_scenes()
    finally:
        os.umask(old)
    # readable by the other users of a shared cache folder (mkstemp's 0600 made them retrain)
    assert stat.S_IMODE(ts.cache_path().stat().st_mode) == 0o644
    err = capsys.readouterr().err
    assert "toy-scenes: training its generator once" in err and str(ts.cache_path()) in err


def test_a_file_as_prsg_cache_dir_is_one_clear_error(tmp_path, monkeypatch):
    from prsg_widgets import SettingsError

    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("PRSG_CACHE_DIR", str(tmp_path / "f"))
    with pytest.raises(SettingsError, match="PRSG_CACHE_DIR=.* is a file, not a folder"):
        ts.cache_path()
