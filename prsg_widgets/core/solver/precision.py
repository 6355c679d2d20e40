"""Which precision the generator's tail runs in, and how the ``mixed`` mode splits the work.

``mixed`` (issue 26): bfloat16 is 2–4× faster on a matrix engine (AMX, AVX-512-BF16, bf16 tensor
cores) but its noise moves where a subset's mask settles on the ε boundary, which raised
cancellation from 1.56 to 2.13 when every step ran in bf16.  So only the climb — the Adam steps
between a subset's first evaluation and its stop — runs in bf16; every evaluation that decides
an answer runs in fp32:

* the **first evaluation** on the floor (the bound stop: the floor is the answer when it is
  already within ε);
* the **polish** (its steps settle each element on the boundary of the patches it serves, and its
  last feasible iterate is the answer);
* the **final check** of a subset that stopped on a bf16 evaluation: its chosen mask is evaluated
  in fp32 and leaves only when every patch is within ε there; otherwise it goes on in fp32 (the
  polish, or Adam where the preset has none).

So every reported ``mse``, ``patch_mse`` and ``feasible`` is an fp32 number, as in an fp32 solve.
A row's precision depends only on its own state, and rows of each precision are evaluated in
their own blocks of ``unit``: the result stays independent of the batch, and a resume is bit-identical.
"""
from __future__ import annotations

import torch

from ..validate import check_precision

__all__ = ["bf16_matrix_engine", "resolve_precision"]


def bf16_matrix_engine(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware: a CUDA device with bf16
    support, or a CPU with AMX tiles or AVX-512-BF16 (torch's own CPU probes).  Without one,
    bfloat16 is emulated and slower than fp32.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """The precision a solve on ``device`` runs in: ``precision`` itself, or for ``"auto"``
    ``"mixed"`` where :func:`bf16_matrix_engine` holds and ``"fp32"`` elsewhere.
    """
    precision = check_precision(precision)
    if precision != "auto":
        return precision
    return "mixed" if bf16_matrix_engine(device) else "fp32"
