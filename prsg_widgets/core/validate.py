"""Checks of user input at the boundary (API and CLI), before any work is done.

Every function here is pure (it reads, never creates or changes anything), returns the checked
value in its canonical type, and raises a named exception of :mod:`prsg_widgets.core.errors`:
:class:`~prsg_widgets.core.errors.SettingsError` or :class:`~prsg_widgets.core.errors.PatchError`
(both subclasses of ``ValueError``) or :class:`~prsg_widgets.core.errors.LayerNotFoundError` (a
``KeyError`` whose ``str`` is the plain message); only :func:`check_finite`, a check of data
rather than of a setting, raises a plain ``ValueError``.  Every message is one line that says
what to do.  Nothing is coerced silently: ``5.0`` is not a patch id, ``True`` is not a count,
``"56"`` is not ``[5, 6]``.

The backend and the CLI call these; :mod:`prsg_widgets.core.grid` uses the integer rules for
patch ids, subset bitmasks, ``n`` and seeds.
"""
from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..defaults import PRECISION_CHOICES, PRECISIONS
from .errors import LayerNotFoundError, NameNotFoundError, PatchError, SettingsError

__all__ = [
    "MAX_COUNT", "MAX_ITERATIONS", "MAX_LR", "MAX_LAM", "MAX_EPSILON", "SEED_RANGE", "PRECISIONS",
    "NameNotFoundError", "LayerNotFoundError", "SettingsError", "PatchError",
    "is_integer", "short_repr", "check_int", "check_positive_int", "check_seed", "check_positive_float",
    "check_finite", "check_mask", "check_layer_name", "check_device", "check_writable_dir",
    "check_patch_ids", "check_subset_ids", "check_subset_bitmask", "check_n_matches_patches",
    "check_solver_settings", "check_precision", "check_grid", "check_choice",
]

MAX_COUNT = 2**31 - 1
"""Default upper bound of :func:`check_positive_int` (batch sizes, top-k, …)."""
MAX_ITERATIONS = 10**7
"""Most solver iterations per subset accepted (the paper's Table 2 uses at most 10⁴)."""
MAX_LR = 10.0
"""Largest learning rate accepted: masks live in [0, 1], a step above 10 only overflows."""
MAX_LAM = 1e12
"""Largest λ accepted (float32 penalties overflow far above it)."""
MAX_EPSILON = 4.0
"""ε is an mse on a [-1, 1] image, where no error exceeds 4: ε ≥ 4 makes every subset trivially
feasible (every ``f_T = b``), a silent wrong result."""
SEED_RANGE = (-(2**63), 2**64 - 1)
"""Seeds torch's generators accept."""


# ---------------------------------------------------------------------------------------- numbers
def is_integer(value: Any) -> bool:
    """True for a Python ``int`` or a numpy integer (also a 0-d integer tensor/array), never for a
    ``bool`` (``True`` is not the id 1), a float (``5.0`` is not the id 5) or a string.
    """
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    if isinstance(value, Tensor) and value.ndim == 0:
        dtype = value.dtype
        return not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return bool(np.issubdtype(value.dtype, np.integer))
    return False


