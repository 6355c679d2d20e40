"""Validation at the boundary (issue 8, item 2; weights part of item 3): each rule, directly.

Every refusal is a documented type (ValueError / KeyError / FileNotFoundError) with a one-line
message; nothing is coerced (5.0 is not a patch id, True is not 1, "56" is not [5, 6]).
"""
from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from prsg_widgets.core import validate as V
from prsg_widgets.core.grid import (
    PatchGrid,
    TooManyPatchesError,
    check_num_patches,
    check_patch_ids,
    patches_to_subset,
    select_patches,
    subset_to_patches,
)

G = PatchGrid(12, 12, 3)  # ids 0..8


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    assert "weights_only=False" not in msg
    return msg


# ------------------------------------------------------------------------------------ patch ids
@pytest.mark.parametrize("bad,match", [
    ([5.7, 6.2], "must be integers, got 5.7"),
    ([5.0], "must be integers, got 5.0"),
    ([True, False], "must be integers, got True"),
    ([np.bool_(True)], "must be integers"),
    (["5"], "must be integers, got '5'"),
    ("56", "the string '56'"),
    ([None], "must be integers"),
    ([-1], "out of range"),
    ([9], "out of range.*0..8"),
    ([1, 1], "distinct"),
    (2.0, "must be integers"),
    ([torch.tensor(1.0)], "must be integers"),
])
def test_grid_check_refuses(bad, match):
    with pytest.raises(ValueError, match=match) as err:
        G.check(bad)
    one_line(err)


def test_grid_check_accepts_true_integers():
    assert G.check([np.int64(3), 1, torch.tensor(2), np.array(4)]) == [3, 1, 2, 4]
    assert G.check(np.uint8(8)) == [8]
    assert G.check(np.arange(3)) == [0, 1, 2]
    assert G.check([1, 1], unique=False) == [1, 1]
    assert G.mask([1, 1]).sum() == G.mask([1]).sum()  # a union: duplicates are harmless here


def test_mask_never_splits_a_string():
    with pytest.raises(ValueError, match="string"):
        G.mask("01")


@pytest.mark.parametrize("how", ["56", "Random", "", "fg", b"random"])
def test_select_patches_refuses_other_strings(how):
    with pytest.raises(ValueError, match="unknown selection") as err:
        select_patches(G, 2, how)
    one_line(err)


@pytest.mark.parametrize("how", [[5.7, 6.2], [True, False], [-1, 2], [1, 1], [], 5, 3.0])
def test_select_patches_refuses_bad_explicit_ids(how):
    with pytest.raises(ValueError) as err:
        select_patches(G, how=how)
    one_line(err)


def test_select_patches_accepts_numpy_ids_and_sorts():
    assert select_patches(G, how=np.array([7, 2])) == [2, 7]
    assert select_patches(G, how=(np.int32(4), 0)) == [0, 4]


@pytest.mark.parametrize("n", [0, -1, 2.0, True, "3", None, pytest.param(2**100_000, id="2**100000")])
def test_n_is_a_true_int_in_range(n):
    with pytest.raises(ValueError) as err:
        select_patches(G, n, "random")
    msg = one_line(err)
    assert len(msg) < 400


def test_n_above_the_limit_never_computes_2_to_the_n():
    with pytest.raises(TooManyPatchesError, match=r"2\^13 = 8,192"):
        check_num_patches(13)
    with pytest.raises(TooManyPatchesError, match=r"2\^100000000000000000000 minimal"):
        check_num_patches(10**20)
    with pytest.raises(TooManyPatchesError, match="about 30103 digits"):
        check_num_patches(10**30102)  # instant: no 2**n, no str() of the huge n
    with pytest.raises(ValueError, match="cannot select 10 patches from a grid of 9"):
        select_patches(G, 10, "random", max_patches=12)
    with pytest.raises(ValueError, match="max_patches"):
        check_num_patches(3, max_patches=True)


@pytest.mark.parametrize("seed", [1.5, "3", True, None, 2**64, -(2**63) - 1])
def test_seed_is_a_true_int_torch_accepts(seed):
    with pytest.raises(ValueError, match="seed") as err:
        select_patches(G, 2, "random", seed=seed)
    one_line(err)
    assert select_patches(G, 2, "random", seed=np.int64(3)) == select_patches(G, 2, "random", seed=3)
    assert len(select_patches(G, 2, "random", seed=2**64 - 1)) == 2


