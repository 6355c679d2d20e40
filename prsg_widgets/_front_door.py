"""Front doors generated from one list: the relative imports of a package's ``__init__.py``.

A package lists its public names once, as imports the type checker reads — at the top of
``__init__.py`` when they are imported with the package, inside ``if TYPE_CHECKING:`` when they
are imported on first use::

    from .grid import PatchGrid                # eager: imported with the package
    if TYPE_CHECKING:                          # lazy: imported on first use
        from .explainer import Explainer

    __getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)

:func:`attach` reads the same lines back (with :mod:`ast`, at import: well under a millisecond)
and makes ``__all__`` of them, ``dir()`` of them and the package's public modules, and a
``__getattr__`` that imports a lazy name on first use and makes every public module of the
package folder an attribute (``prsg_widgets.backend.persistence`` after only ``import prsg_widgets``).
Names starting with ``_`` are not public.  This is scikit-image's ``lazy_loader.attach_stub``
with the stub kept inside ``__init__.py``: no ``.pyi`` file to ship, and the package's own
functions (``prsg_widgets.explore``) stay visible to the type checker.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["attach", "public_names", "public_modules"]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, file: str | Path) -> Iterator[ast.ImportFrom]:
    """The relative ``from … import …`` statements at the top level and in ``if TYPE_CHECKING:``."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                if not (isinstance(stmt, ast.ImportFrom) and stmt.level):
                    raise ImportError(f"{file}:{stmt.lineno}: the TYPE_CHECKING block of a front door holds only "
                                      "'from .module import Name' lines (it is the list of public names)")
                yield stmt


def public_names(file: str | Path) -> dict[str, tuple[str, str | None]]:
    """Public name → ``(module, attribute)`` from the relative imports of ``file``, in order:
    ``from .store import Store`` gives ``{"Store": (".store", "Store")}``, ``from . import figures``
    gives ``{"figures": (".figures", None)}`` (a module).  A name imported twice is an
    ``ImportError``.
    """
    tree = ast.parse(Path(file).read_text(encoding="utf-8"), filename=str(file))
    names: dict[str, tuple[str, str | None]] = {}
    for stmt in _imports(tree, file):
        base = "." * stmt.level + (stmt.module or "")
        for alias in stmt.names:
            public = alias.asname or alias.name
            if public.startswith("_"):
                continue
            if public in names:
                raise ImportError(f"{file}:{stmt.lineno}: {public!r} is imported twice")
            names[public] = (base, alias.name) if stmt.module else (f"{base}{alias.name}", None)
    return names


def public_modules(file: str | Path) -> list[str]:
    """The modules and subpackages beside ``file`` whose names do not start with ``_``."""
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(file).parent)]) if not m.name.startswith("_"))


def attach(package: str, file: str, also: Iterable[str] = ()) -> tuple[
        Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` of the package ``package`` whose ``__init__.py`` is
    ``file`` (call it at the end of that file): ``__all__`` is :func:`public_names`, then ``also``
    (names the package defines itself); the names not bound yet (the ``TYPE_CHECKING`` ones) and
    the :func:`public_modules` are imported on first use and then kept in the package.

    A lazy name equal to a module's name is refused (the first import of that module would set
    the module in its place); import such a name at the top, as ``metrics`` does with
    ``from .dense_control import dense_control``.
    """
    names = public_names(file)
    modules = public_modules(file)
    bound = vars(sys.modules[package])
    lazy = {n: where for n, where in names.items() if n not in bound}
    clash = sorted(n for n, (_, attr) in lazy.items() if n in modules and attr is not None)
    if clash:
        raise ImportError(f"{package}: {', '.join(clash)} name both a lazy name and a module; import "
                          f"{'it' if len(clash) == 1 else 'them'} at the top of {file}")
    everything = [*names, *also]

    def __getattr__(name: str) -> Any:
        if name in lazy:
            where, attr = lazy[name]
            module = importlib.import_module(where, package)
            value = module if attr is None else getattr(module, attr)
        elif name in modules:
            value = importlib.import_module(f".{name}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(everything) | set(modules))

    return __getattr__, __dir__, everything
