"""``prsg`` command line: the main job, ``prsg explain``.

    prsg explain --model dcgan-faces --seed 0 --n 4 --out DIR

writes ``DIR/explanation.npz`` (arrays documented in the README, with the explanation's health as
``health_*`` keys), ``DIR/health.json`` and ``DIR/overview.png``, and prints the health.
Bad arguments exit non-zero with a one-line message.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn, Optional, Sequence


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"prsg: error: {message}\n")


def _patch_list(text: str) -> list[int]:
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--patches takes comma-separated ids like 3,8,14, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``prsg`` command line: its subcommands and their options."""
    from .models import MODELS
    from .core.solver import PRESETS

    parser = _Parser(prog="prsg", description="Explain an image generator's feature as OR Harsanyi interactions.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ex = sub.add_parser("explain", help="solve all minimal features of one sample and write the explanation")
    ex.add_argument("--model", default="dcgan-faces", choices=sorted(MODELS), help="built-in model")
    ex.add_argument("--layer", default=None, help="layer to split at (default: the model's middle layer)")
    ex.add_argument("--cheap", action="store_true", help="use the model's cheaper layer for quick CPU runs")
    ex.add_argument("--seed", type=int, default=0, help="seed of the generated sample")
    ex.add_argument("--n", type=int, default=None,
                    help="number of patches (foreground choice; default 4) when --patches is not given")
    ex.add_argument("--patches", type=_patch_list, default=None, help="explicit patch ids, e.g. 3,8,14,20")
    ex.add_argument("--grid", type=int, default=6, help="P of the P×P patch grid")
    ex.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="solver preset")
    ex.add_argument("--iterations", type=int, default=None, help="override the preset's iterations")
    ex.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    ex.add_argument("--nested", action="store_true",
                    help="solve subsets by increasing size under the union bound (fast; see the README)")
    ex.add_argument("--constraint", choices=["patch", "mean"], default=None,
                    help="every patch within ε (default) or one mse over T (the literal Eq. 5)")
    ex.add_argument("--init", type=float, default=None, help="start value of the masks (default 0: f_T = b)")
    ex.add_argument("--dense-control", action="store_true",
                    help="also solve the dense control (App. I) and report its sparsity in the health")
    ex.add_argument("--top-k", type=int, default=None,
                    help="k of the health's matching error (default min(30, 2^n/4))")
    ex.add_argument("--batch-size", type=int, default=None, help="subsets per batch (default: from memory)")
    ex.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda if available)")
    ex.add_argument("--cache-dir", default=None, help="resume/keep solves in this directory")
    ex.add_argument("--top", type=int, default=8, help="regional patterns shown in overview.png")
    ex.add_argument("--out", default="prsg_out", help="output directory")
    _add_sweep_parser(sub, MODELS, PRESETS)
    return parser


