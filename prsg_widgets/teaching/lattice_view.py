"""The interactive lattice: :class:`LatticeView` draws a game's Hasse diagram on an
``ipycanvas.Canvas`` from the plain functions of :mod:`.lattice`, colours each node by the
selected mode, and shows a clicked node's ``v(T)``, ``I_and(T)`` and ``I_or(T)``.  ipywidgets and
ipycanvas are imported only when a view is built.
"""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from .games import TOL, _players, subset_label
from .interactions import and_interactions, or_interactions
from .lattice import (
    LATTICE_MODES,
    _check_lattice_players,
    _ink,
    _node_radius,
    lattice_edges,
    lattice_node_at,
    lattice_positions,
    lattice_values,
    value_colors,
)


class LatticeView:
    """The Boolean lattice (Hasse diagram) of a game's coalitions, drawn on an ``ipycanvas.Canvas``:
    one row per size ``|S|``, an edge between ``S`` and each ``S ∪ {i}``, and each node a circle
    coloured blue–white–red by what ``mode`` selects (:data:`LATTICE_MODES`: ``v(T)``, the AND
    dividends or the OR interactions of Eq. 6), on a scale ``±max |value|``.  Clicking a node shows
    its three numbers under the canvas.

    The canvas has a fixed CSS size and ``scale``× as many pixels (default 2: sharp on HiDPI
    screens; clicks arrive in canvas pixels and are scaled back).  Nothing is painted behind the
    diagram and its title is an HTML line, so it reads in light and dark themes alike.  It is
    redrawn whenever a front end connects (``on_client_ready``: commands sent while a cell runs can
    be lost, BROWSER_TESTING.md), the game changes (:meth:`set_game`) or the mode changes.
    ``draw_count`` and ``drawn_values`` record the last drawing, so tests can see it without a
    browser.  Display the object itself, or put :attr:`widget` in a layout.
    """

    def __init__(self, v: Tensor, mode: str = "value", names: Sequence[str] | None = None,
                 width: int = 560, height: int = 400, show_modes: bool = True, scale: int = 2):
        import ipywidgets as W  # widget stack only here: the functions above stay importable without it
        from ipycanvas import Canvas

        self.n = _players(v)
        _check_lattice_players(self.n)
        if mode not in LATTICE_MODES:
            raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")
        self.names = names
        self.width, self.height, self.scale = int(width), int(height), max(1, int(scale))
        self.positions = lattice_positions(self.n, self.width, self.height, margin=32.0, top=36.0)
        self.edges = lattice_edges(self.n)
        self.radius = _node_radius(self.positions)
        self._game = v.detach().double().clone()
        self.selected: int | None = None
        self.draw_count = 0
        self.drawn_values: list[float] | None = None
        self.drawn_colors: list[str] | None = None
        self.canvas = Canvas(width=self.width * self.scale, height=self.height * self.scale,
                             layout=W.Layout(width=f"{self.width}px", height=f"{self.height}px",
                                             min_width=f"{self.width}px", flex="0 0 auto"))
        self.mode_selector = W.ToggleButtons(options=list(LATTICE_MODES), value=mode, description="show",
                                             style={"button_width": "70px"},
                                             layout=W.Layout(display=None if show_modes else "none"))
        self.caption = W.HTML()
        self.title = W.HTML()
        self.widget = W.VBox([self.mode_selector, self.title, self.canvas, self.caption])
        self.canvas.on_client_ready(self.draw)
        self.canvas.on_mouse_down(self._click)
        self.mode_selector.observe(lambda _: self.draw(), "value")
        self.draw()

    # -- state
    @property
    def game(self) -> Tensor:
        """The game drawn (a copy)."""
        return self._game.clone()

    def set_game(self, v: Tensor) -> None:
        """Show a new game over the same players, and redraw."""
        if _players(v) != self.n:
            raise ValueError(f"this lattice is over {self.n} players; got a game over {_players(v)}")
        self._game = v.detach().double().clone()
        self.draw()

    @property
    def mode(self) -> str:
        """``"value"``, ``"AND"`` or ``"OR"``; setting it redraws."""
        return self.mode_selector.value

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in LATTICE_MODES:
            raise ValueError(f"unknown lattice mode {mode!r}; modes: {', '.join(LATTICE_MODES)}")
        self.mode_selector.value = mode

    # -- drawing
    def draw(self, *_) -> None:
        """Redraw the whole diagram from the current game and mode."""
        from ipycanvas import hold_canvas

        values = lattice_values(self._game, self.mode)
        colors, scale = value_colors(values)
        c, r = self.canvas, self.radius
        with hold_canvas():  # one message per drawing, so a front end never shows half a lattice
            c.reset_transform()
            c.clear()
            c.scale(self.scale)
            c.stroke_style, c.line_width = "#9a9a9a", 1.0
            for s, t in self.edges:
                (x0, y0), (x1, y1) = self.positions[s], self.positions[t]
                c.stroke_line(x0, y0, x1, y1)
            c.text_align, c.text_baseline = "center", "middle"
            for t, (x, y) in self.positions.items():
                c.fill_style = colors[t]
                c.fill_circle(x, y, r)
                c.stroke_style = "#e8590c" if t == self.selected else "#777777"
                c.line_width = 3.0 if t == self.selected else 1.0
                c.stroke_circle(x, y, r)
                c.fill_style = _ink(colors[t])
                c.font = "bold 10px sans-serif"
                c.fill_text(subset_label(t, self.names), x, y - 0.3 * r, 2 * r - 4)
                c.font = "10px sans-serif"
                c.fill_text(f"{_clean(values[t]):.2f}", x, y + 0.35 * r, 2 * r - 4)
        self.title.value = (f"<div style='font-size:12px'>{LATTICE_MODES[self.mode]} on each coalition "
                            f"(<span style='color:#2166ac'>blue</span> &lt; 0 &lt; <span style='color:#b2182b'>red"
                            f"</span>, full colour at ±{scale:.2f})</div>")
        self.draw_count += 1
        self.drawn_values = [_clean(x) for x in values.tolist()]
        self.drawn_colors = colors
        self.caption.value = self._caption()

    def _caption(self) -> str:
        import html

        t = self.selected
        if t is None:
            return "<small>click a node for v(T) and its AND / OR interactions</small>"
        v = self._game
        a, o = and_interactions(v), or_interactions(v)
        text = (f"T = {subset_label(t, self.names)}:  v(T) = {_clean(v[t]):.3f},  "
                f"I_and(T) = {_clean(a[t]):.3f},  I_or(T) = {_clean(o[t]):.3f}")
        return f"<code>{html.escape(text)}</code>"

    def _click(self, x: float, y: float) -> None:
        self.selected = lattice_node_at(self.positions, x / self.scale, y / self.scale, self.radius)
        self.draw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _clean(x: float | Tensor) -> float:
    """``x`` with float noise (``|x| ≤ TOL``) shown as 0, so no "-0.00" labels."""
    x = float(x)
    return 0.0 if abs(x) <= TOL else x
