"""Everything that reaches the disk: the solve cache, saved explanations, and the checks of both.

* :mod:`.files` — checksummed ``.npz`` files written atomically, safe on shared folders;
* :mod:`.filecheck` — what a loaded file may hold, every field checked;
* :mod:`.store` — the solve record of each explanation key, in memory and as cache parts;
* :mod:`.saved` — an explanation's ``.npz`` file (``Explanation.save`` / ``Explanation.load``).

The per-subset fields these files hold are declared once, in :mod:`prsg_widgets.core.solver.rows`.
Nothing here imports the explanation or the explainer: they call in.
"""
