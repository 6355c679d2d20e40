"""Sphinx configuration of the prsg_widgets documentation (build: ``bash scripts/docs.sh``)."""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, not whatever prsg_widgets is installed

from prsg_widgets import __version__  # noqa: E402

project = "prsg_widgets"
author = "prsg_widgets contributors"
copyright = "prsg_widgets contributors"
release = __version__
version = __version__

extensions = [
    "myst_nb",  # Markdown (MyST) pages and notebooks; includes myst_parser
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
]

# --- the notebooks: rendered from their saved outputs (and saved widget state), never executed ---
# They live in notebooks/ beside their jupytext scripts; Sphinx reads sources only below docs/, so
# each build copies the .ipynb files into docs/notebooks/ (git-ignored; a copy, not a symlink, so
# the build also works where symlinks do not).  A notebook links the docs as "../docs/PAGE.md",
# which is right in the repository; from docs/notebooks/ the same page is "../PAGE.md".
_NB_OUT = DOCS / "notebooks"
_NB_OUT.mkdir(exist_ok=True)
for _nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
    _text = _nb.read_text(encoding="utf-8").replace("](../docs/", "](../")
    _dest = _NB_OUT / _nb.name
    if not _dest.exists() or _dest.read_text(encoding="utf-8") != _text:
        _dest.write_text(_text, encoding="utf-8")
nb_execution_mode = "off"
nb_merge_streams = True

# --- the site's scripts, served with it (an offline or firewalled reader sees every widget and
# formula; the defaults of myst-nb and Sphinx load them from CDNs at view time) ---
# Each comes from the npm registry at build time, pinned by version and sha512 (npm's "integrity"),
# fetched once with npm's own client into a cache and unpacked into a folder that is added to
# html_static_path.  The front ends of the widget libraries beyond ipywidgets' own (which the
# html-manager bundle holds) come from their installed Python packages, which ship them as AMD
# modules for the classic notebook: the versions that saved the notebooks' widget state.
_NPM = {
    # name: (version, integrity, members of the package to serve, under package/)
    "requirejs": (
        "2.3.7",
        "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
        ["require.js", "LICENSE"],
    ),
    "@jupyter-widgets/html-manager": (
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        # the bundle, and the icon fonts its CSS names (browsers take the woff2/woff ones)
        ["dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "LICENSE"],
    ),
    "mathjax": (
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        # the component Sphinx loads, and what it loads later: TeX extensions on first use, the
        # fonts, the menu and the assistive MathML (on by default)
        ["es5/tex-mml-chtml.js", "es5/input/tex/extensions/**", "es5/output/chtml/fonts/woff-v2/*",
         "es5/a11y/assistive-mml.js", "es5/ui/*", "LICENSE"],
    ),
}
_WIDGET_MODULES = {  # the model module a notebook's saved state names: its AMD file in its package
    "anywidget": "nbextension/index.js",
    "ipycanvas": "nbextension/static/index.js",
}
_VENDOR_DIR = "prsg-vendor"  # under _static/; not "vendor", the theme's own
_VENDOR_CACHE = Path(
    os.environ.get("PRSG_DOCS_VENDOR_CACHE") or Path.home() / ".cache" / "prsg_widgets" / "docs-vendor"
)


def _npm_tarball(name: str, version: str, integrity: str) -> Path:
    """The package's tarball, from the cache or fetched with ``npm pack``; checked against ``integrity``."""
    tgz = _VENDOR_CACHE / "npm" / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not tgz.exists():
        tgz.parent.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                f"the docs serve {name}@{version} from the npm registry, and npm is not installed: "
                f"install Node.js and npm (Debian: apt-get install -y npm), or put the tarball at {tgz}"
            )
        with tempfile.TemporaryDirectory(dir=tgz.parent) as tmp:
            done = subprocess.run(
                [npm, "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                capture_output=True, text=True, timeout=300,
            )
            got = list(Path(tmp).glob("*.tgz"))
            if done.returncode != 0 or len(got) != 1:
                raise RuntimeError(f"npm pack {name}@{version} failed:\n{done.stdout}{done.stderr}")
            os.replace(got[0], tgz)  # atomic: a concurrent build sees no half-written file
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != integrity:
        raise RuntimeError(f"{tgz} is not {name}@{version} ({digest} != {integrity}): delete it and rebuild")
    return tgz


def _vendor_static() -> Path:
    """A folder holding ``prsg-vendor/<package>/...``, for html_static_path (made once per pinned set)."""
    modules = {
        name: Path(importlib.import_module(name).__file__).parent / rel  # type: ignore[arg-type]
        for name, rel in _WIDGET_MODULES.items()
    }
    key = hashlib.sha256(
        repr((_VENDOR_DIR, sorted(_NPM.items()))).encode()
        + b"".join(path.read_bytes() for path in modules.values())
    ).hexdigest()[:16]
    out = _VENDOR_CACHE / f"static-{key}"
    if out.is_dir():
        return out
    _VENDOR_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=_VENDOR_CACHE, ignore_cleanup_errors=True) as tmp:
        for name, (version, integrity, members) in _NPM.items():
            dest = Path(tmp) / _VENDOR_DIR / name.split("/")[-1]
            with tarfile.open(_npm_tarball(name, version, integrity)) as tar:
                for member in tar.getmembers():
                    rel = member.name.removeprefix("package/")
                    if member.isfile() and any(fnmatch.fnmatch(rel, pat) for pat in members):
                        if rel.startswith("es5/"):  # MathJax finds its parts beside its script
                            rel = rel[4:]
                        elif rel.startswith("dist/"):  # so does the widget bundle (its fonts)
                            rel = rel[5:]
                        target = dest / rel
                        target.parent.mkdir(parents=True, exist_ok=True)
                        src = tar.extractfile(member)
                        assert src is not None
                        target.write_bytes(src.read())
        for name, path in modules.items():
            (Path(tmp) / _VENDOR_DIR / name).mkdir(parents=True)
            shutil.copyfile(path, Path(tmp) / _VENDOR_DIR / name / "index.js")
        try:
            os.replace(tmp, out)  # atomic; a concurrent build may have made it first
        except OSError:
            if not out.is_dir():
                raise
    return out


