"""Split a generator ``G`` at an intermediate layer into ``head: z -> f`` and ``tail: f -> x``.

The paper explains the feature ``f`` of one layer; everything before it is the *head*, everything
after it the *tail* ``g`` (``docs/theory.md`` §1).  The split works on any ``torch.nn.Module``:

* the head runs the module with a forward hook on the layer that captures its output and stops;
* the tail runs only the modules after the layer when the layer sits inside ``nn.Sequential``
  containers all the way up to a sequential body (the common generator stack); otherwise it re-runs
  the whole module with a hook that *replaces* the layer's output by the given feature, so models
  with skip connections stay correct (the code then decides the paths that bypass the layer).
* that re-run repeats the head on every solver iteration (on BigGAN-deep-128, a quarter to a half
  of a tail call).  The *replay* path avoids it: once per code it records the output of every submodule call
  that finishes before the split layer runs (a value computed before the layer cannot depend on
  it), then each tail call runs the forward with those calls answered from the record, the layer
  answered with the feature, and only the glue code of the enclosing ``forward`` methods re-run.
  It is checked against the hook path when the split is made and used only when they agree
  (the recording and replaying live in :mod:`prsg_widgets.models._head_replay`).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..core.validate import LayerNotFoundError, check_layer_name  # LayerNotFoundError: re-exported
from ._head_replay import REPLAY_LOCK, HeadRecord, Replaying, StopForward, record_head

CodeSampler = Callable[[int, torch.Generator], Tensor]
"""``sampler(batch, generator) -> code`` draws ``batch`` codes with the given torch RNG."""


def _resolve_layer(module: nn.Module, layer: str | nn.Module) -> tuple[str, nn.Module]:
    names = {name: sub for name, sub in module.named_modules() if name}
    if isinstance(layer, nn.Module):
        for name, sub in names.items():
            if sub is layer:
                return name, sub
        raise LayerNotFoundError("the layer module given is not a submodule of the generator")
    check_layer_name(layer, names, where=f" in {type(module).__name__}")
    return layer, names[layer]


def _sequential_tail(module: nn.Module, layer_name: str) -> list[nn.Module] | None:
    """Modules that run after ``layer_name``, if every ancestor up to a sequential body is
    ``nn.Sequential`` and that body is the last thing ``module`` does; else ``None``.
    """
    parts = layer_name.split(".")
    chain: list[tuple[nn.Module, str]] = []
    node: nn.Module = module
    for p in parts:
        chain.append((node, p))
        node = getattr(node, p)
    # Walk up from the layer while the parent is Sequential, collecting the later siblings.
    tail: list[nn.Module] = []
    depth = len(chain) - 1
    while depth >= 0:
        parent, child = chain[depth]
        if not isinstance(parent, nn.Sequential):
            break
        names = [n for n, _ in parent.named_children()]
        tail.extend(getattr(parent, n) for n in names[names.index(child) + 1:])
        depth -= 1
    if depth < 0:
        return tail  # the model itself is Sequential
    parent, child = chain[depth]
    # The parent is a custom module: accept only when its *last* step is the sequential child we
    # climbed out of (checked at run time by comparing with the full forward, see SplitGenerator).
    if depth == len(chain) - 1:
        return None  # the layer's direct parent is not Sequential
    return tail


TAIL_PATHS = ("sequential", "replay", "hook")
"""How :meth:`SplitGenerator.tail` runs ``g``: ``sequential`` (only the modules after the layer),
``replay`` (the forward with the head answered from a per-code record) or ``hook`` (the whole
forward re-run, the layer's output replaced)."""


@dataclass
class SplitGenerator:
    """A generator cut at one layer: ``image = tail(head(code))``.

    Attributes follow the notation of ``docs/theory.md`` §1: ``code`` → ``feature`` → ``image``.
    ``value_range`` is the image range (DCGAN: (-1, 1)); ``feature_shape`` the layer output shape
    without the batch dimension, so ``d = prod(feature_shape)``.
    """

    name: str
    module: nn.Module
    layer: str
    sample_codes: CodeSampler
    value_range: tuple[float, float] = (-1.0, 1.0)
    feature_shape: tuple[int, ...] = ()
    image_shape: tuple[int, ...] = ()
    description: str = ""
    extras: dict = field(default_factory=dict)
    _layer_module: nn.Module = field(init=False, repr=False)
    _fast_tail: list[nn.Module] | None = field(init=False, repr=False, default=None)
    _baselines: dict = field(init=False, repr=False, default_factory=dict)
    _fingerprint: str | None = field(init=False, repr=False, default=None)
    _replay_ok: bool = field(init=False, repr=False, default=False)
    _records: OrderedDict[int, HeadRecord] = field(init=False, repr=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.layer, self._layer_module = _resolve_layer(self.module, self.layer)
        self.module.eval()
        for p in self.module.parameters():
            p.requires_grad_(False)  # the solver optimises masks only; no weight gradients
        code = self.sample_codes(1, torch.Generator().manual_seed(0)).to(self.device)
        try:
            with torch.no_grad():
                feat = self.head(code)
                image = self.module(code)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:  # a code the module cannot take
            raise ValueError(
                f"the generator cannot run on a code of shape {tuple(code.shape)} made by sample_codes "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); give sample_codes the shape of one "
                "code without the batch dimension, e.g. sample_codes=(latent_dim,) or (latent_dim, 1, 1)") from None
        self.feature_shape = tuple(feat.shape[1:])
        self.image_shape = tuple(image.shape[1:])
        candidate = _sequential_tail(self.module, self.layer)
        if candidate is not None:
            with torch.no_grad():
                self._fast_tail = candidate
                try:
                    ok = torch.allclose(self._run_fast_tail(feat), image, atol=1e-5, rtol=1e-4)
                except Exception:
                    ok = False
            if not ok:
                self._fast_tail = None
        if self._fast_tail is None:
            self._replay_ok = self._check_replay(code, feat)

    def _check_replay(self, code: Tensor, feat: Tensor) -> bool:
        """Use the replay tail only when it saves work and matches the hook tail."""
        try:
            with torch.no_grad():
                _, record = record_head(self.module, self._layer_module, code)
                if not record.calls:
                    return False  # nothing finishes before the layer: nothing to save
                self._replay_ok = True
                feats = torch.cat([feat, 0.5 * feat.flip(-1)])
                ref = self.tail(feats, code, path="hook")
                ok = all(  # twice: the second call reuses the record's copies
                    torch.allclose(self.tail(feats, code, path="replay"), ref, atol=1e-5, rtol=1e-4)
                    for _ in range(2)
                )
        except Exception:
            ok = False
        self._records.clear()
        return ok

    # ------------------------------------------------------------------ basic maps
    @property
    def device(self) -> torch.device:
        """The device of the generator's parameters (the CPU for one without any)."""
        for p in self.module.parameters():
            return p.device
        return torch.device("cpu")

    @property
    def d(self) -> int:
        """Flattened feature size."""
        n = 1
        for s in self.feature_shape:
            n *= s
        return n

    def to(self, device: str | torch.device) -> SplitGenerator:
        """Move the generator (and its cached baselines) to ``device``; returns itself."""
        self.module.to(device)
        self._baselines = {k: v.to(device) for k, v in self._baselines.items()}
        self._records.clear()
        return self

    @property
    def tail_path(self) -> str:
        """The path :meth:`tail` takes by default: one of :data:`TAIL_PATHS`."""
        return "sequential" if self._fast_tail is not None else "replay" if self._replay_ok else "hook"

    @property
    def tail_paths(self) -> tuple[str, ...]:
        """Every path :meth:`tail` can take for this split (``hook`` always works)."""
        return tuple(p for p in TAIL_PATHS if p == "hook" or p == self.tail_path)

    def head(self, code: Tensor) -> Tensor:
        """``f = head(z)``: the split layer's output for a batch of codes, shape ``(B, *feature_shape)``."""
        captured: list[Tensor] = []

        def hook(_m, _inp, out):
            captured.append(out)
            raise StopForward

        handle = self._layer_module.register_forward_hook(hook)
        try:
            self.module(code)
        except StopForward:
            pass
        finally:
            handle.remove()
        if not captured:
            raise RuntimeError(f"layer {self.layer!r} was not called by {type(self.module).__name__}.forward")
        return captured[0]

    def _run_fast_tail(self, feature: Tensor) -> Tensor:
        x = feature
        for m in self._fast_tail or []:
            x = m(x)
        return x

    def tail(self, feature: Tensor, code: Tensor | None = None, *, path: str | None = None) -> Tensor:
        """``x = g(f)`` for a batch of features ``(B, *feature_shape)`` or flattened ``(B, d)``.

        ``code`` is only used by models whose tail cannot be cut out of the module (skip
        connections): there the forward runs on ``code`` with the layer output replaced — by
        default replaying the head recorded once per code (:attr:`tail_path` ``"replay"``), else
        re-running it (``"hook"``).  ``path`` forces one of :attr:`tail_paths`.
        """
        feature = feature.reshape(feature.shape[0], *self.feature_shape)
        path = path or self.tail_path
        if path not in self.tail_paths:
            raise ValueError(f"tail path {path!r} is not available for this split; available: {self.tail_paths}")
        if path == "sequential":
            return self._run_fast_tail(feature)
        if code is None:
            code = self.sample_codes(1, torch.Generator().manual_seed(0)).to(feature.device)
        if path == "replay" and not code.requires_grad and code.shape[0] in (1, feature.shape[0]):
            return self._replay_tail(feature, code)
        if code.shape[0] != feature.shape[0]:
            code = code.expand(feature.shape[0], *code.shape[1:])
        handle = self._layer_module.register_forward_hook(lambda _m, _i, _o: feature)
        try:
            return self.module(code)
        finally:
            handle.remove()

    def _record_for(self, code: Tensor) -> HeadRecord:
        """The head record of ``code`` (recorded on first use; the last 2 codes are kept)."""
        for key, rec in self._records.items():
            c = rec.code
            if c.shape == code.shape and c.device == code.device and c.dtype == code.dtype and torch.equal(c, code):
                self._records.move_to_end(key)
                return rec
        _, rec = record_head(self.module, self._layer_module, code)
        self._records[id(rec)] = rec
        while len(self._records) > 2:
            self._records.popitem(last=False)
        return rec

    def _replay_tail(self, feature: Tensor, code: Tensor) -> Tensor:
        with REPLAY_LOCK:
            record = self._record_for(code)
            if code.shape[0] != feature.shape[0]:
                code = code.expand(feature.shape[0], *code.shape[1:])
            with Replaying(self._layer_module, record, feature):
                return self.module(code)

    def generate(self, code: Tensor) -> Tensor:
        """The full forward ``x = G(z)``."""
        return self.module(code)

    # ------------------------------------------------------------------ baseline
    def baseline(self, num_samples: int = 1000, seed: int = 0, batch: int = 250) -> Tensor:
        """``b = E_z[head(z)]`` over ``num_samples`` seeded codes, flattened to ``(d,)``; cached."""
        key = (num_samples, seed)
        if key not in self._baselines:
            rng = torch.Generator().manual_seed(seed)
            total = torch.zeros(self.d, dtype=torch.float64, device=self.device)
            done = 0
            with torch.no_grad():
                while done < num_samples:
                    k = min(batch, num_samples - done)
                    code = self.sample_codes(k, rng).to(self.device)
                    total += self.head(code).reshape(k, -1).double().sum(0)
                    done += k
            self._baselines[key] = (total / num_samples).float()
        return self._baselines[key]

    def fingerprint(self) -> str:
        """A hash of the weights and the split, used in disk-cache keys."""
        if self._fingerprint is None:
            h = hashlib.sha256(f"{self.name}|{self.layer}".encode())
            for k, v in self.module.state_dict().items():
                h.update(k.encode())
                h.update(v.detach().cpu().contiguous().numpy().tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def object_masks(self, code: Tensor) -> Tensor | None:
        """Ground-truth object masks ``(B, K, H, W)`` when the model knows them (toy-scenes), else None."""
        fn = self.extras.get("object_masks")
        return None if fn is None else fn(code)


def layer_names(module: nn.Module) -> list[str]:
    """All dotted submodule names a generator can be split at."""
    return [n for n, _ in module.named_modules() if n]


def split_generator(
    module: nn.Module,
    layer: str | nn.Module,
    sample_codes: CodeSampler | Sequence[int],
    value_range: tuple[float, float] = (-1.0, 1.0),
    name: str | None = None,
    **extras,
) -> SplitGenerator:
    """Split any ``torch.nn.Module`` generator at ``layer`` (dotted name or module object).

    ``sample_codes`` is either ``sampler(batch, torch.Generator) -> code`` or a code shape, in
    which case codes are standard normal of that shape.  Raises :class:`LayerNotFoundError`
    listing the valid names when the layer does not exist.
    """
    if not callable(sample_codes):
        shape = tuple(int(s) for s in sample_codes)

        def sample_codes(batch: int, gen: torch.Generator, _shape=shape) -> Tensor:
            return torch.randn(batch, *_shape, generator=gen)

    return SplitGenerator(
        name=name or type(module).__name__,
        module=module,
        layer=layer,  # type: ignore[arg-type]
        sample_codes=sample_codes,
        value_range=value_range,
        extras=extras,
    )