def test_patches_to_subset_and_back():
    patches = [0, 5, 8]
    assert patches_to_subset([np.int64(8), 0], patches) == 0b101
    for bad, match in [([5.0], "integers"), ("58", "list of patch ids"), ([True], "integers"),
                       ([-1], "≥ 0"), ([5, 5], "distinct"), ([3], "not one of the selected"), (5, "list")]:
        with pytest.raises(ValueError, match=match) as err:
            patches_to_subset(bad, patches)
        one_line(err)
    assert subset_to_patches(np.int64(0b110), patches) == [5, 8]
    for bad in [True, 1.0, -1, 8, "1", 2**200]:
        with pytest.raises(ValueError, match="bitmask") as err:
            subset_to_patches(bad, patches)
        one_line(err)


def test_subset_masks_check_bitmasks():
    with pytest.raises(ValueError, match="bitmask"):
        G.subset_masks([0, 1], [True])
    with pytest.raises(ValueError, match="out of range for n=2"):
        G.subset_masks([0, 1], [4])


@pytest.mark.parametrize("size", [True, 2.0, "3", 0, -1, 13])
def test_grid_size_is_a_true_int(size):
    with pytest.raises(ValueError, match="grid size") as err:
        PatchGrid(12, 12, size)
    one_line(err)


def test_check_patch_ids_without_a_range():
    assert check_patch_ids([3, 100], None) == [3, 100]
    with pytest.raises(ValueError, match="≥ 0"):
        check_patch_ids([-2], None)


# ---------------------------------------------------------------------------------------- masks
@pytest.mark.parametrize("mask,match", [
    (torch.ones(4, 4), r"\(H, W\) = \(12, 12\)"),
    (torch.ones(1, 12, 12), "got shape"),
    (torch.ones(12), "got shape"),
    (torch.full((12, 12), float("nan")), "NaN/inf"),
    (torch.full((12, 12), 2.0), r"\[0, 1\]"),
    (-torch.ones(12, 12), r"\[0, 1\]"),
    ([[1.0] * 12] * 12, "tensor or array"),
    ("mask", "tensor or array"),
    (np.array([["a"] * 12] * 12), "dtype"),
])
def test_foreground_mask_rules(mask, match):
    with pytest.raises(ValueError, match=match) as err:
        select_patches(G, 1, "foreground", mask=mask)
    one_line(err)


def test_bool_and_numpy_masks_are_fine():
    m = np.zeros((12, 12), dtype=bool)
    m[4:8, 4:8] = True
    assert select_patches(G, 1, "foreground", mask=m) == [4]
    assert select_patches(G, 1, "foreground", mask=torch.from_numpy(m)) == [4]
    assert select_patches(G, 1, "foreground", mask=torch.from_numpy(m).double()) == [4]


def test_nan_image_is_refused_for_foreground():
    img = torch.zeros(3, 12, 12)
    img[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="the image contains NaN/inf: 1 of 432") as err:
        select_patches(G, 1, "foreground", image=img, reference=torch.zeros(3, 12, 12))
    one_line(err)
    with pytest.raises(ValueError, match=r"\(H, W\) = \(12, 12\)"):
        select_patches(G, 1, "foreground", image=torch.zeros(3, 8, 8), reference=torch.zeros(3, 12, 12))


# ------------------------------------------------------------------------------------ validate.py
def test_check_finite():
    t = torch.ones(5)
    assert V.check_finite(t, "the image") is t
    assert V.check_finite(torch.arange(3), "ids") is not None  # integers are always finite
    with pytest.raises(ValueError, match="the image contains NaN/inf: 2 of 5"):
        V.check_finite(torch.tensor([1, float("inf"), float("nan"), 0, 0]), "the image")
    with pytest.raises(ValueError, match="the feature contains NaN/inf"):
        V.check_finite(np.array([np.nan]), "the feature")


def test_check_layer_name():
    names = ["main.0", "main.5", "main.8", "main.11"]
    assert V.check_layer_name("main.8", names) == "main.8"
    for empty in ["", "   ", "\t"]:
        with pytest.raises(ValueError, match="empty") as err:
            V.check_layer_name(empty, names)
        one_line(err)
    with pytest.raises(KeyError) as err:
        V.check_layer_name("main.88", names)
    msg = one_line(err)
    assert isinstance(err.value, V.LayerNotFoundError)
    assert "did you mean main.8" in msg and "valid layer names: main.0, main.5, main.8, main.11" in msg
    assert not msg.startswith("\"")  # KeyError's quoting is undone
    with pytest.raises(ValueError, match="must be a name"):
        V.check_layer_name(None, names)


