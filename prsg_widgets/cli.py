"""``prsg`` command line: the main job, ``prsg explain``.

    prsg explain --model dcgan-faces --seed 0 --n 4 --out DIR

writes ``DIR/explanation.npz`` (arrays documented in the README, with the explanation's health as
``health_*`` keys), ``DIR/health.json`` and ``DIR/overview.png``, and prints the health.
Bad arguments exit non-zero with a one-line message; an ``--out`` that already holds files is
refused unless ``--force`` is given.  ``prsg --version`` prints the version; ``--help`` shows every
default and loads nothing heavy (the commands import torch when they run).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"prsg: error: {message}\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: …)`` after every option that has a real default (not ``None``/``False``:
    those options say in their help what leaving them out means).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        # `is`, not `in`: 0 == False, and a default of 0 (--seed) is a real default to show
        unset = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in text or not action.option_strings or unset or isinstance(action, argparse._VersionAction):
            return text
        return text + " (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    """The ``prsg`` parser; the flags of :class:`~prsg_widgets.backend.settings.Settings` come from
    one parent parser shared by ``explain`` and ``sweep``.  Imports nothing heavy (``--help`` does
    not load torch).
    """
    from ._version import __version__
    from .backend.settings import add_arguments

    parser = _Parser(prog="prsg", description="Explain an image generator's feature as OR Harsanyi interactions.",
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"prsg {__version__}")
    shared = add_arguments(_Parser(add_help=False))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ex = sub.add_parser("explain", parents=[shared], formatter_class=_HelpFormatter,
                        help="solve all minimal features of one sample and write the explanation")
    ex.add_argument("--seed", type=int, default=0, help="seed of the generated sample")
    ex.add_argument("--dense-control", action="store_true",
                    help="also solve the dense control (App. I) and report its sparsity in the health")
    ex.add_argument("--top-k", type=int, default=None,
                    help="k of the health's matching error (default: min(30, 2^n/4))")
    ex.add_argument("--top", type=int, default=8, help="regional patterns shown in overview.png")
    ex.add_argument("--out", default="prsg_out", help="output directory (explanation.npz, health.json, overview.png)")
    ex.add_argument("--force", action="store_true",
                    help="write into a non-empty --out (replacing files of the same name)")
    _add_sweep_parser(sub, shared)
    return parser


def _add_sweep_parser(sub, shared: argparse.ArgumentParser) -> None:
    sw = sub.add_parser("sweep", parents=[shared], formatter_class=_HelpFormatter,
                        help="explain many images on a Dask cluster and study them together "
                             "(transferability, ρ, breach, health over images)")
    sw.add_argument("--seeds", default="0:8", help="images: START:STOP (STOP excluded), START:STOP:STEP or 3,5,9")
    sw.add_argument("--same-patches", action=argparse.BooleanOptionalAction, default=True,
                    help="every image over the first image's patch positions (default; transferability needs it)")
    sw.add_argument("--chunk", type=int, default=None,
                    help="subsets per task (default: 64 on CPUs, an image on GPUs)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", default=None, help="join a running Dask cluster at tcp://HOST:PORT")
    sw.add_argument("--gpus", action="store_true", help="one worker per GPU (dask-cuda's LocalCUDACluster)")
    sw.add_argument("--retries", type=int, default=3, help="retries of a task that fails")
    sw.add_argument("--k-a", type=int, default=None, help="transferability's k_a (default: 20/511 scaled to n)")
    sw.add_argument("--k-b", type=int, default=None, help="transferability's k_b (default: 100/511 scaled to n)")
    sw.add_argument("--no-metrics", action="store_true",
                    help="health and transferability only (skip ρ, breach, inconsistency)")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.add_argument("--out", default="prsg_sweep", help="output directory (study.json, study.md, study.png; "
                                                        "the solve cache in OUT/cache unless --cache-dir)")
    sw.add_argument("--force", action="store_true",
                    help="write into a non-empty --out (replacing files of the same name)")


def _refuse_to_overwrite(out: Path, force: bool, cache_dir) -> None:
    """A ``SettingsError`` when ``out`` already holds something (a previous run's results) and
    ``--force`` is not given.  The solve cache inside ``out`` (the sweep's ``OUT/cache``, or a
    ``--cache-dir`` there) does not count: rerunning after an interruption resumes from it.
    """
    from .core.errors import SettingsError

    if force or not out.is_dir():
        return
    cache = Path(cache_dir).expanduser().resolve() if cache_dir is not None else None
    found = sorted(p.name for p in out.iterdir()
                   if not p.name.startswith(".prsg-probe-") and p.name != LOCK_NAME
                   and (cache is None or p.resolve() != cache))
    if found:
        shown = ", ".join(found[:4]) + (", …" if len(found) > 4 else "")
        raise SettingsError(f"--out {out} is not empty (it holds {shown}); give --force to write into it "
                            "(files of the same name are replaced) or choose another --out")


def _subsets(n: int) -> str:
    """How the output counts subsets, the same in every line: the ``2^n − 1`` non-empty ones (the
    empty subset's minimal feature is the baseline b itself, never solved nor counted).
    """
    return f"{(1 << n) - 1} non-empty subsets"


def _explain(args: argparse.Namespace) -> int:
    from .backend.settings import Settings
    from .core.validate import check_positive_int, check_writable_dir
    # everything that can be checked is checked before the model loads or anything is solved
    settings = Settings.from_args(args)
    if args.top_k is not None:
        check_positive_int(args.top_k, "--top-k", max=1 << 20)
    check_positive_int(args.top, "--top", max=1 << 20)
    out = check_writable_dir(args.out, "--out")
    out = _usable_out(out)
    with _own_out(out, EXPLAIN_FILES):  # before the emptiness check: two runs cannot both pass it
        _refuse_to_overwrite(out, args.force, settings.cache_dir)
        return _explain_into(out, args, settings)


def _explain_into(out: Path, args: argparse.Namespace, settings) -> int:
    from .backend import Explainer
    from .backend.persistence.files import figure_bytes, write_bytes
    from .figures import overview_figure

    start = time.perf_counter()
    with Explainer(settings=settings) as explainer:
        sample = explainer.sample(args.seed)
        expl = explainer.explain(sample)
        done = int(expl.solved_mask()[1:].sum())
        print(f"{settings.model} layer {explainer.generator.layer} (d={explainer.generator.d}), seed {args.seed}, "
              f"patches {list(expl.patches)}: solving the minimal features of the {_subsets(expl.n)} "
              f"(2^{expl.n} − 1) on {explainer.device}"
              + (f" (resuming: {done} already solved)" if done else ""), flush=True)
        expl.solve_all()
        if args.dense_control:
            from .metrics import dense_control

            print("solving the dense control (a random feature of the same shape and statistics)", flush=True)
            dense_control(explainer, expl).solve_all()
        health = expl.health(k=args.top_k)
        extra = {f"health_{key}": (float("nan") if value is None else value) for key, value in health.as_dict().items()}
        _write_pair(out, expl, extra, health.to_json() + "\n")
        preset = f"'{settings.preset_name}'" if settings.preset_name else "(custom)"
        fig = overview_figure(expl, top=args.top, health=health,
                              solver=f"{preset}: {explainer.config.describe()}")
        write_bytes(out / "overview.png", figure_bytes(fig, format="png", dpi=120, bbox_inches="tight"))
        feasible = expl.feasible[1:]  # the non-empty subsets, as counted above
        print(f"done in {time.perf_counter() - start:.1f} s ({explainer.config.describe()}, {explainer.precision}), "
              f"{int(expl.iterations.sum()):,} subset-iterations: "
              f"{feasible.sum()}/{feasible.size} non-empty subsets feasible (every patch mse ≤ ε = {expl.epsilon:g}); "
              f"wrote {out / 'explanation.npz'} (Explanation.load reads it), {out / 'health.json'} and "
              f"{out / 'overview.png'}")
        print("health:\n  " + health.summary().replace("\n", "\n  "))
    return 0


EXPLAIN_FILES = ("explanation.npz", "health.json", "overview.png")
SWEEP_FILES = ("study.json", "study.md", "study.png")
LOCK_NAME = ".prsg-lock"


@contextlib.contextmanager
def _own_out(out: Path, files: Sequence[str]):
    """Hold ``out`` for this process: an exclusive lock on ``out/.prsg-lock`` (it names the holder),
    so a second ``prsg`` on the same ``--out`` is refused at once instead of both writing and one
    result silently replacing the other.  Also refuses, before any work, an output name that is
    a folder (it could never be replaced by the result).
    """
    for name in files:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            raise ValueError(f"--out {out} holds a folder named {name}, where this command writes a file; "
                             "move it away or choose another --out")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock (docs/cli.md says so)
        yield
        return
    lock = out / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot open its lock file {LOCK_NAME} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "r+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read().strip() or "another process"
            raise ValueError(f"--out {out} is in use by {holder}; wait until it ends, or choose another --out "
                             "(two runs writing into one folder would replace each other's results)") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"prsg (pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                 f"{' '.join(sys.argv[1:3])})\n")
        fh.flush()
        try:
            yield
        finally:  # the file stays (unlinking it would let a waiting opener lock a stale inode)
            fcntl.flock(fh, fcntl.LOCK_UN)


def _usable_out(out: Path) -> Path:
    """``out``, created, once a file can really be written in it (``/proc``, a read-only mount or
    a full disk fail here, before the model loads, not after the solve).
    """
    from .backend.persistence.files import make_dirs, write_text

    try:
        make_dirs(out)
        probe = write_text(out / f".prsg-probe-{os.getpid()}", "probe")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--out {out} cannot be written ({exc.strerror or exc}); "
                         "give a folder you can write to") from None
    return out


def _write_pair(out: Path, expl, extra: dict, health_json: str) -> None:
    """``explanation.npz`` and ``health.json`` together or neither: both are staged beside, then
    renamed (a full disk fails while staging and leaves the previous pair, if any, untouched).
    """
    from .backend.persistence.files import write_text

    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    staged = [out / f".explanation-{tag}.npz", out / f".health-{tag}.json"]
    try:
        expl.save(staged[0], extra=extra)
        write_text(staged[1], health_json)
        os.replace(staged[0], out / "explanation.npz")
        os.replace(staged[1], out / "health.json")
    finally:
        for path in staged:
            path.unlink(missing_ok=True)


def _sweep(args: argparse.Namespace) -> int:
    from .backend.settings import Settings
    from .core.validate import check_positive_int, check_writable_dir
    from .sweep.api import parse_seeds
    from .sweep.cluster import check_scheduler_address

    # everything is checked before a cluster starts (sweep() checks the settings the same way)
    settings = Settings.from_args(args)
    seeds = parse_seeds(args.seeds)
    out = check_writable_dir(args.out, "--out")
    if args.workers is not None:
        check_positive_int(args.workers, "--workers", max=4096)
    if args.scheduler is not None:
        check_scheduler_address(args.scheduler)
    if args.scheduler is not None and args.gpus:
        raise ValueError("--gpus starts a local GPU cluster; with --scheduler the cluster's own workers are used")
    out = _usable_out(out)
    with _own_out(out, SWEEP_FILES):
        _refuse_to_overwrite(out, args.force, settings.cache_dir if settings.cache_dir is not None else out / "cache")
        return _sweep_into(out, args, settings, seeds)


def _sweep_into(out: Path, args: argparse.Namespace, settings, seeds: list[int]) -> int:
    from .sweep.api import sweep

    study = sweep(settings=settings, seeds=seeds, same_patches=args.same_patches, out=out,
                  workers=args.workers, scheduler=args.scheduler, gpus=args.gpus, chunk=args.chunk,
                  retries=args.retries, k_a=args.k_a, k_b=args.k_b, metrics=not args.no_metrics,
                  progress=False if args.no_progress else "tqdm")
    run = study.run
    n = study.settings["n"]
    print(f"done in {run['seconds']:.1f} s on {run['workers']}: {len(study.images)} images × {_subsets(n)}: "
          f"{run['solved_now']} minimal features solved now, {run['skipped']} found in {study.settings['cache_dir']}")
    print(study.summary())
    print(f"wrote {out / 'study.json'}, {out / 'study.md'} and {out / 'study.png'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``prsg`` command."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "explain":
            return _explain(args)
        if args.command == "sweep":
            return _sweep(args)
    except KeyboardInterrupt as exc:  # the explainer was closed: what is on disk is reported
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a further Ctrl-C must not cut the exit short
        print(f"prsg: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130
    except (ValueError, KeyError, ModuleNotFoundError, RuntimeError, OSError) as exc:
        message = (" ".join(str(exc).split()) if not isinstance(exc, ModuleNotFoundError)
                   else str(exc).strip().replace("\n", " "))
        if isinstance(exc, OSError) and not isinstance(exc, ModuleNotFoundError) and exc.strerror:
            where = exc.filename if exc.filename and str(exc.filename) not in exc.strerror else None
            message = " ".join(exc.strerror.split()) + (f": {where}" if where else "")
        print(f"prsg: error: {message}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
