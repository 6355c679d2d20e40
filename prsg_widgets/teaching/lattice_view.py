"""The interactive lattice: :class:`LatticeView` draws a game's Hasse diagram on an
``ipycanvas.Canvas`` from the plain functions of :mod:`.lattice`, colours each node by the
selected mode, and shows a clicked node's ``v(T)``, ``I_and(T)`` and ``I_or(T)``.  ipywidgets and
ipycanvas are imported only when a view is built.
"""
from __future__ import annotations

import io
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
        from ipycanvas import MultiCanvas

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
        # a one-layer MultiCanvas, not a Canvas: ipycanvas's Canvas view copies its picture once,
        # when it renders, so a saved picture (image_data) that decodes after that stays unseen
        # (a blank lattice on the docs site, one page load in three); a MultiCanvas redraws its
        # views whenever a layer has a new frame
        self.canvas = MultiCanvas(1, width=self.width * self.scale, height=self.height * self.scale,
                                  layout=W.Layout(width=f"{self.width}px", height=f"{self.height}px",
                                                  min_width=f"{self.width}px", flex="0 0 auto"))
        self.layer = self.canvas[0]
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
    def scene(self) -> tuple[list[tuple], str, list[float], list[str]]:
        """What one drawing holds, in CSS pixels: ``(marks, title, values, colours)`` (one value
        and colour per coalition), where each mark is
        ``("line", x0, y0, x1, y1, colour, width)``, ``("circle", x, y, r, fill, edge, width)`` or
        ``("text", x, y, label, colour, bold, max_width)``, in drawing order.  Both the canvas
        commands and the saved picture (:meth:`png`) are made from it, so they cannot differ.
        """
        values = lattice_values(self._game, self.mode)
        colors, scale = value_colors(values)
        r = self.radius
        marks: list[tuple] = []
        for s, t in self.edges:
            (x0, y0), (x1, y1) = self.positions[s], self.positions[t]
            marks.append(("line", x0, y0, x1, y1, "#9a9a9a", 1.0))
        for t, (x, y) in self.positions.items():
            chosen = t == self.selected
            marks.append(("circle", x, y, r, colors[t], "#e8590c" if chosen else "#777777", 3.0 if chosen else 1.0))
            ink = _ink(colors[t])
            marks.append(("text", x, y - 0.3 * r, subset_label(t, self.names), ink, True, 2 * r - 4))
            marks.append(("text", x, y + 0.35 * r, f"{_clean(values[t]):.2f}", ink, False, 2 * r - 4))
        title = (f"<div style='font-size:12px'>{LATTICE_MODES[self.mode]} on each coalition "
                 f"(<span style='color:#2166ac'>blue</span> &lt; 0 &lt; <span style='color:#b2182b'>red"
                 f"</span>, full colour at ±{scale:.2f})</div>")
        return marks, title, [_clean(x) for x in values.tolist()], colors

    def draw(self, *_) -> None:
        """Redraw the whole diagram from the current game and mode: canvas commands for a live
        front end, and the same picture as the canvas's saved image (:meth:`png`), which a page
        rendered from saved widget state (the docs site, nbviewer) draws instead.
        """
        from ipycanvas import hold_canvas

        marks, title, values, colors = self.scene()
        c = self.layer
        with hold_canvas():  # one message per drawing, so a front end never shows half a lattice
            c.reset_transform()
            c.clear()
            c.scale(self.scale)
            c.text_align, c.text_baseline = "center", "middle"
            for kind, *m in marks:
                if kind == "line":
                    c.stroke_style, c.line_width = m[4], m[5]
                    c.stroke_line(*m[:4])
                elif kind == "circle":
                    c.fill_style = m[3]
                    c.fill_circle(*m[:3])
                    c.stroke_style, c.line_width = m[4], m[5]
                    c.stroke_circle(*m[:3])
                else:
                    c.fill_style, c.font = m[3], ("bold " if m[4] else "") + "10px sans-serif"
                    c.fill_text(m[2], m[0], m[1], m[5])
        # the saved state keeps no canvas commands: without this picture a saved view is blank
        c.set_trait("image_data", self.png(marks))
        self.title.value = title
        self.draw_count += 1
        self.drawn_values, self.drawn_colors = values, colors
        self.caption.value = self._caption()

    def png(self, marks: list[tuple] | None = None) -> bytes:
        """The diagram as a transparent PNG of the canvas's size (``scale`` times the CSS size), drawn
        with matplotlib from :meth:`scene`.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle

        marks = self.scene()[0] if marks is None else marks
        pt = 0.75  # points per CSS pixel (72 / 96)
        fig = Figure(figsize=(self.width / 96, self.height / 96), dpi=96 * self.scale)
        fig.patch.set_alpha(0.0)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.set_axis_off()
        for z, (kind, *m) in enumerate(marks):  # zorder: matplotlib would put lines over patches
            if kind == "line":
                ax.plot(m[0:3:2], m[1:4:2], color=m[4], linewidth=m[5] * pt, solid_capstyle="butt", zorder=z)
            elif kind == "circle":
                ax.add_patch(Circle((m[0], m[1]), m[2], facecolor=m[3], edgecolor=m[4], linewidth=m[5] * pt,
                                    zorder=z))
            else:
                ax.text(m[0], m[1], m[2], color=m[3], fontsize=10 * pt, fontweight="bold" if m[4] else "normal",
                        ha="center", va="center", family="sans-serif", zorder=z)
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        return buf.getvalue()

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
