"""BigGAN-deep through pytorch-pretrained-biggan: offline, random weights (issue 11)."""

import pytest
import torch

pytest.importorskip("pytorch_pretrained_biggan", reason="the [biggan] extra is not installed")

from prsg_widgets import Explainer, load_generator  # noqa: E402
from prsg_widgets.models import MODELS  # noqa: E402
from prsg_widgets.models.biggan import (  # noqa: E402
    BigGANWeightsMissing,
    biggan_config,
    biggan_sampler,
    build_biggan,
    load_biggan,
    load_biggan_module,
)

TINY_LAYER = "generator.layers.2"  # 32×16×16 in the tiny config


@pytest.fixture(scope="module")
def tiny():
    return load_biggan("biggan-deep-128", layer=TINY_LAYER, weights="random", config=biggan_config("tiny"))


def test_real_128_architecture_splits_exactly():
    g = load_generator("biggan-deep-128", weights="random")
    assert g.name == "biggan-deep-128 (random weights)" and g.extras["random_weights"]
    assert g.layer == MODELS["biggan-deep-128"].default_layer == "generator.layers.4"
    assert g.feature_shape == (1024, 16, 16) and g.image_shape == (3, 128, 128)
    assert 50e6 < sum(p.numel() for p in g.module.parameters()) < 51e6  # BigGAN-deep-128: 50.4 M
    assert g.tail_path == "replay"
    code = g.sample_codes(2, torch.Generator().manual_seed(3))
    assert code.shape == (2, 128 + 1000 + 1)
    with torch.no_grad():
        full = g.generate(code)
        assert torch.isfinite(full).all() and full.abs().max() <= 1
        f = g.head(code)
        torch.testing.assert_close(g.tail(f, code), full, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(g.tail(f, code, path="hook"), full, rtol=1e-4, atol=1e-5)


def test_tiny_head_then_tail_equals_forward_and_codes_carry_class_and_truncation(tiny):
    assert tiny.feature_shape == (32, 16, 16) and tiny.image_shape == (3, 32, 32)
    code = tiny.sample_codes(3, torch.Generator().manual_seed(0))
    assert code.shape == (3, 16 + 10 + 1)
    assert torch.all(code[:, -1] == 0.4) and code[:, :16].abs().max() <= 0.8 + 1e-6  # 0.4 · [-2, 2]
    assert torch.all(code[:, 16:26].sum(1) == 1)
    with torch.no_grad():
        full = tiny.generate(code)
        for path in ("replay", "hook"):
            out = torch.cat([tiny.tail(tiny.head(code[i:i + 1]), code[i:i + 1], path=path) for i in range(3)])
            torch.testing.assert_close(out, full, rtol=1e-4, atol=1e-5)


def test_fixed_class_and_mixed_truncations():
    s = biggan_sampler(16, 10, truncation=0.7, class_id=[2, 5])
    code = s(8, torch.Generator().manual_seed(1))
    assert set(code[:, 16:26].argmax(1).tolist()) <= {2, 5} and torch.allclose(code[:, -1], torch.tensor(0.7))
    with pytest.raises(ValueError, match="class_id must be in 0..9"):
        biggan_sampler(16, 10, class_id=10)
    with pytest.raises(ValueError, match="truncation"):
        biggan_sampler(16, 10, truncation=1.5)
    model = load_biggan_module("biggan-deep-128", "random", config=biggan_config("tiny"))
    code[::2, -1] = 0.3  # two truncations in one batch: one forward each, rows kept in place
    with torch.no_grad():
        batched = model(code)
        single = torch.cat([model(code[i:i + 1]) for i in range(8)])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"a BigGAN code is \(B, 27\)"):
        model(code[:, :-1])


