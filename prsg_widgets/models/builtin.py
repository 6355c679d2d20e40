"""Built-in generators whose pretrained weights ship inside PyPI packages (the README's "Built-in models").

The weight files are located with ``importlib.util.find_spec`` — the packages are never imported
(``omniart_eye_generator`` moves its model to CUDA at import) — and read with
``torch.load(..., weights_only=True, map_location=...)``.  A damaged file (truncated, corrupt, or
not holding this architecture's weights) is a :class:`WeightsFileDamaged` whose message says how
to reinstall the package — never torch's advice to unpickle with ``weights_only=False``.
"""
from __future__ import annotations

import importlib.util
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .priors import EYE_PRIOR, FACE_PRIOR
from .split import SplitGenerator, split_generator


class WeightsPackageMissing(ModuleNotFoundError):
    """The PyPI package that carries a built-in model's weights is not installed."""


class WeightsFileDamaged(ValueError, RuntimeError):
    """A weights file that cannot be read or does not fit its architecture (truncated download,
    corrupt bytes, another version).  A ``ValueError`` (and, for older callers, a
    ``RuntimeError``); the message is one line that says how to get an intact copy.
    """


def load_weights(path: str | os.PathLike, remedy: str,
                 select: Callable[[Any], dict] | None = None,
                 model: nn.Module | None = None, strict: bool = True) -> dict:
    """Read a state dict with ``torch.load(weights_only=True)``; with ``model``, load it.

    ``select`` picks the state dict out of what the file holds (e.g. ``lambda d: d["netG_state_dict"]``).
    Any failure — unpickling, zip, end of file, a CRC-32 that does not match (a flipped byte: a
    ``torch.save`` file is a zip archive whose members carry checksums, which ``torch.load`` does
    not verify), non-finite weights, a missing key, a state dict that does not fit ``model`` —
    becomes :class:`WeightsFileDamaged`: ``"the weights file X is damaged (…); <remedy>"``.  A
    missing file is a :class:`FileNotFoundError` with the same remedy.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"the weights file {path} is missing; {remedy}")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                raise _Damage(f"the checksum of {bad} does not match")
        state = torch.load(path, weights_only=True, map_location="cpu")
        if select is not None:
            state = select(state)
        if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
            raise _Damage("it does not hold a state dict of tensors")
        for key, value in state.items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise _Damage(f"{key} holds NaN or inf")
        if model is not None:
            model.load_state_dict(state, strict=strict)
    except MemoryError:
        raise
    except Exception as err:  # UnpicklingError, RuntimeError, EOFError, BadZipFile, KeyError, …
        # the original message is left out on purpose: torch's may advise weights_only=False
        if isinstance(err, _Damage):
            reason = str(err)
        elif "state_dict" in str(err):
            reason = "its weights do not fit the model"
        else:
            reason = f"{type(err).__name__} while reading it"
        raise WeightsFileDamaged(f"the weights file {path} is damaged ({reason}); {remedy}") from None
    return state


class _Damage(Exception):
    """Internal: a reason found while checking a weights file."""


def _reinstall(package: str) -> str:
    dist = package.replace("_", "-")
    return f"reinstall the package with pip install --force-reinstall --no-deps {dist}"


def weights_file(package: str, filename: str) -> Path:
    """Path of ``filename`` inside an installed ``package``, found without importing it."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / filename
        if path.is_file():
            return path
    dist = package.replace("_", "-")
    raise WeightsPackageMissing(
        f"the weights of this model come in the PyPI package {dist!r}, which is not installed "
        f"(or lacks {filename}). Install it without its unneeded dependencies:\n"
        f"    pip install --no-deps {dist}"
    )


