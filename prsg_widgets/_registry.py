"""A name → entry table that users extend: the built-in entries, those installed packages declare
as entry points (read on first use), and those registered in this process.

:data:`prsg_widgets.models.MODELS` and :data:`prsg_widgets.sweep.SWEEP_METRICS` are two of them.
The rules are the same for both: built-in names are never replaced nor removed (they name
results users have saved); registering a taken name is an error unless ``replace=True``; an
unknown name is an error that lists the names there are.
"""
from __future__ import annotations

import difflib
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


class Registry(Mapping[str, T], Generic[T]):
    """Name → entry, read-only as a mapping (change it with :meth:`register` / :meth:`unregister`).

    ``check(entry)`` returns the entry or raises a ``ValueError`` naming what is wrong; ``group``
    is the entry-point group read on first use (``None``: none); ``kind`` names an entry in
    messages; ``unknown_error`` / ``exists_error`` are the exception classes raised.
    """

    def __init__(self, builtin: Mapping[str, T], *, kind: str, check: Callable[[T], T],
                 unknown_error: type[Exception] = KeyError, exists_error: type[Exception] = ValueError,
                 group: str | None = None) -> None:
        self._builtin = dict(builtin)
        self._entries = dict(builtin)
        self._local: set[str] = set()
        self._discovered = group is None
        self._lock = threading.RLock()
        self.kind, self.group, self._check = kind, group, check
        self.unknown_error, self.exists_error = unknown_error, exists_error

    # ------------------------------------------------------------------ the mapping
    def _all(self) -> dict[str, T]:
        if not self._discovered:
            self.discover()
        return self._entries

    def __getitem__(self, name: str) -> T:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._all()))

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self)})"

    @property
    def builtin(self) -> tuple[str, ...]:
        """The names that ship with this package (never replaced nor removed)."""
        return tuple(self._builtin)

    @property
    def local(self) -> dict[str, T]:
        """The entries :meth:`register` added in this process (what a cluster's workers lack)."""
        with self._lock:
            return {name: entry for name, entry in self._entries.items() if name in self._local}

    # ------------------------------------------------------------------ changes
    def discover(self) -> None:
        """Read the entry points of :attr:`group` (again).  One that fails to load, fails the
        check or takes a built-in name is skipped with a warning: another package's mistake must
        not stop the built-in entries.  An entry point names an entry or a function returning one.
        """
        from importlib.metadata import entry_points

        with self._lock:
            self._discovered = True
            for ep in entry_points(group=self.group) if self.group else ():
                try:
                    loaded = ep.load()
                    entry = self._check(loaded() if callable(loaded) else loaded)
                    if entry.name in self._builtin:
                        raise ValueError(f"{entry.name!r} is a built-in {self.kind}")
                except Exception as exc:  # noqa: BLE001 - any failure of a third-party package is skipped
                    warnings.warn(f"{self.kind} entry point {ep.name!r} ({ep.value}) skipped: {exc}", stacklevel=2)
                    continue
                if entry.name not in self._local:  # an entry registered in this process wins
                    self._entries[entry.name] = entry

    def register(self, entry: T, replace: bool = False) -> T:
        """Add ``entry`` under ``entry.name``; a taken name is :attr:`exists_error` unless
        ``replace=True``, a built-in name always.
        """
        entry = self._check(entry)
        with self._lock:
            taken = self._all()
            if entry.name in self._builtin:
                raise self.exists_error(f"{entry.name!r} is a built-in {self.kind} and cannot be replaced; "
                                        "register yours under another name")
            if entry.name in taken and not replace:
                raise self.exists_error(f"a {self.kind} named {entry.name!r} is registered already; pass "
                                        "replace=True to replace it, or choose another name")
            self._entries[entry.name] = entry
            self._local.add(entry.name)
        return entry

    def unregister(self, name: str) -> T:
        """Remove an entry :meth:`register` added in this process; returns it."""
        with self._lock:
            if name in self._builtin:
                raise self.exists_error(f"{name!r} is a built-in {self.kind} and cannot be removed")
            if name not in self._local:
                raise self.unknown(name)
            self._local.discard(name)
            return self._entries.pop(name)

    def get_entry(self, name: object) -> T:
        """The entry ``name``, or :meth:`unknown`'s error."""
        if not isinstance(name, str) or name not in self:
            raise self.unknown(name)
        return self[name]

    def unknown(self, name: object) -> Exception:
        """The error for a name that is not here: close matches, then every name."""
        names = list(self)
        close = difflib.get_close_matches(name, names, n=2) if isinstance(name, str) else []
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        others = [n for n in names if n not in self._builtin]
        extra = f"; registered {self.kind}s: {', '.join(others)}" if others else ""
        return self.unknown_error(f"unknown {self.kind} {name!r}; {hint}built-in {self.kind}s: "
                                  f"{', '.join(self._builtin)}{extra} (register_{self.kind}() adds one)")