def test_replay_and_hook_give_the_same_features_and_gradients(tiny):
    code = tiny.sample_codes(1, torch.Generator().manual_seed(4))
    with torch.no_grad():
        f = tiny.head(code).reshape(1, -1)
    b = tiny.baseline(16)
    target = torch.randn(3, *tiny.image_shape, generator=torch.Generator().manual_seed(0))
    grads, outs = {}, {}
    for path in ("hook", "replay"):
        m = torch.rand(3, tiny.d, generator=torch.Generator().manual_seed(5)).requires_grad_(True)
        x = tiny.tail(b + m * (f - b), code, path=path)  # the solver's f_T = b + m ⊙ (f − b)
        (grads[path],) = torch.autograd.grad((x - target).square().sum(), m)
        outs[path] = x.detach()
    torch.testing.assert_close(outs["replay"], outs["hook"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads["replay"], grads["hook"], rtol=1e-5, atol=1e-7)
    assert grads["hook"].abs().sum() > 0
    with pytest.raises(ValueError, match="not available"):
        tiny.tail(f, code, path="sequential")


def test_explainer_solves_n2_on_tiny_biggan(tiny):
    ex = Explainer(tiny, grid=4, solver="fast", iterations=200, progress=False, baseline_samples=16)
    try:
        expl = ex.explain(0, patches=[5, 10])
        expl.solve_all()
        assert expl.feasible.all(), expl.mse
        comps = expl.component_array()
        assert comps.shape == (4, tiny.d)
        # completeness (Eq. 7 with T = N): f_N = b + Σ_S I(S)
        torch.testing.assert_close(ex.baseline.cpu() + comps.sum(0), expl.minimal_feature(3), rtol=1e-4, atol=1e-5)
    finally:
        ex.close()


def test_local_weights_folder_round_trip(tmp_path, monkeypatch):
    config = biggan_config("tiny")
    model = load_biggan_module("biggan-deep-128", "random", config=config, seed=7)
    (tmp_path / "config.json").write_text(config.to_json_string())
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    code = biggan_sampler(16, 10)(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = model(code)
        g = load_biggan("biggan-deep-128", layer=TINY_LAYER, weights=tmp_path)  # seed 0: only the file counts
        assert g.name == "biggan-deep-128" and not g.extras["random_weights"]
        torch.testing.assert_close(g.generate(code), want)
        # the bucket's file names in a sub-folder, found through the environment variable
        sub = tmp_path / "store" / "biggan-deep-128"
        sub.mkdir(parents=True)
        (tmp_path / "config.json").rename(sub / "biggan-deep-128-config.json")
        (tmp_path / "pytorch_model.bin").rename(sub / "biggan-deep-128-pytorch_model.bin")
        monkeypatch.setenv("PRSG_BIGGAN_WEIGHTS", str(tmp_path / "store"))
        g2 = load_generator("biggan-deep-128", layer=TINY_LAYER)
        torch.testing.assert_close(g2.generate(code), want)


def test_a_checkpoint_that_does_not_fit_is_an_error(tmp_path):
    config = biggan_config("tiny")
    state = load_biggan_module("biggan-deep-128", "random", config=config).state_dict()
    state.pop("embeddings.weight")
    (tmp_path / "config.json").write_text(config.to_json_string())
    torch.save(state, tmp_path / "pytorch_model.bin")
    with pytest.raises(RuntimeError, match="missing 1 weights.*embeddings.weight"):
        load_biggan_module("biggan-deep-128", tmp_path)


def test_without_weights_the_error_says_where_they_come_from(monkeypatch, tmp_path):
    monkeypatch.delenv("PRSG_BIGGAN_WEIGHTS", raising=False)
    with pytest.raises(BigGANWeightsMissing) as err:
        load_generator("biggan-deep-256")
    msg = str(err.value)
    assert "never downloads" in msg and "biggan-deep-256-pytorch_model.bin" in msg
    assert "weights='random'" in msg and "PRSG_BIGGAN_WEIGHTS" in msg
    with pytest.raises(BigGANWeightsMissing, match="looked for"):
        load_generator("biggan-deep-128", weights=tmp_path)
    with pytest.raises(ValueError, match="unknown BigGAN model"):
        load_biggan("biggan-deep-64", weights="random")


@pytest.mark.parametrize("name,res", [("biggan-deep-256", 256), ("biggan-deep-512", 512)])
def test_256_and_512_configs_are_the_same_architecture_deeper(name, res):
    config = biggan_config(name)
    assert config.output_dim == res and 4 * 2 ** sum(up for up, _, _ in config.layers) == res
    # the default and cheap layers: 1024×16×16 and 1024×32×32 (blocks 0-4 and 0-6, before attention)
    for i, (c, r) in {4: (1024, 16), 6: (1024, 32)}.items():
        assert config.layers[i][2] * config.channel_width == c
        assert 4 * 2 ** sum(up for up, _, _ in config.layers[:i + 1]) == r
    model = build_biggan(config, calibrate=False)  # the architecture only: no 512×512 forward here
    assert model.generator.layers[-1].conv_3.out_channels == config.channel_width
    names = dict(model.named_modules())
    assert type(names["generator.layers.4"]).__name__ == "GenBlock"
    assert type(names["generator.layers.8"]).__name__ == "SelfAttn"