def _dcgan_block(cin: int, cout: int, first: bool = False) -> list[nn.Module]:
    stride, pad = (1, 0) if first else (2, 1)
    return [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


class DCGANFaces(nn.Module):
    """The DCGAN generator of ``gan-face-generate`` (nz=100, ngf=64, 64×64 RGB, Tanh).

    ``forward`` takes a flat code ``(B, 100)``.  Layer names: ``main.2`` (512×4×4),
    ``main.5`` (256×8×8), ``main.8`` (128×16×16), ``main.11`` (64×32×32) are the ReLU outputs.
    """

    nz = 100

    def __init__(self, nz: int = 100, ngf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            *_dcgan_block(nz, ngf * 8, first=True),
            *_dcgan_block(ngf * 8, ngf * 4),
            *_dcgan_block(ngf * 4, ngf * 2),
            *_dcgan_block(ngf * 2, ngf),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, code: Tensor) -> Tensor:
        """``code (B, nz)`` → images ``(B, 3, 64, 64)`` in ``[-1, 1]``."""
        return self.main(code.reshape(code.shape[0], -1, 1, 1))


EYE_CLASSES = ("amber", "blue", "brown", "gray", "grayscale", "green", "hazel", "red")


class Eyes128(nn.Module):
    """The class-conditional eye generator of ``omniart-eye-generator`` (128×128 RGB).

    The code is ``(B, 108)``: 100 noise values, then the one-hot class among :data:`EYE_CLASSES`.
    ReLU layers: ``main.2`` (1024×4×4), ``main.6`` (512×8×8), ``main.9`` (256×16×16),
    ``main.12`` (128×32×32), ``main.15`` (64×64×64).
    """

    nz = 100

    def __init__(self) -> None:
        super().__init__()
        ngf = 64
        blocks = _dcgan_block(self.nz + len(EYE_CLASSES), ngf * 16, first=True) + [nn.Dropout(0.2)]
        for cin, cout in [(16, 8), (8, 4), (4, 2), (2, 1)]:
            blocks += _dcgan_block(ngf * cin, ngf * cout)
        blocks += [nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*blocks)

    def forward(self, code: Tensor) -> Tensor:
        """``code (B, 108)`` → images ``(B, 3, 128, 128)`` in ``[-1, 1]``."""
        return self.main(code.reshape(code.shape[0], -1, 1, 1))


def _normal_sampler(dim: int):
    def sample(batch: int, gen: torch.Generator) -> Tensor:
        return torch.randn(batch, dim, generator=gen)

    return sample


def _eye_sampler(eye_class: str | int | None):
    if isinstance(eye_class, str):
        if eye_class not in EYE_CLASSES:
            raise ValueError(f"unknown eye class {eye_class!r}; classes: {', '.join(EYE_CLASSES)}")
        eye_class = EYE_CLASSES.index(eye_class)

    def sample(batch: int, gen: torch.Generator) -> Tensor:
        noise = torch.randn(batch, Eyes128.nz, generator=gen)
        if eye_class is None:
            labels = torch.randint(len(EYE_CLASSES), (batch,), generator=gen)
        else:
            labels = torch.full((batch,), int(eye_class))
        onehot = torch.nn.functional.one_hot(labels, len(EYE_CLASSES)).float()
        return torch.cat([noise, onehot], 1)

    return sample


def load_dcgan_faces(layer: str | None = None, device=None) -> SplitGenerator:
    """``"dcgan-faces"``: 64×64 faces (DigiFace-1M), default layer ``main.5``, cheap ``main.8``."""
    path = weights_file("gan_face_generate", "weights.tar")
    model = DCGANFaces()
    load_weights(path, _reinstall("gan_face_generate"), select=lambda d: d["netG_state_dict"], model=model)
    model.to(device or "cpu")
    return split_generator(model, "main.5" if layer is None else layer, _normal_sampler(DCGANFaces.nz), (-1.0, 1.0),
                           name="dcgan-faces", foreground=FACE_PRIOR)


def load_eyes_128(layer: str | None = None, device=None,
                  eye_class: str | int | None = None) -> SplitGenerator:
    """``"eyes-128"``: class-conditional 128×128 painted eyes; default layer ``main.9``, cheap
    ``main.12``.  ``eye_class`` fixes the class of sampled codes (default: random per code).
    """
    path = weights_file("omniart_eye_generator", "generator_model_state.pth")
    model = Eyes128()
    load_weights(path, _reinstall("omniart_eye_generator"), model=model)
    model.to(device or "cpu")
    return split_generator(model, "main.9" if layer is None else layer, _eye_sampler(eye_class), (-1.0, 1.0),
                           name="eyes-128", classes=EYE_CLASSES, foreground=EYE_PRIOR)
