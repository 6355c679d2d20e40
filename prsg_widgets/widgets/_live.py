"""``LiveView``: the mixin of the composite widgets that show explanations while they are solved.

It listens to the explanations a view shows (refreshing on the kernel's main thread as results
land), queues their solves when ``solve`` is set, says which explanation the view shows and
whether it is stale, reports progress through a :class:`ProgressLine` (its own, or the
dashboard's), and exports the view's paper figure as a downloaded SVG.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets

from .. import palette
from ._captions import caption
from ._export import Downloader, file_stem, svg_bytes
from ._glossary import info_html
from ._main_thread import MainThreadCaller
from ._markup import short_text, status_html
from ._progress_line import ProgressLine, _is_cancel
from ._protocol import ExplanationLike, Shown

log = logging.getLogger("prsg_widgets")


class LiveView:
    """Subclasses call :meth:`_init_live` before building their layout, :meth:`_watch` whenever
    they show other explanations, and implement ``show()`` (the view protocol,
    :mod:`~prsg_widgets.widgets._protocol`), ``_refresh()``, ``_complete_text()`` and
    ``_figure()`` (and set ``export_name``: the first word of the SVG's file name, and
    ``export_views``: the attribute of each anywidget view with a PNG button → the first word of
    its PNG's name).  Every name comes from :func:`~._export.file_stem`.
    """

    solve: bool
    add_class: Callable[[str], Any]  # (from the ipywidgets.DOMWidget it is mixed into)
    remove_class: Callable[[str], Any]
    export_name = "view"
    export_views: dict[str, str] = {}

    def _init_live(self, title: str, progress_width: str, term: str | None = None) -> widgets.VBox:
        """Set up the live state and return the header: ``title`` (with the glossary ⓘ of
        ``term``) and the progress line; under it the identity line and the SVG export.
        """
        self.error: BaseException | None = None
        self.futures: list[Any] = []
        self._listener: Callable[[Any, list[int]], None] | None = None
        self._watched: list[ExplanationLike] = []
        self._refresher = MainThreadCaller(self.refresh)
        self.stale = False
        self.own_line = ProgressLine(progress_width)
        self.line = self.own_line
        self.line.attach(self)
        self.identity = widgets.HTML("")
        self.identity.add_class("prsg-identity")
        self.svg_button = widgets.Button(description="paper figure (SVG)", icon="download", tooltip=(
            "download this view's results as the paper's figure (matplotlib SVG, the paper's style)"),
            layout=widgets.Layout(width="170px"))
        self.svg_button.add_class("prsg-svg")
        self.svg_button.on_click(lambda _b: self._on_svg_click())
        self.svg_path: str | None = None
        self.svg_note = widgets.HTML("")
        self.downloader = Downloader()
        self.title_html = widgets.HTML(f"<b>{title}</b>" + (" " + info_html(term) if term else ""),
                                       layout=widgets.Layout(flex="none"))
        head = widgets.HBox([self.title_html, self.own_line],
                            layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
        line = widgets.HBox([self.identity, self.svg_button, self.svg_note, self.downloader],
                            layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
        return widgets.VBox([head, line])

    # the progress line's parts, under the names the views have always had
    progress = property(lambda self: self.line.bar)
    status = property(lambda self: self.line.status)
    cancel_button = property(lambda self: self.line.button)
    eta = property(lambda self: self.line.eta)

    def use_line(self, line: ProgressLine) -> None:
        """Report progress through ``line`` (shared with other views) instead of the view's own."""
        self.own_line.layout.display = "none"
        self.line = line
        line.attach(self)

    def show(self, explanations: Shown) -> None:  # pragma: no cover - every subclass implements it
        """Show ``explanations`` instead (the view protocol, :mod:`~prsg_widgets.widgets._protocol`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ SVG export
    def _figure(self):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def export_stem(self, view: str | None = None) -> str:
        """The file name (without extension) of the view's exports: :func:`~._export.file_stem`
        of the explanations it shows; ``view`` defaults to ``export_name`` (the SVG's).
        """
        shown = self._shown()
        return file_stem(view or self.export_name, shown) if shown else (view or self.export_name)

    def _name_exports(self) -> None:
        """Give each anywidget view the name of its PNG export (the browser names the download);
        ``prsg-live`` marks the composite whose ``prsg-export-with`` captions the PNGs include.
        """
        self.add_class("prsg-live")
        for attr, view in self.export_views.items():
            getattr(self, attr).export_stem = self.export_stem(view)

    def save_svg(self, path: str | None = None) -> str:
        """The view's paper figure (matplotlib) as an SVG: downloaded by the browser, or written to
        ``path`` when given.  Returns the file name.
        """
        data = svg_bytes(self._figure())
        name = self.export_stem() + ".svg"
        if path is not None:
            with open(path, "wb") as fh:
                fh.write(data)
            name = str(path)
        else:
            self.downloader.send_file(name, data, "image/svg+xml")
        self.svg_path = name
        self.svg_note.value = f"<span class='prsg-muted'>{'saved' if path else 'downloaded'} {html.escape(name)}</span>"
        return name

    def _on_svg_click(self) -> None:
        try:
            self.save_svg()
        except Exception as exc:
            self.svg_note.value = f"<span class='prsg-status error'>SVG: {html.escape(str(exc))}</span>"

    # ------------------------------------------------------------------ identity / stale
    def _shown(self) -> Sequence[ExplanationLike]:
        """The explanations this view shows (for the identity line): what it watches but the
        dense control.
        """
        return [e for e in self._watched if e.sample.label != palette.CONTROL_LABEL]

    @property
    def shows(self) -> list[str]:
        """Which explanations the view shows, as its identity line says (``model · seed · N``)."""
        return [caption(e) for e in self._shown()]

    def _show_identity(self) -> None:
        parts = " &nbsp;|&nbsp; ".join(html.escape(t) for t in self.shows) or "no explanation"
        stale = ("<span class='prsg-stale-badge' title='the dashboard’s seed or patches changed since this "
                 "was computed'>⚠ stale — press “Explain selection” to update</span> ") if self.stale else ""
        self.identity.value = f"<div class='prsg-identity-line'>{stale}shows: {parts}</div>"

    def mark_stale(self, stale: bool = True) -> None:
        """Mark the view as showing an explanation whose inputs changed (greyed, with a badge)."""
        self.stale = bool(stale)
        (self.add_class if self.stale else self.remove_class)("prsg-stale")
        self._show_identity()

    # ------------------------------------------------------------------ watching
    def _unwatch(self) -> None:
        """Stop listening to the explanations shown so far (their solves keep running)."""
        if self._listener is not None:
            for e in self._watched:
                e.remove_listener(self._listener)
        self._watched = []

    def _watch(self, explanations: Iterable[ExplanationLike]) -> None:
        """Listen to these explanations instead (refresh as their results land) and queue the
        solves of the unsolved ones (non-blocking) when ``solve`` is set.  Resets progress, error
        and the stale mark: the view now shows these.
        """
        self._unwatch()
        watched = list(explanations)

        def listener(expl, _rows, me=self):
            if any(expl is e for e in watched):
                me._refresher()

        self._listener, self._watched, self.futures = listener, watched, []
        self.error = None
        self.stale = False
        self.remove_class("prsg-stale")
        self.svg_path, self.svg_note.value = None, ""
        self.line.reset()
        self.progress.value = 0
        self.status.value = ""
        self._show_identity()
        self._name_exports()
        for e in watched:
            e.on_update(listener)
            if self.solve and not e.is_complete:
                fut = e.submit()
                fut.add_done_callback(lambda _f: self._refresher())
                self.futures.append(fut)
        self.line.update()

    def _solving(self) -> bool:
        return any(not f.done() for f in self.futures)

    def cancel(self) -> None:
        """Cancel through the progress line: every view on it (and sharing its explainers) stops;
        finished minimal features are kept and :meth:`resume` continues.
        """
        self.line.cancel()

    def resume(self) -> None:
        """Queue the unsolved minimal features again after a Cancel (or a failed solve)."""
        solve, self.solve = self.solve, True
        try:
            self._watch(list(self._watched))
        finally:
            self.solve = solve
        self.refresh()

    def _tick(self) -> None:
        self.line.tick()

    def _show_progress(self) -> bool:
        """The progress line from the current state; ``False`` (and ``error`` set) when a solve
        stopped or failed.
        """
        ok = self.line.update()
        failed = [f.exception() for f in self.futures if f.done() and f.exception() is not None]
        self.error = failed[0] if failed else None
        return ok and not failed

    def _solve_state(self) -> str:
        """Where the solve of what this view shows stands: ``"complete"``, ``"solving"`` (a solve
        of a view on its progress line runs), ``"stopped"`` (by Cancel), ``"failed"``, or
        ``"idle"`` (nothing queued, e.g. ``solve=False``).
        """
        if self._watched and all(e.is_complete for e in self._watched):
            return "complete"
        if self.line.solving():
            return "solving"
        failed = [f.exception() for f in self.futures if f.done() and f.exception() is not None]
        if failed:
            return "stopped" if all(_is_cancel(x) for x in failed) else "failed"
        return "idle"

    def _state_text(self, done: int, total: int, of: str = "") -> str:
        """What a part of the view waiting for ``done``/``total`` minimal features says, true to
        :meth:`_solve_state` (never "waiting" when nothing runs); ``of`` names whose they are.
        """
        count = f"{done:,} of {total:,} minimal features{' of ' + of if of else ''} solved"
        return {
            "solving": f"waiting for the solve ({count})",
            "stopped": f"solve stopped by Cancel — {count} (kept); Resume continues",
            "failed": f"solve failed — {count} (kept); Resume retries",
            "idle": f"not being solved — {count}",
        }.get(self._solve_state(), "")

    def _complete_text(self) -> str:
        return "solved"

    def _repr_mimebundle_(self, **kwargs):
        return short_text(super()._repr_mimebundle_(**kwargs),  # type: ignore[misc]
                          f"{type(self).__name__}: {' | '.join(self.shows)} (interactive in JupyterLab / Notebook 7)")

    def refresh(self) -> None:
        """Pull what has been solved into the views (called as results land; safe to call)."""
        try:
            self._refresh()
        except Exception as exc:  # shown in words, logged with its traceback
            self.error = exc
            self.status.value = status_html(f"could not update this view: {html.escape(str(exc))}", error=True)
            log.exception(f"{type(self).__name__} refresh failed")

    def _refresh(self) -> None:  # pragma: no cover - every subclass implements it
        raise NotImplementedError
