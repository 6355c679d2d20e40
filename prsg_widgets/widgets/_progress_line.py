"""One progress line — bar, status (speed, ETA, what went wrong) and Cancel/Resume — over a group
of live views: each view on its own has one, the ``explore()`` dashboard one for all its views.

Cancel stops the explainers' queues (every view sharing them stops) and remembers which views it
stopped; Resume queues the unsolved minimal features of each of them again.  The ETA is
:mod:`prsg_widgets.backend.progress`'s: the rest of the solve replayed at the step cost measured
recently, counting down with the clock between steps (:func:`countdown`).  No exception's class name reaches the
screen: a stop by Cancel reads as one, any other failure by its message.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..backend.progress import eta_for
from ._main_thread import kernel_loop
from ._markup import status_html
from ._protocol import ExplanationLike, bound_explainer

if TYPE_CHECKING:  # pragma: no cover
    from ..backend.explainer import Explainer

FLIGHT_CAP = 0.95
"""Most of its iteration budget the bar credits to a subset still in flight (so the bar never
reaches a finished subset's mark, or 100 %, before the solve says so)."""


def duration(seconds: float) -> str:
    """``12 s``, ``4 min``, ``1.5 h`` (``?`` when not finite)."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def countdown(seconds: float) -> str:
    """The live line's time left, fine enough to move with the clock: ``45 s``, ``3 min 05 s``
    (5-second steps below 20 minutes), ``25 min``, ``1.5 h`` (``?`` when not finite).  A
    whole-minute text stood still for minutes while the solve went on (issue 23).
    """
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 1200:
        whole = int(5 * round(seconds / 5))
        return f"{whole // 60} min {whole % 60:02d} s"
    return duration(seconds)


def _is_cancel(exc: BaseException) -> bool:
    from ..core.solver import SolveInterrupted

    return isinstance(exc, (SolveInterrupted, KeyboardInterrupt))


class ProgressLine(widgets.HBox):
    """The progress of every explanation the attached views wait for (see the module doc).

    ``bar`` (``.prsg-progress``), ``status`` (``.prsg-status``), ``button`` (``.prsg-cancel``:
    Cancel while solving, Resume after a stop); ``eta`` (seconds, ``None`` when unknown);
    ``stopped`` (the views the last Cancel stopped, until Resume).
    """

    def __init__(self, width: str = "240px") -> None:
        self.bar = widgets.FloatProgress(value=0, min=0, max=1, description="solve",
                                         layout=widgets.Layout(width=width, flex="none"))
        self.bar.add_class("prsg-progress")
        self.status = widgets.HTML("", layout=widgets.Layout(flex="1 1 200px"))
        self.button = widgets.Button(description="Cancel", icon="stop",
                                     layout=widgets.Layout(width="90px", flex="none"),
                                     tooltip="stop solving (finished minimal features are kept; Resume continues "
                                             "every view this stopped)")
        self.button.add_class("prsg-cancel")
        self.button.on_click(lambda _b: self.cancel() if self.solving() else self.resume())
        self.button.layout.display = "none"
        super().__init__([self.button, self.bar, self.status],
                         layout=widgets.Layout(align_items="center", flex_flow="row nowrap"))
        self.add_class("prsg-progress-line")
        self.views: list[Any] = []
        self.stopped: list[Any] = []
        self.eta: float | None = None
        self._bar = 0.0
        self._flight_count = 0
        self._flight_step = 0
        self._ticker: Any = None  # a tornado PeriodicCallback while a solve runs
        self.on_update: Callable[[], None] | None = None
        """Called after each update (the dashboard's report listens)."""

    # ------------------------------------------------------------------ membership
    def attach(self, view: Any) -> None:
        if all(view is not v for v in self.views):
            self.views.append(view)

    def explanations(self) -> list[ExplanationLike]:
        """Every explanation the attached views watch, once each."""
        out: list[ExplanationLike] = []
        for v in self.views:
            for e in v._watched:
                if all(e is not o for o in out):
                    out.append(e)
        return out

    def explainers(self) -> list[Explainer]:
        """The explainers those explanations are bound to, once each."""
        out: list[Explainer] = []
        for e in self.explanations():
            ex = bound_explainer(e)
            if ex is not None and all(ex is not o for o in out):
                out.append(ex)
        return out

    def solving(self) -> bool:
        return any(v._solving() for v in self.views)

    def failures(self) -> list[BaseException]:
        out = []
        for v in self.views:
            out += [f.exception() for f in v.futures if f.done() and f.exception() is not None]
        return out

    # ------------------------------------------------------------------ cancel / resume
    def cancel(self) -> None:
        """Stop the solves of every attached view (their explainers' queues); finished minimal
        features are kept and :meth:`resume` continues each view this stopped.
        """
        self.stopped = [v for v in self.views if v._solving()]
        for ex in self.explainers():
            ex.cancel()

    def resume(self) -> None:
        """Queue again the unsolved minimal features of every view the last Cancel stopped (and of
        any view whose solve failed).
        """
        todo = list(self.stopped)
        for v in self.views:
            if v.futures and any(f.done() and f.exception() is not None for f in v.futures) \
                    and all(v is not o for o in todo):
                todo.append(v)
        self.stopped = []
        for v in todo:
            v.resume()
        self.update()

    # ------------------------------------------------------------------ display
    def update(self, complete: str | None = None) -> bool:
        """Bar, status line and button from the views' state; ``False`` when a solve stopped or
        failed (the status then says so and how much is kept).
        """
        es = self.explanations()
        done, total = sum(e.progress[0] for e in es), sum(e.progress[1] for e in es)
        solving = self.solving()
        failed = [] if solving else self.failures()
        self.bar.max = max(1, total)
        self.bar.value = done if failed else self._bar_value(done, total, solving)
        if failed:
            kept = f"{done}/{total} minimal features kept" if done < total else "every minimal feature is solved"
            if all(_is_cancel(x) for x in failed):
                text = f"stopped — {kept}; Resume continues"
            else:
                text = f"solve failed: {html.escape(str(failed[0]) or 'no message')} — {kept}; Resume retries"
            self.status.value = status_html(text, error=True)
        elif done < total and solving:
            self.status.value = status_html(self.progress_text(done, total))
        elif done < total:
            self.status.value = status_html(f"{done}/{total} minimal features solved")
        else:
            self.status.value = status_html(complete or self._complete_text(total))
        self._set_button(solving, bool(failed) and done < total)
        if solving:
            self._start_ticker()
        if self.on_update is not None:
            self.on_update()
        return not failed

    def _complete_text(self, total: int) -> str:
        texts = [v._complete_text() for v in self.views if v._watched]
        return texts[0] if len(texts) == 1 else f"every view solved ({total} minimal features)"

    def _set_button(self, solving: bool, stopped: bool) -> None:
        if solving:
            self.button.description, self.button.icon = "Cancel", "stop"
        elif stopped:
            self.button.description, self.button.icon = "Resume", "play"
        self.button.layout.display = None if solving or stopped else "none"

    def progress_text(self, done: int, total: int) -> str:
        """``done/total minimal features (k in the batch, up to iteration i) · speed · ≈ time left``."""
        parts = [f"{done}/{total} minimal features"]
        if self._flight_count:  # the iteration moves while a wide level climbs and nothing lands
            parts[0] += f" ({self._flight_count} in the batch, up to iteration {self._flight_step})"
        self.eta = None
        secs, rates = 0.0, []
        for ex in self.explainers():
            rate = ex.scheduler.meter.rate()
            if rate:
                rates.append(rate)
            eta = eta_for(ex, [e for e in self.explanations() if e.explainer is ex])
            secs = math.nan if eta is None else secs + eta
        if rates:
            parts.append(f"{sum(rates) / len(rates):.0f} subset-it/s")
        if rates and math.isfinite(secs):
            self.eta = secs
            parts.append(f"≈ {countdown(secs)} left")
        else:
            parts.append("time left: estimated once the first minimal features land")
        return " · ".join(parts)

    def _bar_value(self, done: int, total: int, solving: bool) -> float:
        """Finished minimal features plus the in-flight subsets' share of their iteration budget
        (each capped at ``FLIGHT_CAP``), so the bar moves during a long batch; it never goes back
        while a solve runs and reaches ``total`` only once everything is solved.
        """
        if done >= total:
            value = float(total)
        elif not solving:
            value = float(done)
            self._flight_count = 0
        else:
            share, count = self._in_flight()
            value = max(done + share, min(self._bar, done + count * FLIGHT_CAP))
        self._bar = value
        return value

    def _in_flight(self) -> tuple[float, int]:
        keys = {e.key for e in self.explanations()} - {None}
        for ex in self.explainers():
            flight = ex.in_flight()
            if flight is not None and flight.key in keys:
                budget = max(1, int(flight.budget))
                self._flight_count = len(flight.steps)
                self._flight_step = max(flight.steps.values(), default=0)
                return sum(min(FLIGHT_CAP, it / budget) for it in flight.steps.values()), len(flight.steps)
        self._flight_count = 0
        return 0.0, 0

    def reset(self) -> None:
        """The views show other explanations: the bar starts again from what is solved."""
        self._bar, self._flight_count, self.eta = 0.0, 0, None

    # ------------------------------------------------------------------ ticker
    def tick(self) -> None:
        """Bar and status only (speed, ETA, heartbeat): nothing else changes between results."""
        self.update()

    def _start_ticker(self) -> None:
        """In a kernel, re-read progress once a second while solving."""
        loop = kernel_loop()
        if loop is None or self._ticker is not None:
            return
        from tornado.ioloop import PeriodicCallback

        def tick(me=self):
            if not me.solving():
                me._stop_ticker()
                for v in me.views:
                    v.refresh()
            else:
                me.tick()

        self._ticker = PeriodicCallback(tick, 1000)
        loop.add_callback(self._ticker.start)

    def _stop_ticker(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.stop()