def _add_sweep_parser(sub, models, presets) -> None:
    sw = sub.add_parser("sweep", help="explain many images on a Dask cluster and study them together "
                                      "(transferability, ρ, breach, health over images)")
    sw.add_argument("--model", default="dcgan-faces", choices=sorted(models), help="built-in model")
    sw.add_argument("--layer", default=None, help="layer to split at (default: the model's middle layer)")
    sw.add_argument("--cheap", action="store_true", help="use the model's cheaper layer")
    sw.add_argument("--seeds", default="0:8", help="images: START:STOP (STOP excluded), START:STOP:STEP or 3,5,9")
    sw.add_argument("--n", type=int, default=None,
                    help="patches per image (foreground choice; default 4) when --patches is not given")
    sw.add_argument("--patches", type=_patch_list, default=None, help="explicit patch ids for every image")
    sw.add_argument("--same-patches", action=argparse.BooleanOptionalAction, default=True,
                    help="every image over the first image's patch positions (default; transferability needs it)")
    sw.add_argument("--grid", type=int, default=6, help="P of the P×P patch grid")
    sw.add_argument("--preset", default="fast", choices=sorted(presets), help="solver preset")
    sw.add_argument("--iterations", type=int, default=None, help="override the preset's iterations")
    sw.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    sw.add_argument("--batch-size", type=int, default=None,
                    help="subsets per batch on every worker (fix it for bit-equal results across devices)")
    sw.add_argument("--chunk", type=int, default=None, help="subsets per task (default 64 on CPUs, an image on GPUs)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", default=None, help="join a running Dask cluster at tcp://HOST:PORT")
    sw.add_argument("--gpus", action="store_true", help="one worker per GPU (dask-cuda's LocalCUDACluster)")
    sw.add_argument("--device", default=None, help="device on each worker (default: cuda if available)")
    sw.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="autocast of the generator tail")
    sw.add_argument("--compile", action="store_true", help="torch.compile the generator tail")
    sw.add_argument("--channels-last", action="store_true", help="channels-last memory format for the tail")
    sw.add_argument("--retries", type=int, default=3, help="retries of a task that fails")
    sw.add_argument("--k-a", type=int, default=None, help="transferability's k_a (default: 20/511 scaled to n)")
    sw.add_argument("--k-b", type=int, default=None, help="transferability's k_b (default: 100/511 scaled to n)")
    sw.add_argument("--no-metrics", action="store_true", help="health and transferability only (skip ρ, breach, inconsistency)")
    sw.add_argument("--cache-dir", default=None, help="shared solve cache (default OUT/cache); a rerun skips what is there")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.add_argument("--out", default="prsg_sweep", help="output directory (study.json, study.md, study.png)")


def _explain(args: argparse.Namespace) -> int:
    from .backend import Explainer
    from .core.validate import check_device, check_positive_int, check_writable_dir
    from .figures import regional_patterns_figure

    # everything that can be checked is checked before the model loads or anything is solved
    if args.layer is not None and not args.layer.strip():
        raise ValueError("--layer is empty; give a layer name or leave --layer out for the model's default")
    if args.top_k is not None:
        check_positive_int(args.top_k, "--top-k", max=1 << 20)
    check_positive_int(args.top, "--top", max=1 << 20)
    if args.patches and args.n is not None and args.n != len(args.patches):
        raise ValueError(f"--n {args.n} contradicts the {len(args.patches)} ids of --patches; leave --n out")
    out = _usable_out(check_writable_dir(args.out, "--out"))
    if args.cache_dir is not None:
        check_writable_dir(args.cache_dir, "--cache-dir")
    check_device(args.device)
    start = time.perf_counter()
    with Explainer(args.model, grid=args.grid, device=args.device, solver=args.preset,
                   batch_size=args.batch_size, cache_dir=args.cache_dir, layer=args.layer,
                   cheap=args.cheap, iterations=args.iterations, lr=args.lr,
                   nested=True if args.nested else None, constraint=args.constraint, init=args.init) as explainer:
        sample = explainer.sample(args.seed)
        expl = explainer.explain(sample, patches=args.patches, n=args.n if args.n is not None or args.patches else 4)
        print(f"{args.model} layer {explainer.generator.layer} (d={explainer.generator.d}), seed {args.seed}, "
              f"patches {list(expl.patches)}: solving {expl.num_subsets} minimal features on {explainer.device}"
              + (f" (resuming: {expl.progress[0]} already solved)" if expl.progress[0] > 1 else ""), flush=True)
        expl.solve_all()
        if args.dense_control:
            from .metrics import dense_control

            print("solving the dense control (a random feature of the same shape and statistics)", flush=True)
            dense_control(explainer, expl).solve_all()
        health = expl.health(k=args.top_k)
        extra = {f"health_{key}": (float("nan") if value is None else value) for key, value in health.as_dict().items()}
        _write_pair(out, expl, extra, health.to_json() + "\n")
        top = [c.subset for c in expl.components(top=args.top)]
        fig = regional_patterns_figure(expl, top, expl.regional_patterns(top), ncols=min(len(top) + 1, 9))
        fig.savefig(out / "overview.png", dpi=120, bbox_inches="tight")
        feasible = expl.feasible
        print(f"done in {time.perf_counter() - start:.1f} s ({explainer.config.describe()}): "
              f"{feasible.sum()}/{feasible.size} subsets feasible (every patch mse ≤ ε = {expl.epsilon:g}); "
              f"wrote {out / 'explanation.npz'} (Explanation.load reads it), {out / 'health.json'} and "
              f"{out / 'overview.png'}")
        print("health:\n  " + health.summary().replace("\n", "\n  "))
    return 0


