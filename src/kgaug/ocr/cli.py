"""``kgaug ocr`` and ``kgaug risk``: the OCR experiment and the OCR risk report of a KG.

:func:`add_commands` registers both subcommands on the ``kgaug`` parser::

    kgaug ocr --parameterization both --extra-d-h 4 --out ocr-run
    kgaug risk kg.jsonl --top 20
    kgaug risk augmented.jsonl --compare          # against the file's real facts
    kgaug risk augmented.jsonl --original kg.tsv  # against another file
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]


def _config_error(e: Exception) -> str:
    """A one-line message from a pydantic ValidationError (field: problem; ...)."""
    errors = getattr(e, "errors", None)
    if not callable(errors):
        return str(e)
    parts = []
    for err in errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "invalid OCR settings: " + "; ".join(parts)


def _ocr_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "steps": args.steps,
        "seed": args.seed,
        "optimizer": args.optimizer,
        "init": args.init,
        "n": args.n,
        "m": args.m,
        "m_train": args.m_train,
        "seq_len": args.seq_len,
        "noise_tokens": args.noise_tokens,
        "resample_noise": not args.fixed_noise,
        "train_kq": not args.freeze_kq,
        "loss_over": args.loss_over,
    }
    for key in ("lr", "weight_decay", "init_scale", "log_every"):
        value = getattr(args, key)
        if value is not None:
            opts[key] = value
    if args.device:
        opts["device"] = args.device
    return opts


def _cmd_ocr(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kgaug.cli import _require

    _require("torch")  # a missing PyTorch is one line from kgaug.cli.main, before any work
    from kgaug.ocr.experiment import run_experiment
    from kgaug.ocr.result import OCRResult, plot_curves, summary_table
    from kgaug.ocr.task import OCRConfig

    opts = _ocr_options(args)
    kinds = (
        ["factorized", "nonfactorized"]
        if args.parameterization == "both"
        else [args.parameterization]
    )
    runs = [{"parameterization": k, "d_h": args.d_h} for k in kinds]
    runs += [{"parameterization": "factorized", "d_h": d} for d in args.extra_d_h or ()]
    try:
        configs = [OCRConfig(**opts, **run) for run in runs]
    except ValidationError as e:
        raise ValueError(_config_error(e)) from None
    results: list[OCRResult] = []
    try:
        for cfg in configs:
            if not args.json and not args.quiet:
                print(f"running {cfg.describe()}", file=sys.stderr)
            results.append(run_experiment(cfg, progress=None if not args.quiet else False))
    except FloatingPointError as e:
        print(f"kgaug ocr: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    elif not args.quiet:
        print(summary_table(results))
        bound = results[0].chance_test_loss
        print(f"\nlog|A2| = {bound:.3f} (Theorem 2: the non-factorized test loss stays above it)")
    if args.out:
        from kgaug._fileio import atomic_write

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "metrics.jsonl") as fh:
            for r in results:
                for row in r.to_records():
                    fh.write(json.dumps(row) + "\n")
        with atomic_write(out / "results.json") as fh:
            fh.write(json.dumps([r.to_dict() for r in results], indent=2) + "\n")
        written = ["metrics.jsonl", "results.json"]
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            pass
        else:
            fig = plot_curves(results)
            fig.savefig(out / "ocr_curves.png", dpi=120)
            written.append("ocr_curves.png")
        if not args.quiet:
            print(f"\nwrote {', '.join(written)} to {out}", file=sys.stderr)
    return 0


def _cmd_risk(args: argparse.Namespace) -> int:
    from kgaug.cli import _input_options, load_graph
    from kgaug.ocr.risk import check_augmentation, risk_report

    if args.top < 1:
        raise ValueError(f"--top must be >= 1, got {args.top}")
    kg = load_graph(args.file, args.format, args.example, **_input_options(args))
    if args.compare or args.original:
        original = load_graph(args.original) if args.original else None
        cmp = check_augmentation(
            kg,
            original,
            threshold=args.threshold,
            min_support=args.min_support,
            relations=args.relations,
        )
        if args.json:
            print(json.dumps(cmp.to_records()[: args.top], indent=2, ensure_ascii=False))
        else:
            print(cmp.to_string(max_rows=args.top))
            print("\n" + cmp.message())
        return 1 if cmp.flagged else 0
    rep = risk_report(kg, min_support=args.min_support, relations=args.relations)
    if args.json:
        data = rep.to_dict()
        data["pairs"] = data["pairs"][: args.top]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(rep.to_string(max_rows=args.top))
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``ocr`` and ``risk`` on the ``kgaug`` subcommand parser ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        From ``parser.add_subparsers()``; each command sets ``func`` (returns an exit code).
    """
    from kgaug.cli import OCR_PAPER, _add_input

    p = sub.add_parser(
        "ocr",
        help="the symbolic out-of-context reasoning (OCR) experiment: factorized vs "
        "non-factorized attention",
        description=(
            "Train one-layer attention-only models on the symbolic out-of-context reasoning "
            f"task of {OCR_PAPER} (Sec. 3) and print train/test loss, test accuracy, mean "
            "rank and the norms of W_O W_V^T. Needs PyTorch (pip install 'kgaug[train]')."
        ),
    )
    p.add_argument(
        "--parameterization",
        choices=("factorized", "nonfactorized", "both"),
        default="both",
        help="model(s) to train",
    )
    p.add_argument("--d-h", type=int, default=128, help="hidden size d_h")
    p.add_argument(
        "--extra-d-h",
        type=int,
        nargs="+",
        metavar="D_H",
        help="also train factorized models with these hidden sizes (the paper: 4; default: none)",
    )
    p.add_argument("--steps", type=int, default=5000, help="training steps")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--optimizer",
        choices=("adamw", "gd"),
        default="adamw",
        help="AdamW, or plain gradient descent (no momentum)",
    )
    p.add_argument("--lr", type=float, help="learning rate (default: AdamW 0.03, GD 1.0)")
    p.add_argument("--weight-decay", type=float, help="weight decay (default: AdamW 0.1, GD 0)")
    p.add_argument(
        "--init",
        choices=("gaussian", "symmetric"),
        default="gaussian",
        help="small Gaussian weights, or the symmetric initialization of the paper's "
        "Assumption 2 (scale: --init-scale)",
    )
    p.add_argument(
        "--init-scale", type=float, help="Gaussian std or symmetric alpha (default: 0.01)"
    )
    p.add_argument("--n", type=int, default=20, help="groups, |A1| = |A2| = n")
    p.add_argument("--m", type=int, default=4, help="subjects per group")
    p.add_argument("--m-train", type=int, default=1, help="training subjects per group")
    p.add_argument("--seq-len", type=int, default=16, help="sequence length")
    p.add_argument("--noise-tokens", type=int, default=5, help="noise vocabulary size")
    p.add_argument(
        "--fixed-noise", action="store_true", help="draw the training noise once, not per step"
    )
    p.add_argument("--freeze-kq", action="store_true", help="keep W_KQ at its initial value")
    p.add_argument(
        "--loss-over",
        choices=("answers", "vocab"),
        default="answers",
        help="softmax over the answers A1 and A2 (the paper's loss) or the whole vocabulary",
    )
    p.add_argument(
        "--log-every",
        type=int,
        help="metrics interval in steps (default: about 100 points per run)",
    )
    p.add_argument("--device", help="torch device (default: cpu)")
    p.add_argument(
        "--out",
        help="folder for metrics.jsonl, results.json and ocr_curves.png (default: none, "
        "nothing is written)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--quiet", action="store_true", help="print nothing (with --out)")
    p.set_defaults(func=_cmd_ocr)

    p = sub.add_parser(
        "risk",
        help="OCR risk: relation pairs whose answers determine each other",
        description=(
            "Rank the relation pairs (r1, r2) of a KG by how strongly the r1 answer "
            "determines the r2 answer: the associations a fine-tuned model learns as "
            "implications. With --compare or --original, list those an augmentation "
            "created (exit status 1 when any is flagged)."
        ),
    )
    _add_input(p)
    p.add_argument("--top", type=int, default=20, help="rows shown")
    p.add_argument("--min-support", type=int, default=3, help="subjects a relation pair must share")
    p.add_argument(
        "--relations", nargs="+", metavar="R", help="only these relations (default: all relations)"
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="compare with the file's real facts (provenance 'real'): what augmentation added",
    )
    p.add_argument(
        "--original",
        help="compare with this graph instead of the file's real facts (default: none)",
    )
    p.add_argument(
        "--threshold", type=float, default=0.5, help="association strength that is flagged"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_risk)
