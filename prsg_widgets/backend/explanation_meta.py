""":class:`ExplanationMeta`: where an explanation came from — model, layer, grid, shapes, solver
settings, sample and package version.

It is both a frozen record (``meta.model``) and a read-only mapping (``meta["model"]``,
``meta.get("seed")``, ``dict(meta)``), so code written for either reading works.  Saved files keep
it as the JSON object of :meth:`ExplanationMeta.as_dict` (file format unchanged).
"""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from .persistence.store import FORMAT

__all__ = ["ExplanationMeta"]


@dataclass(frozen=True)
class ExplanationMeta(Mapping[str, Any]):
    """Where an explanation came from: enough to check it against an explainer and to redo it.

    Read it as attributes or as a read-only mapping of the same fields::

        e.meta.model == e.meta["model"]
        e.meta.get("seed")            # None for an explanation of an image, not a seed
        dict(e.meta)                  # every field; as_dict() gives the JSON form saved in files

    ``solver`` (the solver settings) is read-only too.
    """

    model: str
    layer: str
    grid: int
    image_shape: tuple[int, ...]
    value_range: tuple[float, float]
    feature_shape: tuple[int, ...]
    solver: Mapping[str, Any] = field(default_factory=dict, hash=False)
    fingerprint: str = ""
    baseline_samples: int = 0
    baseline_seed: int = 0
    seed: int | None = None
    label: str = ""
    version: str = ""
    format: int = FORMAT
    precision: str = "fp32"
    """The precision the generator's tail ran in while solving (``"fp32"`` or ``"bf16"``); files
    written before it was recorded were solved in fp32."""

    def __post_init__(self) -> None:
        # A copy behind a read-only view: the caller's dict and this record cannot change each other.
        object.__setattr__(self, "solver", MappingProxyType(dict(self.solver)))

    # ------------------------------------------------------------------ mapping
    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or key not in self.__dataclass_fields__:
            raise KeyError(f"{key!r} is not a field of the explanation's metadata; "
                           f"fields: {', '.join(self.__dataclass_fields__)}")
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)

    def __reduce__(self) -> tuple:
        # The read-only solver view cannot be pickled or deep-copied; the JSON form can.
        return (type(self).from_dict, (self.as_dict(),))

    # ------------------------------------------------------------------ files
    def as_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready copy (shapes and range as lists): what a saved file holds."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["solver"] = copy.deepcopy(dict(self.solver))
        d["image_shape"], d["feature_shape"] = list(self.image_shape), list(self.feature_shape)
        d["value_range"] = list(self.value_range)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExplanationMeta:
        """The inverse of :meth:`as_dict`; keys it does not know (from a newer version) are ignored."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k in ("image_shape", "feature_shape", "value_range"):
            if k in known and known[k] is not None:
                known[k] = tuple(known[k])
        return cls(**known)

    # ------------------------------------------------------------------ checks
    def describe(self) -> str:
        """A one-line summary: model, layer and grid."""
        return f"model {self.model!r} layer {self.layer!r} grid {self.grid}"

    def check_matches(self, other: ExplanationMeta, source: object = "the file") -> None:
        """Refuse an explanation (``self``, read from ``source``) made by another model, layer,
        grid or weights than ``other`` (an explainer's meta): ``ValueError`` naming the explainer
        to make instead.
        """
        same = (self.model == other.model and self.layer == other.layer and self.grid == other.grid
                and tuple(self.image_shape) == tuple(other.image_shape)
                and tuple(self.feature_shape) == tuple(other.feature_shape)
                and (not self.fingerprint or self.fingerprint == other.fingerprint))
        if not same:
            what = ("the same names but other weights" if self.model == other.model and self.layer == other.layer
                    and self.grid == other.grid else self.describe())
            raise ValueError(f"{source} was made with {what}; this explainer has {other.describe()}: "
                             f"load it with Explainer({self.model!r}, layer={self.layer!r}, grid={self.grid}) "
                             "or without an explainer")
