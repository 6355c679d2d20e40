"""Small cooperative games for teaching AND / OR Harsanyi interactions, and the checks behind
``notebooks/teaching_interactions.ipynb``.

A game over ``n`` players is a 1-D tensor ``v`` of length ``2^n``: ``v[T]`` is the worth of the
coalition ``T``, a bitmask (bit i ⇔ player i), the same storage the toolkit uses for the patch
subsets of an explanation (``docs/theory.md`` §1).  Everything here is plain functions over such tensors;
the interactions themselves come from :mod:`prsg_widgets.core.harsanyi`, so the notebook teaches
exactly the code that computes the feature components of a generator.  Only the panels
(:func:`game_explorer`, :func:`axiom_panel`, :func:`component_browser` and the ipycanvas
:class:`LatticeView`) build widgets, and they only wire controls to these functions; even the
lattice diagram's layout and colours are plain functions (:func:`lattice_positions`,
:func:`value_colors`).

The axioms are checked the way a theorem is: every check builds a game in which the axiom's
premise holds *by construction* (a dummy player is added, two players are made symmetric, ...)
from whatever game the student dialled in, and measures the residual of its conclusion.  For the
Harsanyi transforms all four residuals are at float precision for every game; the naive
"marginal contribution" attribution is checked beside them as a counter-example that fails
efficiency as soon as the game has interactions.

Where each thing lives (every name is also importable from ``prsg_widgets.teaching``):

* :mod:`.games` — games and coalitions: ``make_game``, ``preset_game``, ``PRESET_GAMES``,
  ``subset_label``, ``all_subsets``, the derived games ``add_dummy_player``, ``swap_players``,
  ``symmetrize``, and ``TOL``;
* :mod:`.interactions` — ``and_interactions``, ``or_interactions``, ``interaction_table``;
* :mod:`.axioms` — ``AxiomCheck``, ``check_efficiency`` / ``_linearity`` / ``_dummy`` /
  ``_symmetry``, ``check_axioms``, ``format_checks``, ``marginal_attribution``;
* :mod:`.lattice` — the lattice's geometry and colours: ``lattice_values``, ``lattice_positions``,
  ``lattice_edges``, ``lattice_node_at``, ``diverging_color``, ``value_colors``, ``LATTICE_MODES``,
  ``MAX_LATTICE_PLAYERS``;
* :mod:`.scene` — toy-scenes ground truth: ``patches_on_objects``, ``ObjectOverlap``,
  ``object_overlaps``, ``overlap_share``, ``show_scene``, ``show_components``, and the
  theme-neutral figure style ``theme_neutral`` / ``FIGURE_TEXT``;
* :mod:`.lattice_view` — the ipycanvas ``LatticeView``;
* :mod:`.generator` — components against a known answer (``compare_with_answer``,
  ``answer_table``), the delete-a-component panel (``removal_panel``, ``without``,
  ``deletion_change``) and the regional-pattern row (``regional_pattern_row``), both signed the
  way ``SIGN_LEGEND`` says; what a deletion turns an object into, measured (``deletion_effects``,
  ``DeletionEffect``, ``deletion_summary``, ``colour_name``); ``health_note`` for ρ's caveats;
* :mod:`.panels` — the ipywidgets panels ``game_explorer``, ``axiom_panel``,
  ``component_browser`` and the text ``game_report`` they show.
"""
from __future__ import annotations

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door
from .axioms import (
                     AxiomCheck,
                     check_axioms,
                     check_dummy,
                     check_efficiency,
                     check_linearity,
                     check_symmetry,
                     format_checks,
                     marginal_attribution,
)
from .games import (
                     PRESET_GAMES,
                     TOL,
                     add_dummy_player,
                     all_subsets,
                     make_game,
                     preset_game,
                     subset_label,
                     swap_players,
                     symmetrize,
)
from .generator import (
                     SIGN_LEGEND,
                     DeletionEffect,
                     KnownComponent,
                     answer_table,
                     colour_name,
                     compare_with_answer,
                     deletion_change,
                     deletion_effects,
                     deletion_summary,
                     health_note,
                     regional_pattern_row,
                     removal_panel,
                     without,
)
from .interactions import Transform, and_interactions, interaction_table, or_interactions
from .lattice import (
                     LATTICE_MODES,
                     MAX_LATTICE_PLAYERS,
                     diverging_color,
                     lattice_edges,
                     lattice_node_at,
                     lattice_positions,
                     lattice_values,
                     value_colors,
)
from .lattice_view import LatticeView
from .panels import axiom_panel, component_browser, game_explorer, game_report
from .scene import (
                     FIGURE_TEXT,
                     ObjectOverlap,
                     object_overlaps,
                     overlap_share,
                     patches_on_objects,
                     show_components,
                     show_scene,
                     theme_neutral,
)

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
