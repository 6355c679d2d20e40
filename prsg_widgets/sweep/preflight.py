"""What a sweep checks before any cluster starts, and how the cluster is reached safely.

* :func:`preflight` — what the settings cannot check without the model, the grid against the
  image and the layer name against the model's layers: built-in architectures are
  built without their weights (milliseconds), so a typo costs no worker and no traceback.
* :func:`probe_scheduler` — before a ``distributed.Client`` joins ``tcp://HOST:PORT``, one
  ``identity`` call under a hard deadline: a port where something else answers, or one that
  accepts connections but never replies, is a one-line ``ValueError`` within the timeout instead
  of a numpy allocation error or a hang.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.errors import SettingsError
from ..core.validate import check_layer_name

if TYPE_CHECKING:  # pragma: no cover
    from ..backend.settings import Settings

__all__ = ["architecture", "preflight", "probe_scheduler"]


def _toy():
    from ..models.toy_scenes import IMAGE_SIZE, ToyGenerator

    return ToyGenerator(), IMAGE_SIZE


def _dcgan():
    from ..models.builtin import DCGANFaces

    return DCGANFaces(), 64


def _eyes():
    from ..models.builtin import Eyes128

    return Eyes128(), 128


_ARCHITECTURES: dict[str, Callable] = {"toy-scenes": _toy, "dcgan-faces": _dcgan, "eyes-128": _eyes}


def architecture(model: str) -> tuple[list[str], int] | None:
    """``(layer names, image size)`` of a built-in model, built without weights; ``None`` for
    models whose architecture is not cheap to build here (BigGAN: checked on the workers).
    """
    build = _ARCHITECTURES.get(model)
    if build is None:
        return None
    from ..models.split import layer_names

    module, size = build()
    return layer_names(module), size


def preflight(settings: Settings) -> None:
    """Refuse, with the explainer's own one-line messages, what every worker would refuse and the
    :class:`~prsg_widgets.backend.settings.Settings` (which checked the patch ids against the
    grid and ``n`` against the patch limit) cannot know without the model: a grid finer than the
    image, a layer the model does not have.
    """
    arch = architecture(settings.model)
    if arch is None:
        return
    names, size = arch
    if settings.grid > size:
        raise SettingsError(f"grid {settings.grid} is finer than the {size}×{size} image; use at most {size}")
    if settings.layer is not None:
        check_layer_name(settings.layer, names, where=f" in {settings.model}")


async def _identity(address: str, timeout: float) -> object:
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout, deserialize=False), timeout)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def probe_scheduler(address: str, timeout: float) -> None:
    """A Dask scheduler answers ``identity`` at ``address`` within ``timeout`` seconds, else a
    one-line ``ValueError`` saying what was found there (nothing, a silent port, something else).
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["reply"] = asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))
        except BaseException as exc:  # noqa: BLE001 - classified below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="prsg-probe-scheduler", daemon=True)
    worker.start()
    worker.join(timeout + 2)
    hint = "start one (`dask scheduler`), check the address, or leave --scheduler out for a local cluster"
    error = outcome.get("error")
    if worker.is_alive() or isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        raise ValueError(f"cannot reach a Dask scheduler at {address} within {timeout:g} s (no answer); {hint}")
    if isinstance(error, OSError):
        raise ValueError(f"cannot reach a Dask scheduler at {address} within {timeout:g} s "
                         f"({type(error).__name__}); {hint}")
    reply = outcome.get("reply")
    if error is not None or not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError(f"something at {address} answered, but not in Dask's protocol; "
                         f"check the port (a scheduler listens on 8786 by default); {hint}")
