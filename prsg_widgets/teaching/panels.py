"""The notebook's ipywidgets panels: :func:`game_explorer` (a slider per coalition worth, presets,
the live interactions table and axiom checks), :func:`axiom_panel` (the checks under chosen
coefficients) and :func:`component_browser` (a real explanation's components against the true
objects).  They only wire controls to the functions of the other modules; ipywidgets is
imported only when a panel is built.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .axioms import check_axioms, check_efficiency, format_checks
from .games import PRESET_GAMES, all_subsets, make_game, preset_game, subset_label
from .interactions import interaction_table
from .lattice_view import LatticeView
from .scene import object_overlaps, show_components


# The panels write text into an HTML widget and pictures into an Image widget instead of printing
# into an ``ipywidgets.Output``: output capture is what makes headless executors (nbclient, hence
# nbconvert --execute) hang now and then on widget cells (jupyter/nbclient#312).
def _pre(text: str) -> str:
    import html

    return f"<pre style='font-size:12px;line-height:1.25;margin:0'>{html.escape(text)}</pre>"


def _text_panel():
    import ipywidgets as W

    return W.HTML(layout=W.Layout(border="1px solid #ccc", padding="4px"))


def game_report(v: Tensor, dummy_worth: float = 1.0, names: Sequence[str] | None = None) -> str:
    """The text :func:`game_explorer` shows: the interactions table, the axiom checks and the
    marginal-attribution counter-example.
    """
    return (interaction_table(v, names) + "\n\n" + format_checks(check_axioms(v, dummy_worth=dummy_worth))
            + "\n" + format_checks([check_efficiency(v, "marginal")]) + "   ← naive marginal worths (counter-example)")


def game_explorer(n: int = 3, values: Sequence[float] | None = None, names: Sequence[str] | None = None,
                  value_range: tuple[float, float] = (-3.0, 3.0), lattice: bool = False):
    """An ipywidgets panel: one slider per coalition worth ``v(T)`` (``v(∅)`` included), a preset
    menu, and a live view of the AND/OR interactions table and the four axiom checks
    (:func:`game_report`).  With ``lattice=True`` a :class:`LatticeView` of the game sits between
    the sliders and the table and is redrawn on every change.  Returns the ``VBox``; its
    ``.game()`` gives the current ``v`` and ``.lattice`` the lattice view (or ``None``).
    """
    import ipywidgets as W  # imported here: the math above must not need a widget stack

    if n > 4:
        raise ValueError(f"{2 ** n} sliders are too many to edit by hand; use n ≤ 4")
    v0 = make_game(values) if values is not None else preset_game("AND of players 1 and 2", n)
    if v0.numel() != 1 << n:
        raise ValueError(f"values must have 2^{n} = {1 << n} entries, got {v0.numel()}")
    lo, hi = value_range
    sliders = {t: W.FloatSlider(value=float(v0[t]), min=lo, max=hi, step=0.1, readout_format=".1f",
                                description=f"v{subset_label(t, names)}", continuous_update=False,
                                layout=W.Layout(width="320px"))
               for t in all_subsets(n)}
    start = "AND of players 1 and 2" if values is None and "AND of players 1 and 2" in PRESET_GAMES else "(custom)"
    preset = W.Dropdown(options=["(custom)"] + list(PRESET_GAMES), value=start, description="preset",
                        layout=W.Layout(width="340px"))
    worth = W.FloatSlider(value=1.0, min=lo, max=hi, step=0.1, description="dummy worth",
                          continuous_update=False, style={"description_width": "initial"})
    out = _text_panel()
    view = LatticeView(v0, names=names) if lattice else None

    def game() -> Tensor:
        return torch.tensor([sliders[t].value for t in range(1 << n)], dtype=torch.float64)

    def refresh(*_):
        v = game()
        out.value = _pre(game_report(v, worth.value, names))
        if view is not None:
            view.set_game(v)

    def edited(_change):  # a slider moved by hand: the game is no longer the preset
        preset.unobserve(load_preset, "value")
        preset.value = "(custom)"
        preset.observe(load_preset, "value")
        refresh()

    def load_preset(change):
        if change["new"] in PRESET_GAMES:
            v = preset_game(change["new"], n)
            for t, s in sliders.items():
                s.unobserve(edited, "value")
                s.value = min(max(float(v[t]), lo), hi)
                s.observe(edited, "value")
            refresh()

    for s in sliders.values():
        s.observe(edited, "value")
    worth.observe(refresh, "value")
    preset.observe(load_preset, "value")
    by_size = [W.VBox([s for t, s in sliders.items() if bin(t).count("1") == k]) for k in range(n + 1)]
    parts = [W.HBox([preset, worth]), W.HBox(by_size)] + ([view.widget] if view is not None else []) + [out]
    box = W.VBox(parts)
    box.game = game
    box.lattice = view
    refresh()
    return box


def axiom_panel(games: dict):
    """Sliders for the linearity coefficients ``α, β`` and the dummy player's worth, a menu of
    ``games`` (name → game), and the live axiom checks of the chosen game.
    """
    import ipywidgets as W

    def slider(name: str, value: float):
        return W.FloatSlider(value=value, min=-3.0, max=3.0, step=0.25, description=name, continuous_update=False)

    alpha, beta, worth = slider("α", 2.0), slider("β", -0.5), slider("dummy worth", 1.0)
    worth.style = {"description_width": "initial"}
    which = W.Dropdown(options=list(games), value=list(games)[-1], description="game")
    out = _text_panel()

    def refresh(*_):
        v = games[which.value]
        out.value = _pre(format_checks(check_axioms(v, alpha=alpha.value, beta=beta.value, dummy_worth=worth.value))
                         + "\n" + format_checks([check_efficiency(v, "marginal")])
                         + "   ← naive marginal worths: this one moves with the game, the Harsanyi residuals never do")

    for w in (alpha, beta, worth, which):
        w.observe(refresh, "value")
    refresh()
    return W.VBox([W.HBox([which, alpha]), W.HBox([beta, worth]), out])


def _png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, bbox_inches="tight")  # sharp at 2x
    plt.close(fig)
    return buf.getvalue()


def component_browser(explanation, object_masks: Tensor, names: Sequence[str] | None = None):
    """A slider over the components in order of ``‖I(S)‖₂``: the chosen one's regional pattern
    with its action field and the true objects (:func:`show_components`), as an image.
    """
    import ipywidgets as W

    total = explanation.num_subsets - 1
    rank = W.IntSlider(value=1, min=1, max=total, description="rank", continuous_update=False)
    # a fixed CSS width: an Image widget otherwise stretches its PNG to the output's width
    image = W.Image(format="png", layout=W.Layout(width="360px", height="auto", object_fit="contain"))
    caption = W.HTML()

    def refresh(*_):
        o = object_overlaps(explanation, object_masks, top=rank.value)[-1]
        image.value = _png(show_components(explanation, [o], object_masks, names))
        caption.value = f"component {rank.value} of {total}: ‖I(S)‖₂ = {o.norm:.3f}, ρ(S) = {o.rho:.2f}"

    rank.observe(refresh, "value")
    refresh()
    return W.VBox([W.HBox([rank, caption]), image])