def short_repr(value: Any, limit: int = 60) -> str:
    """A short ``repr`` of a value for an error message (never more than ``limit`` characters)."""
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, float) or isinstance(value, np.floating):
        text = repr(float(value))
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 192:
        # never str() an absurd integer (slow, and refused above 4300 digits)
        text = f"{'-' if value < 0 else ''}an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    else:
        try:
            text = repr(value)
        except Exception:  # a broken __repr__ must not hide the real error
            text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_int(value: Any, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` as a Python ``int`` when it is a true integer (see :func:`is_integer`) within
    ``[min, max]``; else ``ValueError`` naming ``name``.  Compares without any arithmetic on the
    value, so an absurd integer fails fast.
    """
    if not is_integer(value):
        kind = "a bool" if isinstance(value, (bool, np.bool_)) else short_repr(value)
        raise SettingsError(f"{name} must be an integer, got {kind}")
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        if min is not None and max is not None:
            need = f"between {min} and {max}"
        elif min is not None:
            need = f"at least {min}"
        else:
            need = f"at most {max}"
        raise SettingsError(f"{name} must be {need}, got {short_repr(value)}")
    return value


def check_positive_int(value: Any, name: str, max: int | None = MAX_COUNT) -> int:
    """A true integer ``1 ≤ value ≤ max`` (``max=None``: no upper bound; default
    :data:`MAX_COUNT`).  Bools, floats (``3.0`` too), strings and huge values are refused.
    """
    return check_int(value, name, min=1, max=max)


def check_seed(value: Any, name: str = "seed") -> int:
    """A true integer that torch's generators accept (:data:`SEED_RANGE`)."""
    return check_int(value, name, min=SEED_RANGE[0], max=SEED_RANGE[1])


def check_positive_float(value: Any, name: str, *, max: float | None = None,
                         allow_zero: bool = False) -> float:
    """A finite real number ``> 0`` (``≥ 0`` with ``allow_zero``) and ``≤ max``, as a ``float``.
    Bools, strings, NaN and ±inf are refused; ints and numpy numbers are fine.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise SettingsError(f"{name} must be a number, got {short_repr(value)}")
    try:
        number = float(value)
    except OverflowError:
        # typeshed's numbers.Real declares no comparison, but every Real compares with 0
        number = math.inf if value > 0 else -math.inf  # type: ignore[operator]
    if not math.isfinite(number):
        raise SettingsError(f"{name} must be a finite number, got {short_repr(value)}")
    if number < 0 or (number == 0 and not allow_zero):
        raise SettingsError(f"{name} must be {'≥ 0' if allow_zero else 'above 0'}, got {short_repr(value)}")
    if max is not None and number > max:
        raise SettingsError(f"{name} must be at most {max:g}, got {short_repr(value)}")
    return number


# ---------------------------------------------------------------------------------------- tensors
def check_finite(tensor: Any, what: str) -> Any:
    """``tensor`` unchanged when every value is finite; else ``ValueError`` ("the image contains
    NaN/inf: …").  Accepts a tensor or an array; ``what`` names it ("the image").
    """
    if isinstance(tensor, Tensor):
        if tensor.is_floating_point() or tensor.is_complex():
            bad = int((~torch.isfinite(tensor)).sum())
        else:
            bad = 0
        total = tensor.numel()
    else:
        arr = np.asarray(tensor)
        bad = int((~np.isfinite(arr)).sum()) if np.issubdtype(arr.dtype, np.inexact) else 0
        total = arr.size
    if bad:
        raise ValueError(f"{what} contains NaN/inf: {bad} of {total} values are not finite; "
                         "check the generator's output (a NaN or inf cannot be explained)")
    return tensor


def check_mask(mask: Any, shape: Sequence[int], what: str = "the mask") -> Tensor:
    """A ``(H, W)`` mask as a float tensor in [0, 1]: ``mask`` must be a 2-D tensor or numpy array
    of exactly ``shape``, boolean or real with finite values in [0, 1].
    """
    shape = tuple(int(s) for s in shape)
    if isinstance(mask, np.ndarray):
        if not (mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number)):
            raise SettingsError(f"{what} must be a boolean or numeric (H, W) array, got dtype {mask.dtype}")
        mask = torch.from_numpy(np.ascontiguousarray(mask))
    if not isinstance(mask, Tensor):
        raise SettingsError(f"{what} must be a {shape} tensor or array of values in [0, 1], "
                         f"got {type(mask).__name__}")
    if tuple(mask.shape) != shape:
        raise SettingsError(f"{what} must be (H, W) = {shape}, got shape {tuple(mask.shape)}")
    if mask.is_complex():
        raise SettingsError(f"{what} must be real (values in [0, 1]), got {mask.dtype}")
    values = mask.detach().to("cpu", torch.float32) if mask.dtype != torch.float64 else mask.detach().cpu()
    if mask.dtype != torch.bool:
        check_finite(values, what)
        if values.numel() and (float(values.min()) < 0 or float(values.max()) > 1):
            raise SettingsError(f"{what} must hold values in [0, 1], "
                                f"got {float(values.min()):g}..{float(values.max()):g}")
    return values.float()


# ----------------------------------------------------------------------------------- names, devices
def check_layer_name(name: Any, available: Iterable[str] | None, what: str = "layer", where: str = "") -> str:
    """``name`` when it is one of ``available``.  An empty or blank name is a ``ValueError`` (it
    never means "the default"); an unknown one a :class:`LayerNotFoundError` (a ``KeyError``)
    listing close matches and the valid names.  ``where`` is added after the name in messages
    (e.g. ``" in ToyGenerator"``).  ``available=None`` (names not known yet): only a non-blank
    string is required.
    """
    if available is None:
        available, check_membership = [], False
    else:
        check_membership = True
    names = list(available)
    if not isinstance(name, str):
        raise SettingsError(f"the {what} must be a name (a string such as {names[0]!r}), got {short_repr(name)}"
                         if names else f"the {what} must be a name (a string), got {short_repr(name)}")
    if not name.strip():
        example = f" such as {names[0]!r}" if names else ""
        raise SettingsError(f"the {what} name is empty; give a {what} name{example}, or leave it out for the default")
    if check_membership and name not in names:
        close = difflib.get_close_matches(name.strip(), names, n=3, cutoff=0.6)
        if name.strip() in names:
            close = [name.strip()]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise LayerNotFoundError(f"no {what} named {short_repr(name)}{where}; "
                                 f"{hint}valid {what} names: {', '.join(names)}")
    return name


_DEVICE_TYPES = ("cpu", "cuda", "mps")


def check_device(device: str | torch.device | None) -> torch.device:
    """The ``torch.device`` to run on.  ``None``: CUDA when available, else the CPU.  Accepts
    ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` (or a ``torch.device`` of those types) and
    checks the device exists here: ``"cuda"`` without CUDA is ``ValueError("no CUDA device here;
    use device='cpu'")``.  Other strings, other device types and other objects are ``ValueError``.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, str):
        text = device
        if not text or text != text.strip() or text != text.lower():
            raise SettingsError(f"unknown device {short_repr(device)}; use 'cpu', 'cuda', 'cuda:0' … or 'mps'")
        try:
            dev = torch.device(text)
        except (RuntimeError, ValueError, TypeError):
            raise SettingsError(f"unknown device {short_repr(device)}; "
                                "use 'cpu', 'cuda', 'cuda:0' … or 'mps'") from None
    elif isinstance(device, torch.device):
        dev = device
    else:
        raise SettingsError("device must be a string such as 'cpu' or 'cuda:0' or a torch.device, "
                            f"got {short_repr(device)}")
    if dev.type not in _DEVICE_TYPES:
        raise SettingsError(f"device {str(dev)!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SettingsError("no CUDA device here; use device='cpu' (--device cpu on the command line)")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise SettingsError(f"no CUDA device {dev.index} here ({count} CUDA device{'s' if count != 1 else ''}: "
                             f"cuda:0..cuda:{count - 1}); use device='cuda:0' or 'cpu'")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise SettingsError("no MPS (Apple GPU) device here; use device='cpu' (--device cpu on the command line)")
    if dev.type == "cpu" and dev.index not in (None, 0):
        raise SettingsError(f"device {str(dev)!r} does not exist; use device='cpu' (--device cpu on the command line)")
    return dev


# -------------------------------------------------------------------------------------------- paths
def check_writable_dir(path: str | os.PathLike, what: str = "the output directory") -> Path:
    """``Path(path)`` when a directory can be written there: it is an existing writable directory,
    or it does not exist and its nearest existing ancestor is a writable directory.  A path that
    is a file (or lies below one) or cannot be written is a ``ValueError``; nothing is created.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise SettingsError(f"{what} must be a path, got {short_repr(path)}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise SettingsError(f"{what} is empty; give a directory path")
    if "\x00" in text:
        raise SettingsError(f"{what} {short_repr(text)} contains a NUL character; give a directory path")
    target = Path(text).expanduser()
    probe = target
    while True:
        try:
            exists = probe.exists()
            is_dir = probe.is_dir()
        except OSError as err:  # e.g. a name too long
            raise SettingsError(f"{what} {short_repr(text)} is not a usable path ({err.strerror or err}); "
                             "give another directory") from None
        if exists:
            break
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if probe == target and exists and not is_dir:
        raise SettingsError(f"{what} {target} is a file; give a directory")
    if exists and not is_dir:
        raise SettingsError(f"{what} {target} lies below the file {probe}; give a directory path")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == target else f" (its nearest existing folder {probe} is not writable)"
        raise SettingsError(f"{what} {target} cannot be written{where}; give a directory you can write to")
    try:
        if os.statvfs(probe).f_flag & os.ST_RDONLY:
            raise SettingsError(f"{what} {target} is on a read-only file system; give another directory")
    except (AttributeError, OSError):  # no statvfs (Windows) or an unreadable mount
        pass
    return target


# -------------------------------------------------------------------------------------- subsets
def check_patch_ids(patches: Any, num_patches: int | None, *, unique: bool = True,
                    grid_size: int | None = None, what: str = "patch ids") -> list[int]:
    """Patch ids as Python ints: one true integer or an iterable of them, each in
    ``0..num_patches−1`` (``num_patches=None``: only ``≥ 0``), distinct when ``unique``.

    Bools, floats, strings and other objects are a ``ValueError`` (never coerced).
    """
    if is_integer(patches):
        items: list = [patches]
    elif isinstance(patches, (str, bytes)):
        raise PatchError(f"{what} must be integers, got the string {short_repr(patches)}; "
                         "give a list of ids such as [5, 6]")
    else:
        try:
            items = list(patches)
        except TypeError:
            raise PatchError(f"{what} must be integers, got {short_repr(patches)}") from None
    ids: list[int] = []
    for p in items:
        if not is_integer(p):
            raise PatchError(f"{what} must be integers, got {short_repr(p)}")
        ids.append(int(p))
    high = num_patches - 1 if num_patches is not None else None
    bad = [p for p in ids if p < 0 or (high is not None and p > high)]
    if bad:
        shown = short_repr(bad)
        if num_patches is None:
            raise PatchError(f"{what} must be ≥ 0, got {shown}")
        where = (f"a {grid_size}×{grid_size} grid has ids 0..{high} (id = row*{grid_size} + col)"
                 if grid_size is not None else f"valid ids are 0..{high}")
        raise PatchError(f"{what} {shown} are out of range: {where}")
    if unique and len(set(ids)) != len(ids):
        raise PatchError(f"{what} must be distinct, got {short_repr(ids)}")
    return ids


def check_subset_ids(ids: Any, patches: Sequence[int], what: str = "subset") -> list[int]:
    """Patch ids of a subset: distinct true integers that are all among the selected ``patches``
    (a string, a bool or a float is refused — never ``"56"`` → ``[5, 6]``).  Returns them in the
    given order.
    """
    if isinstance(ids, (str, bytes)) or is_integer(ids) or not isinstance(ids, Iterable):
        raise PatchError(f"a {what} is a list of patch ids such as {list(patches)[:2]}, got {short_repr(ids)}")
    out = check_patch_ids(ids, None, what=f"{what} patch ids")
    missing = [p for p in out if p not in set(int(q) for q in patches)]
    if missing:
        raise PatchError(f"patch {missing[0]} is not one of the selected patches {list(map(int, patches))}")
    return out


def check_subset_bitmask(subset: Any, n: int, what: str = "subset bitmask") -> int:
    """A subset given as a bitmask over ``n`` patches: a true integer in ``0..2^n − 1`` (checked
    with ``bit_length``, never by computing ``2^n``); bools and floats are refused.
    """
    value = check_int(subset, what, min=0)
    if value.bit_length() > n:
        raise PatchError(f"{what} {short_repr(value)} is out of range for n={n} patches: "
                         f"use 0..{(1 << n) - 1 if n <= 64 else f'2^{n} − 1'}")
    return value


def check_n_matches_patches(n: Any, patches: Any, name: str = "n") -> None:
    """With explicit patch ids ``n`` is their number: another ``n`` beside ``patches`` is a
    :class:`PatchError` (never ignored).  Nothing is checked when either is ``None`` or
    ``patches`` is a rule name such as ``"foreground"``.
    """
    if n is None or patches is None or isinstance(patches, (str, bytes)) or not hasattr(patches, "__len__"):
        return
    if not is_integer(n) or int(n) != len(patches):
        raise PatchError(f"{name}={short_repr(n)} contradicts the {len(patches)} patch ids given; leave {name} out "
                         "(with explicit ids it is their number)")


# ---------------------------------------------------------------------------------------- solver
def check_grid(value: Any, name: str = "grid") -> int:
    """``value`` when it is a patch-grid side P (a true integer in 1..4096: a P×P grid)."""
    return check_positive_int(value, name, max=4096)


def check_choice(value: Any, name: str, options: Sequence[str]) -> str:
    """``value`` when it is one of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise SettingsError(f"{name} must be one of {tuple(options)}, got {short_repr(value)}")
    return value


def check_precision(value: Any, name: str = "precision") -> str:
    """``value`` when it is one of :data:`~prsg_widgets.defaults.PRECISION_CHOICES` (``"auto"``,
    ``"fp32"``, ``"bf16"``, ``"mixed"``).
    """
    return check_choice(value, name, PRECISION_CHOICES)


def check_solver_settings(settings: Mapping[str, Any] | None = None, **more: Any) -> dict:
    """Bounds of the solver settings a user may override (a mapping and/or keywords; ``None``
    values are skipped): ``lr`` in (0, :data:`MAX_LR`], ``iterations`` and ``patience`` whole
    numbers in 1..:data:`MAX_ITERATIONS`, ``lam`` in (0, :data:`MAX_LAM`], ``epsilon`` in
    (0, :data:`MAX_EPSILON`), ``rel_tol`` ≥ 0, ``init`` in [0, 1], ``margin`` in [0, 1),
    ``polish`` in 0..64, ``constraint`` ``"patch"``/``"mean"``, ``betas`` two numbers in [0, 1), switches bools.
    Returns the checked values (floats as ``float``); unknown names are left for the caller.
    """
    values = dict(settings or {}, **more)
    out: dict = {}
    for key, value in values.items():
        if value is None:
            continue
        name = f"solver setting {key}"
        if key == "lr":
            out[key] = check_positive_float(value, name, max=MAX_LR)
        elif key in ("iterations", "patience"):
            out[key] = check_int(value, name, min=1, max=MAX_ITERATIONS)
        elif key == "polish":
            out[key] = check_int(value, name, min=0, max=64)
        elif key == "lam":
            out[key] = check_positive_float(value, name, max=MAX_LAM)
        elif key == "epsilon":
            eps = check_positive_float(value, name)
            if eps >= MAX_EPSILON:
                raise SettingsError(f"{name} must be below {MAX_EPSILON:g} (an mse on a [-1, 1] image; "
                                 f"ε ≥ {MAX_EPSILON:g} makes every subset trivially feasible), got {short_repr(value)}")
            out[key] = eps
        elif key == "rel_tol":
            out[key] = check_positive_float(value, name, allow_zero=True)
        elif key == "init":
            out[key] = check_positive_float(value, name, allow_zero=True, max=1.0)
        elif key == "margin":
            margin = check_positive_float(value, name, allow_zero=True)
            if margin >= 1:
                raise SettingsError(f"{name} must be below 1, got {short_repr(value)}")
            out[key] = margin
        elif key in ("early_stop", "nested", "restart", "bound_stop"):
            if not isinstance(value, (bool, np.bool_)):
                raise SettingsError(f"{name} must be True or False, got {short_repr(value)}")
            out[key] = bool(value)
        elif key == "constraint":
            if value not in ("patch", "mean"):
                raise SettingsError(f"{name} must be 'patch' or 'mean', got {short_repr(value)}")
            out[key] = value
        elif key == "betas":
            try:
                pair = tuple(float(b) for b in value)
            except (TypeError, ValueError):
                pair = ()
            if len(pair) != 2 or not all(math.isfinite(b) and 0 <= b < 1 for b in pair):
                raise SettingsError(f"{name} must be two numbers in [0, 1), got {short_repr(value)}")
            out[key] = pair
        else:
            out[key] = value
    return out
