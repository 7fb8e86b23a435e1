"""The ``kgaug`` command line.

Subcommands
-----------
``kgaug stats FILE``      per-relation phi table (``--hops``, ``--phi-g``, ``--undirected``,
                          ``--paths``, ``--json``); ``--example`` uses the bundled KG.
``kgaug summary FILE``    entity, relation, type and provenance counts.
``kgaug bounds``          Lemma 1, Lemma 2 and the node-count bound for given sizes.

File formats are chosen by suffix (``.tsv``/``.txt`` TSV, ``.jsonl`` JSON lines, ``.csv``
CSV, ``.json`` 2WikiMultiHopQA; ``.gz`` allowed) or by ``--format``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kgaug import __version__
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph

__all__ = ["load_graph", "main"]

FORMATS = ("tsv", "jsonl", "csv", "2wiki")


def _guess_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    return {
        ".tsv": "tsv",
        ".txt": "tsv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".csv": "csv",
        ".json": "2wiki",
    }.get(last, "tsv")


def load_graph(path: str | None, fmt: str | None = None, example: bool = False) -> KnowledgeGraph:
    """Load a graph for the command line: a file (format by suffix or ``fmt``) or the example."""
    if example:
        if path is not None:
            raise ValueError(f"give FILE or --example, not both (got FILE {path!r})")
        from kgaug.datasets import load_example

        return load_example()
    if path is None:
        raise ValueError("give a FILE, or --example for the bundled example KG")
    p = Path(path)
    kind = fmt or _guess_format(p)
    if kind == "tsv":
        return KnowledgeGraph.from_tsv(p)
    if kind == "jsonl":
        return KnowledgeGraph.from_jsonl(p)
    if kind == "csv":
        return KnowledgeGraph.from_csv(p)
    return KnowledgeGraph.from_2wiki(p)


def _hops(values: Sequence[str]) -> tuple[int, ...]:
    out: list[int] = []
    for v in values:
        for part in v.replace(",", " ").split():
            try:
                out.append(int(part))
            except ValueError:
                raise argparse.ArgumentTypeError(f"--hops: not an integer: {part!r}") from None
    if not out:
        raise argparse.ArgumentTypeError("--hops needs at least one chain length (2 or 3)")
    return tuple(out)


def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="knowledge-graph file (TSV, JSONL, CSV or 2Wiki JSON)")
    p.add_argument("--format", choices=FORMATS, help="file format (default: from the suffix)")
    p.add_argument("--example", action="store_true", help="use the bundled example KG")


def _cmd_stats(args: argparse.Namespace) -> int:
    from kgaug.stats import compute_phi

    kg = load_graph(args.file, args.format, args.example)
    hops = _hops(args.hops)
    rep = compute_phi(
        kg,
        hops=hops if len(hops) > 1 else hops[0],
        count="paths" if args.paths else "facts",
        directed=not args.undirected,
        phi_g=args.phi_g,
        progress=None if not args.json else False,
    )
    if args.json:
        print(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(rep.to_string())
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    kg = load_graph(args.file, args.format, args.example)
    if args.json:
        print(json.dumps(kg.summary().model_dump(), indent=2, ensure_ascii=False))
    else:
        print(kg.load_report)
        print(kg.summary())
    return 0


def _cmd_bounds(args: argparse.Namespace) -> int:
    from kgaug import bounds

    n, v = args.hops, args.nodes
    if v is None and not args.relation_branching:
        raise ValueError("give --nodes (Lemma 1 and 2) and/or --relation-branching (node bound)")
    out: dict[str, object] = {"nodes": v, "hops": n, "phi_g": args.phi_g}
    if v is not None and args.branching is not None:
        out["expected_inferred"] = bounds.expected_inferred(v, args.branching, n)
        out["expected_phi"] = bounds.expected_phi(v, args.branching, n)
        out["phi_asymptote"] = bounds.phi_asymptote(args.branching, n)
    if v is not None and n >= 2:
        out["min_relation_branching"] = bounds.min_relation_branching(v, n, args.phi_g)
    if args.relation_branching:
        nb = bounds.node_bound(args.relation_branching, n, args.phi_g)
        out["min_nodes"] = nb.min_nodes
        out["min_nodes_reason"] = nb.reason
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        width = max(len(k) for k in out)
        for k, val in out.items():
            shown = f"{val:.6g}" if isinstance(val, float) else str(val)
            print(f"{k:<{width}}  {shown}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``kgaug`` command."""
    parser = argparse.ArgumentParser(
        prog="kgaug",
        description="Knowledge-graph augmentation for grokking: phi statistics and bounds.",
    )
    parser.add_argument("--version", action="version", version=f"kgaug {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("stats", help="per-relation phi table of a KG")
    _add_input(p)
    p.add_argument("--hops", nargs="+", default=["2"], help="2, 3 or both ('2 3' or '2,3')")
    p.add_argument("--phi-g", type=float, default=3.6, help="phi_G threshold (default 3.6)")
    p.add_argument("--undirected", action="store_true", help="also walk edges backwards (r^-1)")
    p.add_argument("--paths", action="store_true", help="count paths instead of distinct facts")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("summary", help="counts of entities, relations, types, provenance")
    _add_input(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("bounds", help="Lemma 1, Lemma 2 and the node-count bound")
    p.add_argument("--nodes", type=float, help="|V| (for Lemma 1 and Lemma 2)")
    p.add_argument("--hops", type=int, default=2, help="n (default 2)")
    p.add_argument("--phi-g", type=float, default=3.6, help="phi_G (default 3.6)")
    p.add_argument("--branching", type=float, help="average b for Lemma 1")
    p.add_argument(
        "--relation-branching", type=float, nargs="+", help="b_r values for the node bound"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_bounds)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kgaug`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `kgaug stats ... | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (KGFormatError, OSError, ValueError, TypeError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"kgaug {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