# myst-nb adds these to each page with saved widget state, in this order: RequireJS, the paths of
# the widget modules and of the bundle's fonts (_static/prsg-widgets-offline.js), the bundle.
nb_ipywidgets_js = {
    "prsg-vendor/requirejs/require.js": {},
    "prsg-widgets-offline.js": {"data-modules": " ".join(_WIDGET_MODULES)},
    "prsg-vendor/html-manager/embed-amd.js": {},
}
mathjax_path = "prsg-vendor/mathjax/tex-mml-chtml.js"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # "theory.md#notation"-style links resolve to section anchors

# --- API reference ---
autosummary_generate = True
# autosummary rewrites the pages of modules that exist but never deletes those of modules that
# moved (backend/store.py -> backend/persistence/store.py): start each build from none, or a
# local rebuild fails (-W) on pages of modules that no longer import
shutil.rmtree(Path(__file__).parent / "api" / "generated", ignore_errors=True)
autosummary_imported_members = False
templates_path = ["_templates"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Importing these is enough to document them; nothing is run.  Optional extras that may be absent
# on a docs-only install are mocked so their modules still document.
autodoc_mock_imports = ["dask", "distributed", "dask_cuda", "pytorch_pretrained_biggan"]

# .rst first: autosummary writes its generated pages with the first suffix, and they are rST
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# Table fragments that scripts regenerate (scripts/main_job_table.py, scripts/solver_table.py) and
# that README.md embeds verbatim, so they carry no title of their own.  On the site each is a page
# linked from solver.md, outside the navigation: give it a title and mark it an orphan as it is
# read, leaving the files exactly as the scripts write them.
_FRAGMENTS = {
    "generated/main_job": "The README's main job, per solver preset",
    "n9_cpu/solver_table": "Solver results at n = 9 (CPU)",
}


def _title_fragment(app, docname, source):
    if docname in _FRAGMENTS:
        source[0] = f"---\norphan: true\n---\n# {_FRAGMENTS[docname]}\n\n" + source[0]


def setup(app):
    app.connect("source-read", _title_fragment)

# "more than one target found" (ref.python): type hints and docstrings name classes by their short
# names, and a few short names exist twice in the package — the ``Explainer`` Protocol of
# backend/explanation.py beside the class of backend/explainer.py, ``progress`` in backend and
# sweep, attributes such as ``image`` on several classes.  Sphinx then links the first match and
# warns; the link is still right for every case in the package today, so this one category is
# silenced rather than spelling every hint with its full module path.
suppress_warnings = ["ref.python"]

html_theme = "pydata_sphinx_theme"
html_title = f"prsg_widgets {__version__}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 4,
    "show_toc_level": 2,
}
html_static_path: list[str] = ["_static", str(_vendor_static())]