def _usable_out(out: Path) -> Path:
    """``out``, created, once a file can really be written in it (``/proc``, a read-only mount or
    a full disk fail here, before the model loads, not after the solve)."""
    from .backend.files import make_dirs, write_text

    try:
        make_dirs(out)
        probe = write_text(out / f".prsg-probe-{os.getpid()}", "probe")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--out {out} cannot be written ({exc.strerror or exc}); give a folder you can write to") from None
    return out


def _write_pair(out: Path, expl, extra: dict, health_json: str) -> None:
    """``explanation.npz`` and ``health.json`` together or neither: both are staged beside, then
    renamed (a full disk fails while staging and leaves the previous pair, if any, untouched)."""
    from .backend.files import write_text

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
    from .core.validate import check_positive_int, check_writable_dir
    from .sweep.api import parse_seeds, sweep
    from .sweep.cluster import check_scheduler_address

    # everything is checked before a cluster starts (sweep() checks again, the same way)
    seeds = parse_seeds(args.seeds)
    if args.n is not None:
        check_positive_int(args.n, "--n", max=30)
    out = check_writable_dir(args.out, "--out")
    if args.cache_dir is not None:
        check_writable_dir(args.cache_dir, "--cache-dir")
    if args.workers is not None:
        check_positive_int(args.workers, "--workers", max=4096)
    if args.scheduler is not None:
        check_scheduler_address(args.scheduler)
    if args.scheduler is not None and args.gpus:
        raise ValueError("--gpus starts a local GPU cluster; with --scheduler the cluster's own workers are used")
    if args.layer is not None and not args.layer.strip():
        raise ValueError("--layer is empty; give a layer name or leave --layer out for the model's default")
    study = sweep(args.model, seeds=seeds, n=args.n, patches=args.patches, same_patches=args.same_patches, out=out,
                  workers=args.workers, scheduler=args.scheduler, gpus=args.gpus, preset=args.preset,
                  cheap=args.cheap, layer=args.layer, grid=args.grid, cache_dir=args.cache_dir,
                  batch_size=args.batch_size, device=args.device, chunk=args.chunk, retries=args.retries,
                  k_a=args.k_a, k_b=args.k_b, metrics=not args.no_metrics,
                  progress=False if args.no_progress else "tqdm", precision=args.precision,
                  compile=args.compile, channels_last=args.channels_last,
                  iterations=args.iterations, lr=args.lr)
    run = study.run
    print(f"done in {run['seconds']:.1f} s on {run['workers']}: {run['solved_now']} minimal features solved now, "
          f"{run['skipped']} found in {study.settings['cache_dir']}")
    print(study.summary())
    print(f"wrote {out / 'study.json'}, {out / 'study.md'} and {out / 'study.png'}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
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
        message = " ".join(str(exc).split()) if not isinstance(exc, ModuleNotFoundError) else str(exc).strip().replace("\n", " ")
        if isinstance(exc, OSError) and not isinstance(exc, ModuleNotFoundError) and exc.strerror:
            where = exc.filename if exc.filename and str(exc.filename) not in exc.strerror else None
            message = " ".join(exc.strerror.split()) + (f": {where}" if where else "")
        print(f"prsg: error: {message}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