def test_check_device():
    assert V.check_device("cpu") == torch.device("cpu")
    assert V.check_device(torch.device("cpu")) == torch.device("cpu")
    assert V.check_device(None).type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        for dev in ["cuda", "cuda:0", torch.device("cuda", 1)]:
            with pytest.raises(ValueError, match="no CUDA device here; use device='cpu'") as err:
                V.check_device(dev)
            one_line(err)
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="no MPS"):
            V.check_device("mps")
    for bad in ["garbage", "", "CPU", " cpu", "cuda:x", "meta", "xla", "cpu:3", 0, True, 1.5, ["cpu"]]:
        with pytest.raises(ValueError) as err:
            V.check_device(bad)
        one_line(err)


def test_check_writable_dir(tmp_path):
    assert V.check_writable_dir(tmp_path, "--out") == tmp_path
    new = tmp_path / "a" / "b"
    assert V.check_writable_dir(new, "--out") == new
    assert not (tmp_path / "a").exists()  # creates nothing
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="--out .*file is a file; give a directory") as err:
        V.check_writable_dir(f, "--out")
    one_line(err)
    with pytest.raises(ValueError, match="lies below the file"):
        V.check_writable_dir(f / "sub", "--cache-dir")
    for bad in ["", "  ", None, 3, b"/tmp", "a\x00b"]:
        with pytest.raises(ValueError) as err:
            V.check_writable_dir(bad, "--out")
        one_line(err)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_dir_read_only_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="cannot be written"):
            V.check_writable_dir(ro / "out", "--out")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("value", [True, 1.0, "3", None, 0, -5, 2**31, 10**100])
def test_check_positive_int_refuses(value):
    with pytest.raises(ValueError, match="--batch-size") as err:
        V.check_positive_int(value, "--batch-size")
    one_line(err)


def test_check_positive_int_accepts():
    assert V.check_positive_int(np.int16(7), "k") == 7
    assert V.check_positive_int(10**30, "k", max=None) == 10**30
    with pytest.raises(ValueError, match="between 1 and 12"):
        V.check_positive_int(13, "n", max=12)


@pytest.mark.parametrize("value", [0, -1e-3, float("nan"), float("inf"), -float("inf"), True, "0.1", None, 10**400])
def test_check_positive_float_refuses(value):
    with pytest.raises(ValueError, match="lr") as err:
        V.check_positive_float(value, "lr")
    one_line(err)


def test_check_subset_helpers():
    assert V.check_subset_ids([5, np.int64(0)], [0, 5, 8]) == [5, 0]
    assert V.check_subset_bitmask(np.uint16(7), 3) == 7
    with pytest.raises(ValueError, match="0..7"):
        V.check_subset_bitmask(8, 3)
    with pytest.raises(ValueError, match="integer"):
        V.check_subset_bitmask(True, 3)


@pytest.mark.parametrize("setting", [
    dict(lr=0), dict(lr=-0.05), dict(lr=float("nan")), dict(lr=float("inf")), dict(lr=1e300),
    dict(iterations=0), dict(iterations=10**20), dict(iterations=1e3), dict(iterations=True),
    dict(lam=0), dict(lam=float("nan")), dict(epsilon=0), dict(epsilon=4.0), dict(epsilon=1e9),
    dict(init=1.5), dict(margin=1.0), dict(nested="yes"),
])
def test_check_solver_settings_refuses(setting):
    with pytest.raises(ValueError, match=f"solver setting {next(iter(setting))}") as err:
        V.check_solver_settings(setting)
    one_line(err)


def test_check_solver_settings_accepts():
    out = V.check_solver_settings(dict(lr=np.float32(0.05), iterations=np.int64(300)), lam=200, epsilon=None)
    assert out == {"lr": pytest.approx(0.05), "iterations": 300, "lam": 200.0}


# ------------------------------------------------------------------------------------- models
def test_load_generator_names_and_layers():
    from prsg_widgets.models import LayerNotFoundError, UnknownModelError, load_generator

    with pytest.raises(KeyError, match="built-in models: dcgan-faces") as err:
        load_generator("dcgan-face")
    assert isinstance(err.value, UnknownModelError) and isinstance(err.value, ValueError)
    assert "did you mean dcgan-faces" in one_line(err)
    for empty in ["", "  "]:
        with pytest.raises(ValueError, match="empty") as err:
            load_generator("toy-scenes", layer=empty)
        one_line(err)
    with pytest.raises(KeyError) as err:
        load_generator("toy-scenes", layer="main.88")
    assert isinstance(err.value, LayerNotFoundError)
    assert "did you mean main.8" in one_line(err)


