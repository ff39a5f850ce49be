"""Command line: ``cluster-review run | eval | presets | demo | suspects | relink`` (+ installed front ends: ``gui``)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

from pipeline.config import DEFAULT_PRESET, PRESETS, PipelineConfig, get_preset
from pipeline.cli.arguments import OneLineParser, at_least, scheduler_address
from pipeline.cli.relink import add_relink_arguments, relink_main
from pipeline.cli.suspects import add_suspects_arguments, suspects_main
from pipeline.core.errors import one_line
from pipeline.core.paths import display_path
from pipeline.core.progress import Cancelled

#: Set to 1 to get the traceback of an unexpected error after its one-line message.
DEBUG_ENV_VAR = "CLUSTER_REVIEW_DEBUG"


def parse_k_range(text: str) -> tuple[int, int]:
    """``"30:60"`` -> ``(30, 60)``."""
    try:
        lo, hi = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"k range must look like 30:60, got {text!r}") from None
    if lo < 2 or lo > hi:
        raise argparse.ArgumentTypeError(f"k range needs 2 <= lo <= hi, got {text!r}")
    return lo, hi


def _config_from_args(args: argparse.Namespace) -> PipelineConfig:
    config = PipelineConfig.load(args.config) if args.config else get_preset(args.preset)
    if args.k_range:
        config = config.with_k(k_range=args.k_range)
    elif args.k is not None:
        config = config.with_k(k=args.k)
    if getattr(args, "labeling_mode", False):
        config.labeling_mode = True  # k (the preset's, or --k) is then the number of classes
    if args.no_crop:
        config.crop_roi = False
    if args.seed is not None:
        config.seed = args.seed
    return config


def _format_summary(result) -> str:
    from pipeline.evaluate import format_metrics

    lines = [
        f"images: {len(result.image_set)} clustered, {len(result.image_set.skipped)} skipped "
        f"(layout: {result.image_set.layout})",
        f"clusters: {result.clusters.n_clusters} ({result.config.name}: {result.config.method})",
    ]
    sel = result.clusters.k_selection
    if sel is not None:
        lines.append(f"k chosen by {sel.criterion}: {sel.best_k} (tried {sel.ks[0]}..{sel.ks[-1]})")
    lines.append("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    lines.extend(result.notes)
    if result.metrics is not None:
        lines.append(format_metrics(result.metrics))
    for skipped in result.image_set.skipped[:10]:
        lines.append(f"skipped {display_path(skipped.path)}: {skipped.reason}")
    if len(result.image_set.skipped) > 10:
        lines.append(f"... and {len(result.image_set.skipped) - 10} more skipped files (see skipped.csv)")
    return "\n".join(lines)


ENGINES = ("local", "dask")


def check_engine_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--scheduler`` and ``--workers`` only where they mean something; dask installed."""
    if args.scheduler is not None and args.engine != "dask":
        parser.error("--scheduler needs --engine dask")
    if args.scheduler is not None and args.workers is not None:
        parser.error("--workers sizes a local cluster; the cluster at --scheduler brings its own workers")
    if args.engine == "dask":
        from pipeline.engine.dask_engine import INSTALL_HINT, dask_available

        if not dask_available():
            parser.error(INSTALL_HINT)


