"""Sphinx configuration of the prsg_widgets documentation (build: ``bash scripts/docs.sh``)."""
from __future__ import annotations

import sys
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

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # "theory.md#notation"-style links resolve to section anchors

# --- API reference ---
autosummary_generate = True
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
html_static_path: list[str] = []
