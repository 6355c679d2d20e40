"""The built-in ``"toy-scenes"`` model: a tiny generator of synthetic scenes with known objects.

Every scene is a 32×32 RGB image (values in [-1, 1]) on a dark-grey background with exactly three
objects, drawn in this fixed order (later objects occlude earlier ones):

====  ================  ======================  =========================
 k    object            size                    centre (row, col)
====  ================  ======================  =========================
 0    red square        8×8 px                  from code dims 0, 1
 1    green disc        9 px across             from code dims 2, 3
 2    blue triangle     10 px wide, 9 px tall   from code dims 4, 5
====  ================  ======================  =========================

The code ``z`` is a standard-normal vector of ``CODE_DIM = 8``.  Object ``k``'s centre is
``lo + (hi - lo) * Phi(z[2k], z[2k+1])`` with ``Phi`` the standard-normal CDF, so positions are
uniform over the range that keeps the objects inside the image.  Code dims 6 and 7 are unused
(the generator learns to ignore them).  Edges are anti-aliased (analytic pixel coverage), so the
image is a smooth function of the code.

:func:`render_scenes` draws the scenes and returns the ground-truth visible mask of every object;
:class:`ToyGenerator` is a DCGAN-like decoder trained by :func:`train_toy_generator` (supervised
regression code → rendered scene, ~30 s on two CPU cores) and cached on disk by
:func:`load_toy_scenes`, which returns it split at a layer (:class:`~.split.SplitGenerator`).

Layer names of ``ToyGenerator`` (``main`` is one ``nn.Sequential``, so the split has a fast
sequential tail; output shapes without the batch dimension)::

    main.0   Linear(8 -> 128)                (128,)
    main.1   ReLU                            (128,)
    main.2   Linear(128 -> 2048)             (2048,)
    main.3   Unflatten                       (128, 4, 4)
    main.4   BatchNorm2d(128)                (128, 4, 4)
    main.5   ReLU                            (128, 4, 4)
    main.6   ConvTranspose2d(128 -> 64)      (64, 8, 8)
    main.7   BatchNorm2d(64)                 (64, 8, 8)
    main.8   ReLU                            (64, 8, 8)     DEFAULT_LAYER, d = 4096
    main.9   ConvTranspose2d(64 -> 32)       (32, 16, 16)
    main.10  BatchNorm2d(32)                 (32, 16, 16)
    main.11  ReLU                            (32, 16, 16)   CHEAP_LAYER, d = 8192
    main.12  ConvTranspose2d(32 -> 16)       (16, 32, 32)
    main.13  BatchNorm2d(16)                 (16, 32, 32)
    main.14  ReLU                            (16, 32, 32)
    main.15  Conv2d(16 -> 3, 3x3)            (3, 32, 32)
    main.16  Tanh                            (3, 32, 32)

The small hidden layer in front of the usual DCGAN projection (``main.0``/``main.1``) turns the
code into object positions much faster than the bare ``Linear(8 -> 2048)``: with the same training
budget it halves the reconstruction error.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import uuid
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from .priors import union_of_objects
from .split import SplitGenerator, split_generator

__all__ = [
    "CODE_DIM",
    "IMAGE_SIZE",
    "NUM_OBJECTS",
    "OBJECT_NAMES",
    "DEFAULT_LAYER",
    "CHEAP_LAYER",
    "CACHE_VERSION",
    "TRAIN_STEPS",
    "ToyGenerator",
    "render_scenes",
    "object_centres",
    "sample_codes",
    "train_toy_generator",
    "cache_path",
    "load_toy_scenes",
]

CODE_DIM = 8
"""Size of the code ``z`` (standard normal)."""
IMAGE_SIZE = 32
"""Height and width of the scenes."""
NUM_OBJECTS = 3
"""Objects per scene: red square, green disc, blue triangle (in drawing order)."""
OBJECT_NAMES = ("red square", "green disc", "blue triangle")
"""Names of the objects, indexed like the mask channels of :func:`render_scenes`."""
DEFAULT_LAYER = "main.8"
"""The ReLU at 8×8 resolution, feature shape (64, 8, 8)."""
CHEAP_LAYER = "main.11"
"""The ReLU at 16×16 resolution, feature shape (32, 16, 16): the shortest tail to re-run."""
CACHE_VERSION = "v1"
"""Bump when the renderer, the architecture or the training recipe changes."""
TRAIN_STEPS = 1800
"""Training steps used by :func:`load_toy_scenes` when it has to train (~30 s on two CPU cores)."""
_TRAIN_BATCH = 16
_TRAIN_LR = 5e-3
_TRAIN_SEED = 0

_BACKGROUND = (-0.6, -0.6, -0.6)
_COLOURS = (
    (0.85, -0.75, -0.75),  # red square
    (-0.75, 0.75, -0.75),  # green disc
    (-0.7, -0.6, 0.85),  # blue triangle
)
_SQUARE_HALF = 4.0  # 8 px side
_DISC_RADIUS = 4.5  # 9 px across
_TRI_HALF_HEIGHT = 4.5  # 9 px tall
_TRI_HALF_BASE = 5.0  # 10 px wide
_MARGIN = 6.0  # centre range [_MARGIN, IMAGE_SIZE - _MARGIN] keeps every object inside


# ---------------------------------------------------------------------------------- rendering
def object_centres(code: Tensor) -> Tensor:
    """Centres ``(B, NUM_OBJECTS, 2)`` as continuous (row, col) pixel coordinates in [0, 32].

    Pixel ``i`` spans ``[i, i + 1)``; object ``k`` takes code dims ``2k`` (row) and ``2k+1`` (col)
    through the standard-normal CDF, so the centres are uniform over ``[6, 26]``.
    """
    if code.dim() != 2 or code.shape[1] != CODE_DIM:
        raise ValueError(f"code must have shape (B, {CODE_DIM}), got {tuple(code.shape)}")
    u = 0.5 * (1.0 + torch.erf(code[:, : 2 * NUM_OBJECTS].float() / math.sqrt(2.0)))
    lo, hi = _MARGIN, IMAGE_SIZE - _MARGIN
    return (lo + (hi - lo) * u).reshape(-1, NUM_OBJECTS, 2)


def _coverage(centres: Tensor) -> Tensor:
    """Anti-aliased coverage in [0, 1] of each object alone, ``(B, NUM_OBJECTS, H, W)``."""
    n = IMAGE_SIZE
    pix = torch.arange(n, dtype=torch.float32, device=centres.device) + 0.5
    rows = pix.view(1, n, 1)  # (1, H, 1)
    cols = pix.view(1, 1, n)  # (1, 1, W)

    def centre(k: int) -> tuple[Tensor, Tensor]:
        return centres[:, k, 0].view(-1, 1, 1), centres[:, k, 1].view(-1, 1, 1)

    # Square: exact box coverage = product of the 1-D overlaps of pixel and square.
    r, c = centre(0)
    cov_r = (_SQUARE_HALF + 0.5 - (rows - r).abs()).clamp(0, 1)
    cov_c = (_SQUARE_HALF + 0.5 - (cols - c).abs()).clamp(0, 1)
    square = cov_r * cov_c
    # Disc: signed distance to the circle, 1-px ramp.
    r, c = centre(1)
    dist = ((rows - r) ** 2 + (cols - c) ** 2).sqrt()
    disc = (_DISC_RADIUS + 0.5 - dist).clamp(0, 1)
    # Triangle pointing up: min over its three edges of the signed distance (inside positive).
    r, c = centre(2)
    dr, dc = rows - r, cols - c
    base = _TRI_HALF_HEIGHT - dr
    # Side edges through the apex (-h, 0) and the base corners (h, ±b): inside when
    # 2h·|dc| <= b·(dr + h); divided by the normal's length to get a distance in pixels.
    h, b = _TRI_HALF_HEIGHT, _TRI_HALF_BASE
    norm = math.hypot(2 * h, b)
    side = (b * (dr + h) - 2 * h * dc.abs()) / norm
    tri = (torch.minimum(base, side) + 0.5).clamp(0, 1)
    return torch.stack([square, disc, tri], dim=1)


def render_scenes(code: Tensor) -> tuple[Tensor, Tensor]:
    """Render the scenes of a batch of codes ``(B, 8)``.

    Returns ``images`` ``(B, 3, 32, 32)`` float in [-1, 1] and ``masks`` ``(B, 3, 32, 32)`` bool,
    where ``masks[:, k]`` is the visible part of object ``k`` (its coverage times the transparency of
    everything drawn after it > 0.5).  The masks are disjoint; the triangle (drawn last) is never
    occluded, the square (drawn first) is hidden completely in about 7 of 100 000 scenes.
    Deterministic; runs on ``code``'s device.
    """
    alpha = _coverage(object_centres(code))  # (B, K, H, W)
    dev = alpha.device
    bg = torch.tensor(_BACKGROUND, device=dev).view(1, 3, 1, 1)
    image = bg.expand(alpha.shape[0], 3, IMAGE_SIZE, IMAGE_SIZE).clone()
    for k in range(NUM_OBJECTS):
        a = alpha[:, k : k + 1]
        colour = torch.tensor(_COLOURS[k], device=dev).view(1, 3, 1, 1)
        image = image * (1 - a) + colour * a
    # Visible weight of object k: its alpha times the transparency of everything in front of it.
    visible = alpha.clone()
    for k in range(NUM_OBJECTS):
        for j in range(k + 1, NUM_OBJECTS):
            visible[:, k] = visible[:, k] * (1 - alpha[:, j])
    return image, visible > 0.5  # the visible weights sum to <= 1: at most one exceeds 0.5


def sample_codes(batch: int, gen: torch.Generator) -> Tensor:
    """The code sampler of ``"toy-scenes"``: ``torch.randn(batch, 8, generator=gen)``."""
    return torch.randn(batch, CODE_DIM, generator=gen)


def _object_masks(code: Tensor) -> Tensor:
    """Ground-truth visible object masks ``(B, 3, 32, 32)`` bool of the rendered scenes."""
    return render_scenes(code)[1]


# ---------------------------------------------------------------------------------- generator
class ToyGenerator(nn.Module):
    """DCGAN-like decoder ``code (B, 8) -> image (B, 3, 32, 32)`` in [-1, 1].

    Everything lives in one ``nn.Sequential`` ``main`` (see the module docstring for layer names).
    """

    def __init__(self, code_dim: int = CODE_DIM, ngf: int = 16, hidden: int = 128) -> None:
        super().__init__()
        self.code_dim = code_dim
        c4, c8, c16, c32 = 8 * ngf, 4 * ngf, 2 * ngf, ngf
        self.main = nn.Sequential(
            nn.Linear(code_dim, hidden),  # 0
            nn.ReLU(),  # 1
            nn.Linear(hidden, c4 * 4 * 4),  # 2
            nn.Unflatten(1, (c4, 4, 4)),  # 3
            nn.BatchNorm2d(c4),  # 4
            nn.ReLU(),  # 5   4x4
            nn.ConvTranspose2d(c4, c8, 4, 2, 1, bias=False),  # 6
            nn.BatchNorm2d(c8),  # 7
            nn.ReLU(),  # 8   8x8   DEFAULT_LAYER
            nn.ConvTranspose2d(c8, c16, 4, 2, 1, bias=False),  # 9
            nn.BatchNorm2d(c16),  # 10
            nn.ReLU(),  # 11  16x16 CHEAP_LAYER
            nn.ConvTranspose2d(c16, c32, 4, 2, 1, bias=False),  # 12
            nn.BatchNorm2d(c32),  # 13
            nn.ReLU(),  # 14  32x32
            nn.Conv2d(c32, 3, 3, 1, 1),  # 15
            nn.Tanh(),  # 16
        )

    def forward(self, code: Tensor) -> Tensor:
        """Generate images ``(B, 3, 32, 32)`` from codes ``(B, 8)``."""
        return self.main(code)


def train_toy_generator(
    steps: int = TRAIN_STEPS,
    seed: int = _TRAIN_SEED,
    progress: bool = True,
    batch: int = _TRAIN_BATCH,
    lr: float = _TRAIN_LR,
) -> ToyGenerator:
    """Train a :class:`ToyGenerator` to reproduce :func:`render_scenes` (MSE regression, Adam).

    Fresh seeded codes every step (training data is rendered on the fly); the learning rate follows
    a one-cycle schedule.  Runs on the CPU; returns the model in eval mode.
    """
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = ToyGenerator()
    model.train()
    data_rng = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.15)
    bar = tqdm(range(steps), desc="training toy-scenes generator", disable=None if progress else True)
    for _ in bar:
        code = sample_codes(batch, data_rng)
        target, _ = render_scenes(code)
        loss = nn.functional.mse_loss(model(code), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(mse=f"{loss.item():.4f}", refresh=False)
    model.eval()
    return model


# ---------------------------------------------------------------------------------- cache
def cache_path() -> Path:
    """Where the trained weights are cached: ``$PRSG_CACHE_DIR`` or the user cache dir."""
    root = os.environ.get("PRSG_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("prsg_widgets")
    elif Path(root).exists() and not Path(root).is_dir():
        from ..core.errors import SettingsError

        raise SettingsError(f"PRSG_CACHE_DIR={root} is a file, not a folder: point it at a folder, or unset it "
                            "to use the user cache folder")
    return Path(root) / f"toy-scenes-{CACHE_VERSION}.pt"


def _recipe(steps: int) -> dict:
    """What the cached weights depend on besides the code: stored with them and checked on load."""
    return {"version": CACHE_VERSION, "steps": int(steps), "seed": _TRAIN_SEED, "batch": _TRAIN_BATCH,
            "lr": _TRAIN_LR}


def _save_atomic(obj: dict, path: Path) -> None:
    """``torch.save`` to a temporary file in the target folder, then ``os.replace`` it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    # 0o666 and the umask, as the solve cache: mkstemp's 0600 kept other users of a shared cache
    # folder from reading the weights, so they retrained and then could not replace the file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load_cached(path: Path, steps: int) -> ToyGenerator | None:
    """The cached model, or ``None`` (with a warning) when the file is unreadable or stale."""
    try:
        saved = torch.load(path, weights_only=True, map_location="cpu")
        if not isinstance(saved, dict) or saved.get("recipe") != _recipe(steps):
            raise ValueError("not toy-scenes weights of this version and training recipe")
        model = ToyGenerator()
        model.load_state_dict(saved["state_dict"])
    except Exception as exc:  # corrupt, truncated, stale, or from another architecture
        warnings.warn(
            f"toy-scenes weight cache {str(path)!r} is unusable ({type(exc).__name__}: {exc}); "
            "retraining and overwriting it",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    model.eval()
    return model


def _trained_model(retrain: bool = False, progress: bool = True) -> ToyGenerator:
    """Load the cached weights, or train (and cache) them."""
    path = cache_path()
    steps = TRAIN_STEPS  # read at call time (tests shrink it)
    model = None
    if path.exists() and not retrain:
        model = _load_cached(path, steps)
    if model is None:
        # one process trains, the others wait for its file: concurrent kernels sharing two cores
        # would otherwise each train and all take many times longer
        with _training_lock(path):
            if path.exists() and not retrain:
                model = _load_cached(path, steps)
            if model is None:
                if progress:  # the bar is hidden off a terminal: say what the wait is, once
                    print(f"toy-scenes: training its generator once ({steps} steps, about 35 s on 2 idle cores, "
                          f"longer on busy ones); the weights are cached in {path}", file=sys.stderr, flush=True)
                model = train_toy_generator(steps=steps, progress=progress)
                _save_atomic({"recipe": _recipe(steps), "state_dict": model.state_dict()}, path)
    return model


@contextlib.contextmanager
def _training_lock(path: Path):
    """An exclusive lock on ``<cache>.lock`` where the platform has ``fcntl`` (else no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_suffix(".lock")
    try:
        fh = open(lock, "a")
    except PermissionError:  # another user's lock file in a shared folder: a read-only fd locks too
        fh = open(lock)
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_toy_scenes(
    layer: str | None = None,
    device: str | torch.device | None = None,
    retrain: bool = False,
    *,
    progress: bool = True,
) -> SplitGenerator:
    """The built-in ``"toy-scenes"`` generator split at ``layer`` (default :data:`DEFAULT_LAYER`).

    Loads cached weights (see :func:`cache_path`), training them first (~30 s on CPU) when the cache
    is missing, corrupt (warns), or ``retrain`` is true.  ``split.object_masks(code)`` returns the
    ground-truth visible masks ``(B, 3, 32, 32)`` of the three objects.  ``progress`` shows a
    progress bar while training (only on a terminal or in a notebook).
    """
    model = _trained_model(retrain=retrain, progress=progress)
    if device is not None:
        model = model.to(device)
    return split_generator(
        model,
        DEFAULT_LAYER if layer is None else layer,
        sample_codes=sample_codes,
        value_range=(-1.0, 1.0),
        name="toy-scenes",
        object_masks=_object_masks,
        foreground=union_of_objects(_object_masks),
    )