def _make_run_engine(args: argparse.Namespace):
    """The engine ``--engine``/``--workers``/``--scheduler`` ask for; ``None``: the pipeline's default."""
    if args.engine is None and args.workers is None:
        return None
    from pipeline.engine import make_engine

    if args.engine == "dask":
        return make_engine("dask", address=args.scheduler, n_workers=args.workers)
    return make_engine("local", workers=args.workers)


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.outputs import write_run
    from pipeline.cli.progress_bar import TextProgressBar
    from pipeline.run import run_pipeline

    config = _config_from_args(args)
    engine = _make_run_engine(args)
    extra = {} if engine is None else {"engine": engine}
    if engine is not None and engine.name == "dask":  # the micro-cluster k-means runs on the cluster too
        from pipeline.engine.kmeans import engine_micro_clusterer

        extra["micro_clusterer"] = engine_micro_clusterer(engine)
    bar = TextProgressBar()
    try:
        result = run_pipeline(config, args.folder, progress=bar, cache_dir=False if args.no_cache else args.cache_dir,
                              **extra)
    finally:
        bar.close()
        if engine is not None:
            engine.close()
    try:
        files = write_run(result, Path(args.out))
    except OSError as exc:
        raise ValueError(f"cannot write the results to {display_path(args.out)}: {exc.strerror or exc} "
                         "(no file was left half-written)") from exc
    print(_format_summary(result))
    print(f"wrote {', '.join(display_path(p) for p in files.values())}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate_assignments, format_metrics

    metrics = evaluate_assignments(args.assignments, labels_source=args.labels)
    print(format_metrics(metrics))
    if args.json:
        from pipeline.outputs import write_json

        write_json(Path(args.json), metrics)
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for name, cfg in sorted(PRESETS.items()):
        marker = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name}{marker}: {cfg.description}")
        if args.verbose:
            print("  " + json.dumps(cfg.to_dict()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.io.demo import write_demo_folder

    items = write_demo_folder(Path(args.folder), n_per_class=args.n_per_class, seed=args.seed, layout=args.layout)
    print(f"wrote {len(items)} demo images to {args.folder}")
    return 0


#: Entry-point group through which installed front ends add subcommands (the window adds
#: ``gui``); each entry point is a ``main(argv) -> int``. The core never imports them.
COMMANDS_GROUP = "cluster_review.commands"


def plugin_commands() -> dict:
    """Installed subcommands from :data:`COMMANDS_GROUP`, name -> entry point."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}


def cmd_plugin(args: argparse.Namespace) -> int:
    return int(args.entry_point.load()(list(args.plugin_args)) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="cluster-review", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="cluster a folder of images and write the results")
    run.add_argument("folder", help="image folder, class folders, a GTSRB root, a path,label CSV, "
                     "or an fsspec URL of one (s3://bucket/images, needs the store's fsspec backend)")
    run.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS))
    run.add_argument("--config", help="pipeline config file (JSON or TOML) instead of a preset")
    group = run.add_mutually_exclusive_group()
    group.add_argument("--k", type=at_least(2), help="number of clusters (2 up to the number of images)")
    group.add_argument("--k-range", type=parse_k_range, help="choose k automatically in LO:HI")
    run.add_argument("--labeling-mode", action="store_true",
                     help="many small, pure clusters (about 40 images each; --k is then the number of classes)")
    run.add_argument("--no-crop", action="store_true", help="ignore annotated ROIs (GTSRB)")
    run.add_argument("--seed", type=int)
    run.add_argument("--cache-dir", help="where decoded images are cached (default: user cache)")
    run.add_argument("--no-cache", action="store_true", help="do not read or write the decode cache")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--engine", choices=ENGINES,
                     help="where decoding and features run: local (this machine's cores) or dask (a cluster)")
    run.add_argument("--scheduler", type=scheduler_address, metavar="ADDRESS",
                     help="Dask scheduler, tcp://HOST:PORT (with --engine dask; default: start a local cluster)")
    run.add_argument("--workers", type=at_least(1, 256),
                     help="worker processes for --engine local, or for the local Dask cluster")
    run.set_defaults(func=cmd_run, check=check_engine_args, check_parser=run)

    ev = sub.add_parser("eval", help="score an assignments.csv against labels")
    ev.add_argument("assignments")
    ev.add_argument("--labels", help="path,label CSV (default: the label column of the assignments)")
    ev.add_argument("--json", help="also write the metrics to this JSON file")
    ev.set_defaults(func=cmd_eval)

    pr = sub.add_parser("presets", help="list the pipeline presets")
    pr.add_argument("-v", "--verbose", action="store_true")
    pr.set_defaults(func=cmd_presets)

    demo = sub.add_parser("demo", help="write the built-in synthetic traffic-sign demo set")
    demo.add_argument("folder")
    demo.add_argument("--n-per-class", type=at_least(1), default=30)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--layout", choices=["class-folders", "flat"], default="class-folders")
    demo.set_defaults(func=cmd_demo)

    sp = sub.add_parser("suspects", help="rank images whose given label is probably wrong")
    add_suspects_arguments(sp)
    sp.set_defaults(func=suspects_main)

    rl = sub.add_parser("relink", help="point a project at its image folder's new place")
    add_relink_arguments(rl)
    rl.set_defaults(func=relink_main)

    for name, ep in sorted(plugin_commands().items()):
        plug = sub.add_parser(name, help=f"{name} (installed front end; see: cluster-review {name} --help)",
                              add_help=False, prefix_chars="\0")
        plug.add_argument("plugin_args", nargs=argparse.REMAINDER)
        plug.set_defaults(func=cmd_plugin, entry_point=ep)
    return parser


def _escape_odd_bytes() -> None:
    """Print file names that are not UTF-8 as ``\\xe9`` instead of failing on them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; errors are one ``error: ...`` line and exit status 2."""
    _escape_odd_bytes()
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:  # checks across arguments, with the subcommand's parser for the message
        check(args.check_parser, args)
    try:
        return int(args.func(args) or 0)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one plain line; details on request
        print(f"error: {one_line(exc)}", file=sys.stderr)
        if os.environ.get(DEBUG_ENV_VAR, "").strip() not in ("", "0"):
            traceback.print_exception(exc, file=sys.stderr)
        elif not isinstance(exc, (ValueError, OSError)):
            print(f"(an unexpected error: set {DEBUG_ENV_VAR}=1 for the details)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
