"""The paper's measurements (``docs/theory.md`` §7), every definition in this package, one concept per module.

**These metric formulas are reconstructions.**  The extracted text of the paper lost every
formula; ``docs/theory.md`` §7 restores them and the choices it leaves open are made here (each is
flagged "choice:" in its docstring).  A user who prefers another definition replaces one
function; nothing else in the package computes these numbers.

All metrics take :class:`~prsg_widgets.Explanation` objects (the explanation knows its explainer,
which renders images).  None of them recomputes anything behind the caller's back: they read the
explanation's minimal features / components (solving what is missing, exactly as
``Explanation.component_array()`` would) and render only the images the formula needs.

Conventions used throughout:

* subsets are int bitmasks over ``explanation.patches`` (bit i ⇔ ``patches[i]``) or iterables of
  patch ids, as everywhere in the package;
* "RMSE over a patch set" is ``sqrt(Σ (a − b)² / (#pixels · C))`` — the root of the solver's
  ``mse_T`` (a mean over the values inside ``clip_T``, all channels), so ``RMSE ≤ sqrt(ε)`` means
  "as good as the solver's tolerance".  With equal-size patches this is App. F's
  ``sqrt(‖clip_T(x̂) − clip_T(x)‖² / (|T| · pixels per patch))`` counted per value.

Choices made here where the paper is silent (swap the function to change one):

* dense control (App. I): per-channel normal with the feature's channel mean/std, clamped at 0
  when the feature is non-negative; same code, same patches (:func:`dense_control`);
* ρ is also reported against its chance level, the pixel share of ``A(S)``
  (:func:`action_field_area`);
* boundary breach: "the other patches" are ``N ∖ {i}`` (pixels outside ``N`` reported apart);
  scalar summary = final RMSE of ``i`` / final RMSE of the others (:attr:`BreachResult.breach_ratio`);
* inconsistency: contexts ``T`` are all non-empty subsets of ``N ∖ S`` (or a seeded sample);
  the context sums over *all* components, so it equals ``f_T`` (Eq. 7);
* transferability: ``k`` beyond ``2^n − 1`` is cut; the chance level ``k_b / (2^n − 1)`` is
  returned with the ratio;
* sequential reconstruction: step ``j`` uses every component meeting the first ``j`` patches;
* Table 1 baseline: PCA directions of the layer (centred at ``b``), ``f_N − b`` projected on them;
  their action fields are *assigned* from their own patterns (:func:`pca_decomposition`);
* sparsity summaries and solver "sparsity" (:func:`sparsity_stats`, :func:`solver_summary`);
* toy-scenes object patches: at least 25% of the patch covered by a true object (:func:`object_share`).

Where each measurement lives (every name is also importable from ``prsg_widgets.metrics``):

* :mod:`.sparsity` — Fig. 3: ``sorted_magnitudes``, ``sparsity_curve``, ``sparsity_stats``;
* :mod:`.dense_control` — App. I / Fig. 16: ``dense_control``;
* :mod:`.matching` — Sec. 3.1 / Fig. 4: ``MatchingResult``, ``matching_error``;
* :mod:`.action_field` — Sec. 3.2.1: ``real_action_field_ratio(s)``, ``action_field_area``;
* :mod:`.breach` — Sec. 3.2.2: ``BreachResult``, ``boundary_breach``;
* :mod:`.consistency` — Sec. 3.3: ``ConsistencyResult``, ``inconsistency``;
* :mod:`.transferability` — Sec. 3.4: ``TransferResult``, ``transferability``;
* :mod:`.reconstruction` — App. F: ``controllable_reconstruction``, ``sequential_reconstruction``
  and their result classes;
* :mod:`.decomposition` — Table 1: ``Decomposition``, ``decomposition_from_explanation``,
  ``completeness_residual`` and ``decomposition_rho`` / ``_breach`` / ``_inconsistency`` /
  ``_transferability``; :mod:`.pca` — the PCA baseline (``pca_directions``,
  ``pca_decomposition``); :mod:`.properties` — one Table 1 row (``PropertyScores``,
  ``score_properties``);
* :mod:`.solver_summary` — Table 2: ``solver_summary``;
* :mod:`.object_share` — toy-scenes ground truth: ``object_share``.
"""
from __future__ import annotations

# ruff: noqa: F401  (the imports below are the package's public names: __all__ is made from them)
from .. import _front_door
from ._util import SubsetLike
from .action_field import action_field_area, real_action_field_ratio, real_action_field_ratios
from .breach import BreachResult, boundary_breach
from .consistency import ConsistencyResult, inconsistency
from .decomposition import (
                            Decomposition,
                            completeness_residual,
                            decomposition_breach,
                            decomposition_from_explanation,
                            decomposition_inconsistency,
                            decomposition_rho,
                            decomposition_transferability,
)
from .dense_control import dense_control
from .matching import MatchingResult, matching_error
from .object_share import object_share
from .pca import pca_decomposition, pca_directions
from .properties import PropertyScores, score_properties
from .reconstruction import (
                            ReconstructionResult,
                            SequentialResult,
                            controllable_reconstruction,
                            sequential_reconstruction,
)
from .solver_summary import solver_summary
from .sparsity import sorted_magnitudes, sparsity_curve, sparsity_stats
from .transferability import TransferResult, transferability

__getattr__, __dir__, __all__ = _front_door.attach(__name__, __file__)