def test_split_generator_layer_rules():
    from tiny_model import make_tiny_module

    from prsg_widgets import split_generator

    with pytest.raises(ValueError, match="empty"):
        split_generator(make_tiny_module(), "", sample_codes=(4,))
    with pytest.raises(KeyError, match="did you mean 2"):
        split_generator(make_tiny_module(), " 2", sample_codes=(4,))


def _damaged_files(tmp_path, good_state: dict) -> dict:
    """A truncated, a bit-flipped, an empty, a not-a-zip, a pickle-with-code and a wrong-keys file."""
    good = tmp_path / "good.pt"
    torch.save(good_state, good)
    data = good.read_bytes()
    files = {}
    files["truncated"] = data[: len(data) // 2]
    flipped = bytearray(data)
    for i in range(len(flipped) // 3, len(flipped) // 3 + 64):
        flipped[i] ^= 0xFF
    files["flipped"] = bytes(flipped)
    files["empty"] = b""
    files["text"] = b"<html>404 Not Found</html>"
    files["pickle"] = pickle.dumps({"a": os.getcwd})  # refused by weights_only, with torch's advice
    wrong = tmp_path / "wrong.pt"
    torch.save({"netG_state_dict": {"x": torch.zeros(1)}, "x": torch.zeros(1)}, wrong)
    files["wrong keys"] = wrong.read_bytes()
    out = {}
    for name, blob in files.items():
        p = tmp_path / f"{name.replace(' ', '_')}.bin"
        p.write_bytes(blob)
        out[name] = p
    return out


@pytest.mark.parametrize("loader,package,filename,dist", [
    ("load_dcgan_faces", "gan_face_generate", "weights.tar", "gan-face-generate"),
    ("load_eyes_128", "omniart_eye_generator", "generator_model_state.pth", "omniart-eye-generator"),
])
def test_damaged_builtin_weights_say_reinstall(tmp_path, monkeypatch, loader, package, filename, dist):
    from prsg_widgets.models import WeightsFileDamaged, builtin

    model = builtin.DCGANFaces() if package == "gan_face_generate" else builtin.Eyes128()
    state = {"netG_state_dict": model.state_dict()} if package == "gan_face_generate" else model.state_dict()
    for kind, path in _damaged_files(tmp_path, state).items():
        monkeypatch.setattr(builtin, "weights_file", lambda pkg, fn, path=path: path)
        with pytest.raises(WeightsFileDamaged) as err:
            getattr(builtin, loader)()
        msg = one_line(err)
        assert isinstance(err.value, ValueError), kind
        assert msg.startswith(f"the weights file {path} is damaged"), (kind, msg)
        assert msg.endswith(f"reinstall the package with pip install --force-reinstall --no-deps {dist}"), kind
        assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_weights_file_is_file_not_found(tmp_path):
    from prsg_widgets.models import load_weights

    with pytest.raises(FileNotFoundError, match="reinstall") as err:
        load_weights(tmp_path / "nope.pt", "reinstall it")
    one_line(err)


def test_damaged_biggan_files_say_copy_again(tmp_path):
    pytest.importorskip("pytorch_pretrained_biggan")
    from prsg_widgets.models import WeightsFileDamaged
    from prsg_widgets.models.biggan import biggan_config, load_biggan_module

    config = biggan_config("tiny")
    state = load_biggan_module("biggan-deep-128", "random", config=config).state_dict()
    for kind, path in _damaged_files(tmp_path, state).items():
        folder = tmp_path / kind.replace(" ", "_")
        folder.mkdir()
        (folder / "config.json").write_text(config.to_json_string())
        os.replace(path, folder / "pytorch_model.bin")
        with pytest.raises(WeightsFileDamaged) as err:
            load_biggan_module("biggan-deep-128", folder)
        msg = one_line(err)
        assert "copy biggan-deep-128's config.json and pytorch_model.bin" in msg, (kind, msg)
    bad_cfg = tmp_path / "badcfg"
    bad_cfg.mkdir()
    (bad_cfg / "config.json").write_text("{not json")
    torch.save(state, bad_cfg / "pytorch_model.bin")
    with pytest.raises(WeightsFileDamaged, match="config file .* is damaged") as err:
        load_biggan_module("biggan-deep-128", bad_cfg)
    one_line(err)
    assert zipfile.is_zipfile(bad_cfg / "pytorch_model.bin")
