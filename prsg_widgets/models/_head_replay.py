"""The *replay* tail of a split generator: record the head of a code once, then run the tail as
the whole forward with the recorded calls answered from the record.

Re-running the whole forward for every tail call (the hook path) repeats the head each time.
Instead, once per code, :func:`record_head` keeps the output of every submodule call that
finishes before the split layer runs (a value computed before the layer cannot depend on it).
During a tail call, :class:`Replaying` answers those calls from the record and the layer with the
given feature, so only the glue code of the enclosing ``forward`` methods runs again.
:class:`~prsg_widgets.models.split.SplitGenerator` checks this path against the hook path and
uses it only when they agree.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["HeadRecord", "REPLAY_LOCK", "Replaying", "StopForward", "record_head"]


class StopForward(Exception):
    """Raised from the capture hook: nothing after the split layer is needed for the head."""


def _map_tensors(obj: Any, fn: Callable[[Tensor], Tensor]) -> Any:
    """``fn`` applied to every tensor in nested tuples / lists / dicts; other leaves kept."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(_map_tensors(o, fn) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_tensors(o, fn) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _map_tensors(v, fn)) for k, v in obj.items())
    return obj


def _tensors(obj: Any) -> list[Tensor]:
    out: list[Tensor] = []

    def keep(t: Tensor) -> Tensor:
        out.append(t)
        return t

    _map_tensors(obj, keep)
    return out


class HeadRecord:
    """The head of one code, recorded for the replay tail.

    ``calls`` holds, in call order, ``(module, output)`` for every *top-level* submodule call that
    finished before the split layer ran: a call made directly by a ``forward`` still running when
    the layer was called (the root's, or an ancestor call of the layer).  Replaying the forward with
    those calls answered from the record reproduces every value computed before the layer; their
    inner calls never run.  Outputs are expanded to a batch and copied once per batch size
    (``outputs``); a tail that changes one in place gets a fresh copy next call.
    """

    def __init__(self, code: Tensor, calls: list[tuple[nn.Module, Any]]) -> None:
        self.code = code
        self.calls = calls
        self._copies: OrderedDict[int, tuple[list[Any], list[tuple[Tensor, int]]]] = OrderedDict()

    def outputs(self, batch: int) -> list[Any]:
        """The recorded outputs for a tail batch of ``batch`` (fresh when a previous tail changed
        them); copies for the last two batch sizes are kept (the solver's pool shrinks at the end).
        """
        entry = self._copies.get(batch)
        if entry is not None and all(t._version == v for t, v in entry[1]):
            self._copies.move_to_end(batch)
            return entry[0]
        grow = self.code.shape[0] == 1 and batch != 1

        def copy(t: Tensor) -> Tensor:
            if grow and t.dim() > 0 and t.shape[0] == 1:
                t = t.expand(batch, *t.shape[1:])
            return t.clone()

        outs = [_map_tensors(out, copy) for _, out in self.calls]
        self._copies[batch] = (outs, [(t, t._version) for o in outs for t in _tensors(o)])
        self._copies.move_to_end(batch)
        while len(self._copies) > 2:
            self._copies.popitem(last=False)
        return outs


def record_head(module: nn.Module, layer: nn.Module, code: Tensor) -> tuple[Tensor, HeadRecord]:
    """Run the head once with hooks on every submodule: the feature and its :class:`HeadRecord`."""
    frames: list[int] = [0]  # open calls, by frame id; 0 is the root's forward
    finished: list[tuple[int, nn.Module, Any]] = []  # (parent frame, module, output)
    counter = [0]
    captured: list[Tensor] = []
    open_at_layer: set[int] = set()

    def pre(mod, _inp):
        counter[0] += 1
        frames.append(counter[0])

    def post(mod, _inp, out):
        frames.pop()
        finished.append((frames[-1], mod, out))

    def at_layer(_m, _i, out):
        captured.append(out)
        open_at_layer.update(frames[:-1])  # the layer's own frame is the last one
        raise StopForward

    handles = []
    try:
        for sub in {id(m): m for m in module.modules() if m is not module}.values():
            handles.append(sub.register_forward_pre_hook(pre))
            if sub is not layer:
                handles.append(sub.register_forward_hook(post))
        handles.append(layer.register_forward_hook(at_layer))
        with torch.no_grad():
            try:
                module(code)
            except StopForward:
                pass
    finally:
        for h in handles:
            h.remove()
    if not captured:
        raise RuntimeError("the split layer was not called by the generator's forward")
    calls = [(mod, out) for parent, mod, out in finished if parent in open_at_layer]
    return captured[0], HeadRecord(code.detach().clone(), calls)


class Replaying:
    """Context: during one tail call in this thread, the recorded modules answer from the record
    and the split layer answers with ``feature``; other threads see the original forwards.
    """

    def __init__(self, layer: nn.Module, record: HeadRecord, feature: Tensor) -> None:
        self.layer, self.record, self.feature = layer, record, feature
        self.thread = threading.get_ident()
        self.queues: dict[int, list[Any]] = {}
        for (mod, _), out in zip(record.calls, record.outputs(feature.shape[0]), strict=True):
            self.queues.setdefault(id(mod), []).append(out)
        self.modules = {id(mod): mod for mod, _ in record.calls}
        self.modules[id(layer)] = layer
        self.reached = False
        self.saved: list[tuple[nn.Module, Any]] = []

    def _wrap(self, mod: nn.Module) -> Callable[..., Any]:
        original = mod.forward
        queue = self.queues.get(id(mod), [])
        is_layer = mod is self.layer

        def forward(*args, **kwargs):
            if threading.get_ident() != self.thread:
                return original(*args, **kwargs)
            if is_layer:
                self.reached = True
                return self.feature
            if not self.reached and queue:
                return queue.pop(0)
            return original(*args, **kwargs)

        return forward

    def __enter__(self) -> Replaying:
        try:
            for mod in self.modules.values():
                self.saved.append((mod, mod.__dict__.get("forward")))
                wrapped = self._wrap(mod)
                object.__setattr__(mod, "forward", wrapped)
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for mod, previous in reversed(self.saved):
            if previous is None:
                mod.__dict__.pop("forward", None)
            else:
                object.__setattr__(mod, "forward", previous)
        self.saved.clear()


REPLAY_LOCK = threading.RLock()
"""Replays patch module forwards for their duration: one at a time (other threads still see the
original forwards, see :class:`Replaying`)."""
