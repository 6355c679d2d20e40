"""The front doors (issue 25): each package's public names come from one list, its relative
imports (prsg_widgets._front_door); every name in every ``__all__`` imports and every public
module is reachable as an attribute after only ``import prsg_widgets``.
"""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import prsg_widgets as pw
from prsg_widgets import _front_door


def _tree(path: Path, prefix: str = "prsg_widgets.") -> tuple[list[str], list[str]]:
    """The public packages and modules under ``path``, from the files (nothing imported)."""
    packages, modules = [], []
    for info in pkgutil.iter_modules([str(path)]):
        if not info.name.startswith("_"):
            modules.append(prefix + info.name)
            if info.ispkg:
                packages.append(prefix + info.name)
                more = _tree(path / info.name, f"{prefix}{info.name}.")
                packages += more[0]
                modules += more[1]
    return packages, modules


# one fresh interpreter per package: in a used one, modules other imports loaded hide a missing door
_CHECK = textwrap.dedent("""
    import importlib, json, sys
    import prsg_widgets
    name, children = sys.argv[1], sys.argv[2:]
    torch_at_import = "torch" in sys.modules
    pkg = prsg_widgets
    for part in name.split(".")[1:]:
        pkg = getattr(pkg, part)
    listed = set(dir(pkg))  # before any child is touched
    problems = [f"{name}.{c}: not in dir()" for c in children if c not in listed]
    for child in children:
        try:
            obj = getattr(pkg, child)
        except AttributeError as exc:
            problems.append(f"{name}.{child}: not reachable ({exc})")
            continue
        module = importlib.import_module(f"{name}.{child}")
        # metrics.dense_control is the function dense_control of the module metrics/dense_control.py
        if obj is not module and obj is not getattr(module, child, None):
            problems.append(f"{name}.{child}: the attribute is {obj!r}, not the module nor its namesake")
    exported = getattr(pkg, "__all__", None)
    if exported is None:
        problems.append(f"{name}: no __all__")
    else:
        if len(set(exported)) != len(exported):
            problems.append(f"{name}: __all__ repeats a name")
        problems += [f"{name}: dir() lacks {p}" for p in exported if p not in listed]
        for public in exported:
            try:
                getattr(pkg, public)
            except AttributeError as exc:
                problems.append(f"{name}.{public}: {exc}")
    print(json.dumps({"torch_at_import": torch_at_import, "problems": problems}))
""")


def test_every_public_name_imports_and_every_public_module_is_reachable():
    """After only ``import prsg_widgets``, each package lists its modules and names in dir() and
    gives each by attribute (the backend's hand-kept list missed three modules).
    """
    root = Path(pw.__file__).parent
    packages, modules = _tree(root)
    assert {"prsg_widgets.backend", "prsg_widgets.models", "prsg_widgets.sweep"} <= set(packages)
    problems = []
    for name in ["prsg_widgets", *packages]:
        children = [m.rsplit(".", 1)[1] for m in modules if m.rsplit(".", 1)[0] == name]
        out = subprocess.run([sys.executable, "-c", _CHECK, name, *children], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert not report["torch_at_import"]              # `import prsg_widgets` stays light
        problems += report["problems"]
    assert problems == [], "\n".join(problems)


def test_all_is_the_import_list():
    """What the type checker reads (the imports) is what __all__ and dir() say, in order."""
    from prsg_widgets import metrics, models, sweep

    for pkg, own in ((pw, ["explore", "sweep", "__version__"]), (metrics, []), (models, []),
                     (sweep, ["make_client"])):
        assert pkg.__all__ == [*_front_door.public_names(pkg.__file__), *own]
    assert "register_model" in pw.__all__ and pw.register_model is models.register_model
    assert {"registry", "toy_scenes", "split"} <= set(dir(models))  # modules too, for tab completion
    assert metrics.transferability.__module__ == "prsg_widgets.metrics.transferability"  # the function
    with pytest.raises(AttributeError, match="module 'prsg_widgets' has no attribute 'Explaner'"):
        pw.Explaner  # noqa: B018


def _package(tmp_path, monkeypatch, name: str, init: str, modules: dict[str, str]):
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text(textwrap.dedent(init))
    for mod, text in modules.items():
        (root / f"{mod}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    import importlib

    return importlib.import_module(name)


HEADER = """
    from typing import TYPE_CHECKING
    from prsg_widgets import _front_door
"""


def test_lazy_names_load_on_first_use(tmp_path, monkeypatch):
    pkg = _package(tmp_path, monkeypatch, "fd_lazy", HEADER + """
    from .eager import ONE
    if TYPE_CHECKING:
        from .lazy import TWO
        from .lazy import TWO as DEUX
        from . import other
    __getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__, also=["own"])
    """, {"eager": "ONE = 1\n", "lazy": "TWO = 2\n", "other": "X = 0\n", "_private": "", "extra": "Y = 3\n"})
    assert pkg.__all__ == ["ONE", "TWO", "DEUX", "other", "own"]
    assert "fd_lazy.lazy" not in sys.modules                          # nothing lazy imported yet
    assert (pkg.ONE, pkg.TWO, pkg.DEUX, pkg.other.X, pkg.extra.Y) == (1, 2, 2, 0, 3)
    assert "TWO" in vars(pkg)                                        # kept: __getattr__ runs once
    assert "_private" not in dir(pkg) and {"extra", "lazy", "TWO"} <= set(dir(pkg))
    with pytest.raises(AttributeError):
        pkg._private  # noqa: B018 - private modules are not front-door names


@pytest.mark.parametrize("block, message", [
    ("    from .clash import clash\n", "clash name both a lazy name and a module; import it at the top"),
    ("    import os\n", "holds only 'from .module import Name' lines"),
    ("    from .lazy import TWO\n    from .eager import TWO\n", "'TWO' is imported twice"),
])
def test_a_front_door_that_cannot_work_fails_at_import(tmp_path, monkeypatch, block, message):
    init = (HEADER + "    if TYPE_CHECKING:\n" + textwrap.indent(block, "    ")
            + "    __getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)\n")
    with pytest.raises(ImportError, match=message):
        _package(tmp_path, monkeypatch, "fd_bad", init, {"clash": "def clash(): pass\n", "lazy": "TWO = 2\n",
                                                         "eager": "TWO = 1\n"})
