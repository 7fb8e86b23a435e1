"""The ``kgaug`` command line.

Subcommands
-----------
``kgaug stats FILE``      per-relation phi table (``--hops``, ``--phi-g``, ``--undirected``,
                          ``--paths``, ``--json``); ``--example`` uses the bundled KG.
``kgaug summary FILE``    entity, relation, type and provenance counts.
``kgaug bounds``          Lemma 1, Lemma 2 and the node-count bound for given sizes.
``kgaug plan FILE``       augmentation plan (dry run, confirmed by exact recount).
``kgaug augment FILE``    write the augmented graph (JSONL) and its plan.
``kgaug audit A B``       check augmented graph B against original A (roles, overshoot, risk).
``kgaug sample FILE``     exactly uniform simple paths (five-tuples), optionally as questions.
``kgaug dataset FILE``    ID/OOD composition or comparison training set (JSONL files).
``kgaug verbalize FILE``  sampled paths (or ``--items``) to questions with any backend.
``kgaug parse TEXT...``   text to a typed knowledge graph with an LLM backend.
``kgaug train DATA``      train the grokking GPT-2 on a dataset folder (or ``--wang``).
``kgaug sweep``           one training run per dataset phi: table and figure.
``kgaug ocr``             the symbolic out-of-context reasoning experiment of "Generalization
                          or Hallucination?": factorized vs non-factorized attention.
``kgaug risk FILE``       OCR risk: relation pairs whose answers determine each other.
``kgaug demo``            the end-to-end demo on the bundled example KG.

File formats are chosen by suffix (``.tsv``/``.txt`` TSV, ``.jsonl`` JSON lines, ``.csv``
CSV, ``.json`` 2WikiMultiHopQA; ``.gz`` allowed) or by ``--format``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgaug import __version__
from kgaug.errors import KGAugError, KGFormatError
from kgaug.kg import KnowledgeGraph
from kgaug.train.loop import TrainError

if TYPE_CHECKING:
    from kgaug.augmentation.result import AugmentationPlan

__all__ = ["load_graph", "main"]

FORMATS = ("tsv", "jsonl", "csv", "parquet", "2wiki")

#: The papers the tool follows, named the way ``--help`` names them.
GROKKING_PAPER = '"Grokking in the Wild" (arXiv 2504.20752)'
OCR_PAPER = (
    '"Generalization or Hallucination? Understanding Out-of-Context Reasoning in Transformers"'
)

_DESCRIPTION = "\n\n".join(
    textwrap.fill(paragraph, 88)
    for paragraph in (
        f"kgaug: knowledge-graph augmentation for grokking, after {GROKKING_PAPER}.",
        "Measure how many multi-hop facts a knowledge graph supports per relation (phi) and "
        "the paper's bounds (stats, summary, bounds); plan and write a role-respecting "
        "augmentation until every relation reaches phi_G (plan, augment) and check it "
        "(audit, risk); sample uniform multi-hop paths (sample) and turn them into questions "
        "with templates or any OpenAI-compatible LLM (verbalize), or text into a graph "
        "(parse); build ID/OOD training sets (dataset); train the grokking GPT-2 (train, "
        f"sweep); and run the out-of-context reasoning experiment of {OCR_PAPER} (ocr).",
        "Start with `kgaug demo` (the whole pipeline on the bundled example graph), then "
        "`kgaug COMMAND --help`.",
    )
)


def _shown(value: object) -> str:
    """A default as a user types it: lists space-separated, ``%`` escaped for argparse."""
    text = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return text.replace("%", "%%")


class HelpFormatter(argparse.HelpFormatter):
    """Help that always shows the default.

    ``(default: X)`` is appended to every option whose help does not already say its
    default; flags that are off unless given (``store_true``) and options whose default is
    ``None`` say what they do by default in their own text (e.g. ``default: all
    relations``), which ``tests/test_cli_help.py`` checks.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if not text or text == argparse.SUPPRESS or not action.option_strings:
            return text
        if "default" in text.lower() or any(
            action.default is v for v in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: {_shown(action.default)})"


class _TopHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The ``kgaug --help`` page: the description keeps its paragraphs."""


class _Parser(argparse.ArgumentParser):
    """Every ``kgaug`` subcommand parser: help shows defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


class DeprecatedAlias(argparse.Action):
    """A hidden old spelling of an option: it still works, and says what to use instead.

    Stores into the new option's ``dest``; ``wrap=True`` turns a single value into a list
    (an old ``--relation R`` for a new ``--relations R ...``).
    """

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        new: str,
        wrap: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs["help"] = argparse.SUPPRESS
        kwargs["default"] = argparse.SUPPRESS
        super().__init__(option_strings, dest, **kwargs)
        self.new = new
        self.wrap = wrap

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{parser.prog}: warning: {option_string} is deprecated, use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, [values] if self.wrap else values)


def _alias(p: Any, old: str, new: str, **kwargs: Any) -> None:
    """Register ``old`` as a hidden, deprecated spelling of option ``new`` on ``p``."""
    dest = kwargs.pop("dest", new.lstrip("-").replace("-", "_"))
    p.add_argument(old, action=DeprecatedAlias, new=new, dest=dest, **kwargs)


# Library argument names (as errors raised from Python spell them) that the command line
# spells differently: python name -> (dest of the option, value inverted).
_PY_NAMES = {"directed": ("undirected", True), "num_nodes": ("nodes", False)}
_VALUE = r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|[^\s,;)]+"
_QUOTES = "'\""


def _flag_of(action: argparse.Action) -> str:
    longs = [o for o in action.option_strings if o.startswith("--")]
    return (longs or list(action.option_strings))[0]


def flag_names(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with the library's argument names replaced by the command's flags.

    ``allow_short=True`` becomes ``--allow-short``, ``ood_fraction=0.05`` becomes
    ``--ood-fraction 0.05``, ``phi_g must be ...`` becomes ``--phi-g must be ...``; only
    names that are options of ``parser`` are touched.
    """
    import re

    actions: dict[str, tuple[argparse.Action, bool]] = {}
    for a in parser._actions:
        if a.option_strings and a.help != argparse.SUPPRESS:
            actions.setdefault(a.dest, (a, False))
    for py, (dest, inverted) in _PY_NAMES.items():
        if dest in actions and py not in actions:
            actions[py] = (actions[dest][0], inverted)

    def with_value(m: re.Match[str]) -> str:
        action, inverted = actions[m.group(1)]
        flag, value = _flag_of(action), m.group(2)
        if value in ("True", "False") and action.nargs == 0:
            on = (value == "True") != inverted
            if isinstance(action, argparse.BooleanOptionalAction):
                return flag if on else "--no-" + flag.removeprefix("--")
            return flag if on else f"no {flag}"
        if value.startswith("["):
            value = " ".join(v.strip(" '\"") for v in value.strip("[]").split(","))
        return f"{flag} {value.strip(_QUOTES)}"

    guard = r"(?<![\w\-.'\"])"  # a whole identifier, not part of a flag or a quoted name
    for name in sorted(actions, key=len, reverse=True):  # longest first: phi_g before phi
        message = re.sub(guard + f"({re.escape(name)})=({_VALUE})", with_value, message)
        flag = _flag_of(actions[name][0])
        if actions[name][1]:
            continue
        if "_" in name:  # a spelled-out identifier: every whole-word mention
            message = re.sub(guard + re.escape(name) + r"(?![\w'\"(=])", flag, message)
        else:  # a plain word: only as the subject of an argument check
            message = re.sub(
                r"(^|: |; )" + re.escape(name) + r"(?=:| must )", rf"\g<1>{flag}", message
            )
    return message


# Optional dependencies: top-level module -> the extra that installs it.
_EXTRAS = {
    "torch": "train",
    "transformers": "train",
    "tokenizers": "train",
    "safetensors": "train",
    "openai": "llm",
    "matplotlib": "plot",
    "pandas": "pandas",
    "pyarrow": "parquet",
    "pykeen": "pykeen",
    "duckdb": "duckdb",
    "pyspark": "spark",
}
_NEEDS = {
    "train": "PyTorch and transformers",
    "llm": "the openai package",
    "plot": "matplotlib",
    "pandas": "pandas",
    "parquet": "pyarrow",
    "pykeen": "PyKEEN",
    "duckdb": "DuckDB",
    "spark": "PySpark (and a Java runtime)",
}


def missing_extra(command: str, e: ImportError) -> str:
    """One line for a missing optional dependency: what ``command`` needs, how to install it."""
    import re

    names = [getattr(e, "name", None), getattr(e.__context__, "name", None)]
    extra = next(
        (_EXTRAS[n.split(".")[0]] for n in names if n and n.split(".")[0] in _EXTRAS), None
    )
    if extra is None:
        found = re.search(r"kgaug\[(\w+)\]", str(e))
        extra = found.group(1) if found else None
    if extra is None:
        return f"kgaug {command}: error: {e}"
    what = "PyTorch" if command == "ocr" and extra == "train" else _NEEDS.get(extra, extra)
    return f"kgaug {command} needs {what}: pip install 'kgaug[{extra}]'"


def _require(*modules: str) -> None:
    """Import ``modules`` now, so a missing extra stops the command before any work."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def _guess_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    return {
        ".tsv": "tsv",
        ".txt": "tsv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".csv": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".json": "2wiki",
    }.get(last, "tsv")


def load_graph(
    path: str | None,
    fmt: str | None = None,
    example: bool = False,
    *,
    header: bool = False,
    columns: str | None = None,
    pykeen: str | None = None,
) -> KnowledgeGraph:
    """Load a graph for the command line: a file (format by suffix or ``fmt``) or the example.

    ``header`` skips a TSV file's first line (``--header``); ``columns`` names the head,
    relation and tail columns of a CSV, JSON-lines or Parquet file (``--columns h,r,t``);
    ``pykeen`` names a dataset that ships inside PyKEEN (``--pykeen nations``).
    """
    if pykeen is not None:
        if path is not None or example:
            raise ValueError(f"give one of FILE, --example, --pykeen (got --pykeen {pykeen} too)")
        from kgaug.datasets import load_pykeen

        return load_pykeen(pykeen)
    if example:
        if path is not None:
            raise ValueError(f"give FILE or --example, not both (got FILE {path!r})")
        from kgaug.datasets import load_example

        return load_example()
    if path is None:
        raise ValueError("give a FILE, --example for the bundled example KG, or --pykeen NAME")
    p = Path(path)
    kind = fmt or _guess_format(p)
    names: dict[str, Any] = {}  # column names (Any: the readers take more keywords)
    if columns is not None:
        if kind in ("tsv", "2wiki"):
            raise ValueError(
                f"--columns names the columns of CSV, JSON-lines or Parquet files; {p} is read "
                f"as {kind} (TSV fields are head, relation, tail in that order; --header skips "
                "a header line; --format csv reads a file by its header)"
            )
        parts = [c.strip() for c in columns.split(",")]
        if len(parts) != 3 or not all(parts):
            raise ValueError(
                f"--columns takes three column names, head,relation,tail (e.g. "
                f"subject,predicate,object), got {columns!r}"
            )
        names = dict(zip(("head", "relation", "tail"), parts))
    if header and kind != "tsv":
        raise ValueError(
            f"--header skips the first line of a TSV file; {p} is read as {kind}, whose "
            "column names are read from the file (--columns picks them)"
        )
    if kind == "tsv":
        return KnowledgeGraph.from_tsv(p, header=header)
    if kind == "jsonl":
        return KnowledgeGraph.from_jsonl(p, **names)
    if kind == "csv":
        return KnowledgeGraph.from_csv(p, **names)
    if kind == "parquet":
        return KnowledgeGraph.from_parquet(p, **names)
    return KnowledgeGraph.from_2wiki(p)


def _input_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--header`` / ``--columns`` of the commands that read one graph."""
    return {
        "header": getattr(args, "header", False),
        "columns": getattr(args, "columns", None),
        "pykeen": getattr(args, "pykeen", None),
    }


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
    p.add_argument(
        "file",
        nargs="?",
        help="knowledge-graph file (TSV, JSONL, CSV, Parquet or 2Wiki JSON), or --example",
    )
    p.add_argument("--format", choices=FORMATS, help="file format (default: from the suffix)")
    p.add_argument("--example", action="store_true", help="use the bundled example KG")
    p.add_argument(
        "--pykeen",
        metavar="NAME",
        help="a PyKEEN dataset that ships inside its wheel instead of FILE: nations, kinships "
        "or umls, all three splits (needs kgaug[pykeen]; default: read FILE)",
    )
    p.add_argument(
        "--header", action="store_true", help="TSV: skip the first line (a header, not a fact)"
    )
    p.add_argument(
        "--columns",
        metavar="H,R,T",
        help="CSV, JSONL, Parquet: the head, relation and tail column names, e.g. "
        "subject,predicate,object (default: head,relation,tail)",
    )


_RELATIONS_HELP = (
    "the first hop's relation, or one relation per hop ('*' for any) (default: any relation)"
)


def _path_relations(values: Sequence[str] | None) -> object:
    """``--relations`` of ``sample`` and ``verbalize`` as :func:`~kgaug.sample_paths` takes it."""
    if not values:
        return None
    if len(values) == 1:
        return None if values[0] in ("*", "_") else values[0]
    return [None if r in ("*", "_") else r for r in values]


def _cmd_stats(args: argparse.Namespace) -> int:
    from kgaug.stats import compute_phi

    hops = _hops(args.hops)
    options: dict[str, Any] = {}
    if args.backend in (None, "numpy"):
        for flag in ("memory_limit", "threads"):
            if getattr(args, flag) is not None:
                raise ValueError(f"--{flag.replace('_', '-')} is an option of --backend duckdb")
        source: Any = load_graph(args.file, args.format, args.example, **_input_options(args))
    else:
        if args.file is None or args.pykeen or args.format not in (None, "tsv", "csv", "parquet"):
            raise ValueError(
                f"--backend {args.backend} reads a TSV, CSV or Parquet FILE itself (or a glob "
                "of them, quoted); --example, --pykeen and --format jsonl/2wiki are read in "
                "memory (leave out --backend)"
            )
        source = args.file
        if args.format is not None:
            options["format"] = args.format
        if args.header:
            options["header"] = True
        if args.columns is not None:
            options["columns"] = args.columns
        if args.memory_limit is not None:
            options["memory_limit"] = args.memory_limit
        if args.threads is not None:
            options["threads"] = args.threads
        if args.backend == "spark" and ("memory_limit" in options or "threads" in options):
            raise ValueError("--memory-limit and --threads are options of --backend duckdb")
    rep = compute_phi(
        source,
        hops=hops if len(hops) > 1 else hops[0],
        count="paths" if args.paths else "facts",
        directed=not args.undirected,
        phi_g=args.phi_g,
        progress=None if not args.json else False,
        backend=args.backend,
        backend_options=options,
    )
    if args.json:
        print(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(rep.to_string())
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    kg = load_graph(args.file, args.format, args.example, **_input_options(args))
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


def _plan_options(args: argparse.Namespace) -> dict[str, object]:
    strategies = [s for part in args.strategy for s in part.split(",") if s]
    opts: dict[str, object] = {
        "strategy": strategies if len(strategies) > 1 else strategies[0],
        "directed": not args.undirected,
        "count": "paths" if args.paths else "facts",
        "seed": args.seed,
        "margin": args.margin,
        "progress": None if not getattr(args, "json", False) else False,
    }
    if args.relations:
        opts["relations"] = args.relations
    if args.overall_phi is not None:
        opts["overall_phi"] = args.overall_phi
    if args.dataset_phi is not None:
        opts["dataset_phi"] = args.dataset_phi
        opts["task"] = args.task
    if args.max_new_facts is not None:
        opts["max_new_facts"] = args.max_new_facts
    return opts


def _run_plan(args: argparse.Namespace, kg: KnowledgeGraph | None = None) -> AugmentationPlan:
    from kgaug.augmentation.planner import plan_augmentation

    if kg is None:
        kg = load_graph(args.file, args.format, args.example, **_input_options(args))
    hops = _hops(args.hops)
    return plan_augmentation(
        kg,
        args.phi_g,
        hops if len(hops) > 1 else hops[0],
        **_plan_options(args),  # type: ignore[arg-type]
    )


def _cmd_plan(args: argparse.Namespace) -> int:
    plan = _run_plan(args)
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(plan)
        print()
        print(plan.audit)
    return 0 if plan.confirmed else 1


def _cmd_audit(args: argparse.Namespace) -> int:
    from kgaug.augmentation.audit import audit

    original = load_graph(args.original, args.format)
    augmented = load_graph(args.augmented, args.format)
    hops = _hops(args.hops)
    rep = audit(
        original,
        augmented,
        phi_g=args.phi_g,
        hops=hops if len(hops) > 1 else hops[0],
        count="paths" if args.paths else "facts",
        directed=not args.undirected,
        ocr_risk=not args.no_ocr,
    )
    if args.json:
        print(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(rep)
    return 0 if rep.ok else 1


def _cmd_augment(args: argparse.Namespace) -> int:
    import warnings

    from kgaug._fileio import atomic_write
    from kgaug.io import write_jsonl
    from kgaug.ocr.risk import warn_ocr_risk

    kg = load_graph(args.file, args.format, args.example, **_input_options(args))
    plan = _run_plan(args, kg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_ocr_risk(kg, plan.result)
    for w in caught:
        print(f"kgaug augment: warning: {w.message}", file=sys.stderr)
    out = Path(args.out)
    write_jsonl(plan.result, out)
    stem = out.name
    for suffix in (".gz", ".jsonl", ".ndjson"):
        stem = stem.removesuffix(suffix)
    log = out.with_name(stem + ".plan.json")
    with atomic_write(log) as fh:
        fh.write(json.dumps(plan.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(plan)
    print()
    print(plan.audit)
    print(f"\nwrote {out} ({plan.result.num_facts} facts) and {log}")
    return 0 if plan.confirmed else 1


def _cmd_sample(args: argparse.Namespace) -> int:
    from kgaug.paths import sample_paths

    kg = load_graph(args.file, args.format, args.example, **_input_options(args))
    rel = _path_relations(args.relations)
    sample = sample_paths(
        kg,
        args.hops,
        args.k,
        args.seed,
        relations=rel,  # type: ignore[arg-type]
        unique=not args.with_replacement,
        directed=not args.undirected,
    )
    if args.questions:
        from kgaug.verbalize import TemplateVerbalizer

        for q in TemplateVerbalizer(seed=args.seed).verbalize(list(sample)):
            print(f"{q.question}\t{q.answer}")
    else:
        for t in sample.to_tuples():
            print("\t".join(t))
    return 0


def _cmd_dataset(args: argparse.Namespace) -> int:
    from kgaug.dataset import build_comparison_dataset, build_composition_dataset

    kg = load_graph(args.file, args.format, args.example, **_input_options(args))
    only = {
        "composition": ("hops", "undirected", "ambiguous"),
        "comparison": ("attributes", "style", "balance", "max_pairs"),
    }
    for task, names in only.items():
        if task != args.task:
            given = [n for n in names if getattr(args, n) not in (None, False)]
            if given:
                raise ValueError(
                    f"--{given[0].replace('_', '-')} applies to --task {task}, not {args.task}"
                )
    common: dict[str, object] = {"seed": args.seed, "allow_short": args.allow_short}
    for name in ("phi", "ood_fraction", "test_id_fraction", "max_test"):
        if getattr(args, name) is not None:  # otherwise the library's default for the task
            common[name] = getattr(args, name)
    if args.task == "composition":
        extra: dict[str, object] = {"directed": not args.undirected}
        if args.hops is not None:
            extra["hops"] = args.hops
        if args.ambiguous is not None:
            extra["ambiguous"] = args.ambiguous
        ds = build_composition_dataset(kg, **common, **extra)  # type: ignore[arg-type]
    else:
        extra = {"attributes": args.attributes}
        if args.style is not None:
            extra["style"] = args.style
        if args.balance is not None:
            extra["balance"] = args.balance
        if args.max_pairs is not None:
            extra["max_pairs"] = args.max_pairs
        ds = build_comparison_dataset(kg, **common, **extra)  # type: ignore[arg-type]
    path = ds.write_jsonl(args.out)
    print(repr(ds).replace("(short: allow_short)", "(short: --allow-short)"))
    print(f"\nwrote {path}/")
    return 0


def _default_cache_dir() -> Path:
    env = os.environ.get("KGAUG_CACHE_DIR")
    if env:
        return Path(env) / "llm"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kgaug" / "llm"


def _backend(args: argparse.Namespace) -> object:
    """The verbalizer/parser named by ``--backend`` with the options given on the line."""
    from kgaug.verbalize import get_verbalizer

    name = args.backend
    opts: dict[str, object] = {}
    if name == "template":
        return get_verbalizer("template", seed=args.seed)
    if name == "openai":
        if not args.model:
            raise ValueError("--model is required with --backend openai")
        if args.api_key_env is not None:  # named: it must hold a key (never a silent EMPTY)
            key = os.environ.get(args.api_key_env)
            if key is None:
                raise ValueError(
                    f"--api-key-env: the environment variable {args.api_key_env} is not set"
                )
            if not key.strip():
                raise ValueError(
                    f"--api-key-env: the environment variable {args.api_key_env} is empty"
                )
            opts["api_key"] = key.strip()
        elif os.environ.get("OPENAI_API_KEY"):
            opts["api_key"] = os.environ["OPENAI_API_KEY"]
        for opt in (
            "base_url", "model", "timeout", "max_retries", "structured", "temperature",
            "max_tokens",
        ):  # fmt: skip
            if getattr(args, opt) is not None:
                opts[opt] = getattr(args, opt)
        opts["seed"] = args.seed
    elif name == "transformers":
        if not args.model_path:
            raise ValueError("--model-path is required with --backend transformers")
        opts["model_path"] = args.model_path
        for opt in ("max_new_tokens", "device", "temperature"):
            if getattr(args, opt) is not None:
                opts[opt] = getattr(args, opt)
        opts["seed"] = args.seed
    for opt in (
        "concurrency", "max_attempts", "max_reply_chars", "requests_per_minute",
        "tokens_per_minute",
    ):  # fmt: skip
        if getattr(args, opt) is not None:
            opts[opt] = getattr(args, opt)
    if not args.no_cache:
        opts["cache_dir"] = args.cache_dir or _default_cache_dir()
    return get_verbalizer(name, **opts)


def _report(v: object) -> None:
    stats = getattr(v, "last_run", None)
    if stats is not None:
        print(f"kgaug: {stats}", file=sys.stderr)


def _failure_line(
    command: str, bad: int, total: int, what: str, reasons: dict[str, int], limit: int = 3
) -> str:
    """``kgaug CMD: 3 of 3 items failed: 3 x APIConnectionError: Connection error.``.

    The distinct reasons, most common first, each with its count; at most ``limit`` of
    them (long ones cut), then how many other reasons there were.
    """
    ranked = sorted(reasons.items(), key=lambda kv: -kv[1])
    shown = []
    for reason, n in ranked[:limit]:
        text = " ".join(str(reason).split()) or "no reason given"
        if len(text) > 200:
            text = text[:199] + "…"
        shown.append(f"{n} x {text}")
    rest = len(ranked) - len(shown)
    if rest > 0:
        shown.append(f"{rest} other reason{'s' if rest > 1 else ''}")
    line = f"kgaug {command}: {bad} of {total} {what}"
    return line + (": " + "; ".join(shown) if shown else "")


def _fatal(command: str, e: Exception, progress: Path | None) -> int:
    """One line for a run the server could not serve; exit status 2."""
    stats = getattr(e, "stats", None)
    where = ""
    if stats is not None:
        where = f" (stopped after {stats.requests} requests"
        if progress is not None:
            where += f"; finished items are kept in {progress} for the rerun"
        where += ")"
    print(f"kgaug {command}: error: {e}{where}", file=sys.stderr)
    return 2


def _call_options(method: Any, args: argparse.Namespace) -> dict[str, object]:
    """``retry_failed=True`` for ``--retry-failed``, if the backend's method takes it."""
    import inspect

    if not args.retry_failed:
        return {}
    if "retry_failed" not in inspect.signature(method).parameters:
        raise ValueError(f"--retry-failed: the {args.backend!r} backend does not resume runs")
    return {"retry_failed": True}


def _dry_run(
    v: Any, method: str, work: object, progress: Path | None, args: Any, **extra: Any
) -> int:
    """Print what the run would send (``--dry-run``); sends nothing, writes no output."""
    estimate = getattr(v, method, None)
    if not callable(estimate):
        raise ValueError(f"--dry-run: the {args.backend!r} backend sends no requests to estimate")
    opts: dict[str, object] = {"retry_failed": True} if args.retry_failed else {}
    opts.update(extra)
    print(f"dry run: {estimate(work, out=progress, **opts)}")
    return 0


def _cmd_verbalize(args: argparse.Namespace) -> int:
    from kgaug.verbalize.items import read_items

    if args.items:
        if args.file or args.example:
            raise ValueError("give either a knowledge graph (FILE / --example) or --items")
        items: list[object] = list(read_items(args.items))
    else:
        from kgaug.paths import sample_paths

        kg = load_graph(args.file, args.format, args.example, **_input_options(args))
        rel: Any = _path_relations(args.relations)
        items = list(sample_paths(kg, args.hops, args.k, args.seed, relations=rel))
    v: Any = _backend(args)
    try:
        if args.dry_run:
            # estimate() takes the questions file, like verbalize(), and reads OUT.partial
            return _dry_run(v, "estimate", items, Path(args.out) if args.out else None, args)
        return _verbalize_items(v, items, args)
    finally:
        _close(v)


def _close(v: object) -> None:
    close = getattr(v, "close", None)
    if callable(close):
        close()


def _verbalize_items(v: Any, items: list[object], args: argparse.Namespace) -> int:
    import inspect

    from kgaug.errors import FatalLLMError
    from kgaug.verbalize.items import partial_path, write_questions

    verbalize = v.verbalize
    opts = _call_options(verbalize, args)
    progress = None
    writes_out = bool(args.out) and "out" in inspect.signature(verbalize).parameters
    if writes_out:  # the verbalizer writes OUT (and resumes from OUT.partial) itself
        progress = partial_path(args.out)
        opts["out"] = args.out
    try:
        questions = verbalize(items, **opts)
    except FatalLLMError as e:  # nothing is written but the resume file
        return _fatal("verbalize", e, progress)
    bad = sum(q.status == "failed" for q in questions)
    if args.out:
        n = len(questions) if writes_out else write_questions(questions, args.out)
        print(f"wrote {n} questions to {args.out}", file=sys.stderr)
    else:
        for q in questions:
            print(f"{q.question}\t{q.answer}\t{q.status}")
    _report(v)
    from collections import Counter

    review = Counter(q.reason or "no reason given" for q in questions if q.status == "review")
    if review:  # kept and usable, but a person (or an LLM) should rephrase them
        line = _failure_line(
            "verbalize", sum(review.values()), len(questions), "questions need review", review
        )
        print(line, file=sys.stderr)
    if bad:
        reasons = Counter(q.reason or "no reason given" for q in questions if q.status == "failed")
        line = _failure_line("verbalize", bad, len(questions), "items failed", reasons)
        print(line, file=sys.stderr)
        print(
            "kgaug verbalize: a rerun asks errored items again, and failed ones with "
            "--retry-failed" + (" (each item's reason is in the output)" if args.out else ""),
            file=sys.stderr,
        )
    return 1 if bad else 0


def _read_texts(files: Sequence[str], split: str) -> dict[str, str]:
    """``kgaug parse`` input: ``{"FILE#N": text}`` per paragraph, line or file."""
    import re

    texts: dict[str, str] = {}
    for name in files:
        try:
            with open(name, encoding="utf-8") as fh:
                content = fh.read()
        except UnicodeDecodeError as e:
            raise KGFormatError(f"not UTF-8 ({e.reason})", path=name) from None
        if split == "file":
            parts = [content]
        elif split == "lines":
            parts = content.splitlines()
        else:
            parts = re.split(r"\n\s*\n", content)
        kept = [t.strip() for t in parts if t.strip()]
        for i, t in enumerate(kept, 1):
            texts[name if split == "file" else f"{name}#{i}"] = t
    if not texts:
        raise ValueError(f"no text in {', '.join(files)}")
    return texts


def _parse_options(args: argparse.Namespace, v: Any) -> dict[str, Any]:
    """``parse_graph`` keywords from the ``kgaug parse`` flags."""
    from pydantic import ValidationError

    from kgaug.extraction import ChunkSpec, Resolver

    into = None
    if args.into:
        into = load_graph(args.into, args.into_format)
    if args.no_chunk:
        chunk: Any = False
    else:
        given = {"size": args.chunk_size, "overlap": args.chunk_overlap}
        try:  # what is not given takes ChunkSpec's defaults
            chunk = ChunkSpec(
                unit=args.chunk_unit, **{k: v for k, v in given.items() if v is not None}
            )
        except ValidationError as e:  # pydantic's message, without its URL
            msg = str(e.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ValueError(f"--chunk-size/--chunk-overlap: {msg}") from None
    if args.no_resolve:
        resolve: Any = False
    else:
        resolve = Resolver(aliases=args.aliases, confirm=v if args.confirm else None)
    return {
        "chunk": chunk,
        "schema": args.schema,
        "into": into,
        "resolve": resolve,
        "out_of_schema": args.out_of_schema,
    }


def _cmd_parse(args: argparse.Namespace) -> int:
    for flag in ("out", "report", "merged"):
        target = getattr(args, flag)
        if target and Path(target).is_dir():
            raise ValueError(f"--{flag} {target}: is a folder; give a file name")
    if len(set(args.text)) < len(args.text):
        dup = next(t for i, t in enumerate(args.text) if t in args.text[:i])
        raise ValueError(f"{dup} is given twice")
    texts = _read_texts(args.text, args.split)
    from kgaug._fileio import atomic_write
    from kgaug.errors import FatalLLMError
    from kgaug.extraction import parse_graph
    from kgaug.verbalize.items import partial_path

    v: Any = _backend(args)
    try:
        if not hasattr(v, "parse"):
            raise ValueError(f"the {args.backend!r} backend cannot parse text into a graph")
        opts = _parse_options(args, v)
        progress = partial_path(args.out) if args.out else None
        if args.dry_run:
            est = {k: opts[k] for k in ("chunk", "schema", "into")}
            return _dry_run(v, "estimate_parse", texts, progress, args, **est)
        opts.update(_call_options(v.parse, args))
        try:
            result = parse_graph(texts, v, out=progress, **opts)
        except FatalLLMError as e:  # nothing is written but the resume file
            return _fatal("parse", e, progress)
        kg = result.graph
        failed = bool(result.failed)
        if args.report:
            with atomic_write(args.report) as fh:
                json.dump(result.to_dict(), fh, indent=1, ensure_ascii=False)
        if args.merged:
            merged = result.combined()
            merged.to_jsonl(args.merged)
            print(
                f"wrote {merged.num_facts} facts (--into and parsed) to {args.merged}",
                file=sys.stderr,
            )
        if args.out:
            kg.to_jsonl(args.out)
            if progress is not None and not failed:
                progress.unlink(missing_ok=True)  # complete: nothing left to resume
            print(f"wrote {kg.num_facts} facts to {args.out}", file=sys.stderr)
        else:
            for h, r, t in kg.triples():
                print(f"{h}\t{r}\t{t}")
        print(result.to_string(), file=sys.stderr)
        stats = result.stats
        if stats is not None:
            print(f"kgaug: {stats}", file=sys.stderr)
        if failed:
            line = _failure_line(
                "parse",
                len(result.failed),
                result.chunks,
                "chunks gave no graph",
                stats.reasons if stats is not None else {},
            )
            print(line, file=sys.stderr)
            print(
                "kgaug parse: a rerun with the same --out asks errored chunks again, and "
                "failed ones with --retry-failed",
                file=sys.stderr,
            )
        return 1 if failed else 0
    finally:
        _close(v)


def _config_value(text: str) -> object:
    """``--set`` values: JSON when it parses (numbers, true/false/null), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _cmd_train(args: argparse.Namespace) -> int:
    _require("torch", "transformers")
    from kgaug.train import TrainConfig, train, wang_dataset

    overrides = _train_overrides(
        args, ("max_steps", "device", "seed", "eval_every", "checkpoint_every", "stop_at_ood")
    )
    config = TrainConfig.preset(args.preset, **overrides)
    if args.wang:
        if args.data:
            raise ValueError("give either DATA or --wang, not both")
        dataset: Any = wang_dataset(
            args.wang, num_entities=args.num_entities, phi=args.phi, seed=config.seed
        )
    elif args.data:
        dataset = args.data
    else:
        raise ValueError("give a dataset folder (DATA, from `kgaug dataset`) or --wang TASK")
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"kgaug train: {config!r}", file=sys.stderr)
    result = train(dataset, config, out=args.out, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(result)
        if args.out:
            print(f"wrote metrics, curves and the model to {args.out}", file=sys.stderr)
    return 0


def _train_overrides(args: argparse.Namespace, names: Sequence[str]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip().replace("-", "_")] = _config_value(value)
    for name in names:
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    return overrides


def _cmd_sweep(args: argparse.Namespace) -> int:
    _require("torch", "transformers")
    from kgaug.train import TrainConfig
    from kgaug.train.sweeps import sweep

    config = TrainConfig.preset(
        args.preset, **_train_overrides(args, ("max_steps", "device", "eval_every"))
    )
    opts: dict[str, Any] = {}
    for key in ("num_entities", "num_attributes", "num_values", "num_relations"):
        value = getattr(args, key)
        if value is not None:
            opts[key] = value
    if args.facts_per_entity is not None:
        opts["facts_per_entity"] = args.facts_per_entity
    result = sweep(
        args.task, args.phis, seeds=args.seeds, config=config, out=args.out,
        threshold=args.threshold, dataset_options=opts,
    )  # fmt: skip
    print(result)
    print(f"wrote {args.out}/sweep.json and sweep.png (one run folder per phi and seed)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from kgaug.demo import run_demo

    run_demo(
        args.out,
        seed=args.seed,
        phi_g=args.phi_g,
        dataset_phi=args.dataset_phi,
        overall_phi=args.overall_phi,
        comparison_phi=args.comparison_phi,
        echo=(lambda s: None) if args.quiet else print,
    )
    return 0


_PHI_G_HELP = "phi_G, the per-relation generalization threshold (Def. 2.5)"
_UNDIRECTED_HELP = "also walk every edge backwards, as r^-1"
_PATHS_HELP = "count paths instead of distinct inferred facts"
_HOPS_HELP = "chain lengths to count: 2, 3 or both ('2 3' or '2,3')"
_SEED_HELP = "random seed"
_PRESETS = ("paper", "wang2024", "cpu-small", "tiny")


def _preset_default(field: str) -> str:
    """``default: the preset's (...)``: the value of ``field`` in every preset."""
    from kgaug.train import TrainConfig

    values = {name: getattr(TrainConfig.preset(name), field) for name in _PRESETS}
    shown = {k: "none" if v is None else str(v) for k, v in values.items()}
    if len(set(shown.values())) == 1:
        return f"default: the preset's, {next(iter(shown.values()))} in every preset"
    return "default: the preset's: " + ", ".join(f"{k} {v}" for k, v in shown.items())


def _add_hops(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hops", nargs="+", default=["2"], metavar="N", help=_HOPS_HELP)


def _add_json(p: argparse.ArgumentParser, what: str = "the report") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _add_plan_args(p: argparse.ArgumentParser) -> None:
    _add_hops(p)
    p.add_argument("--phi-g", type=float, default=3.6, help=_PHI_G_HELP)
    p.add_argument(
        "--strategy",
        nargs="+",
        default=["fictitious"],
        help="fictitious and/or counterfactual; several are tried in order",
    )
    p.add_argument(
        "--relations", nargs="+", metavar="R", help="relations to raise (default: all relations)"
    )
    p.add_argument(
        "--overall-phi",
        type=float,
        help="also raise the overall phi to this (default: no overall target)",
    )
    p.add_argument(
        "--dataset-phi",
        type=float,
        help="also augment until a dataset of this phi can be built from the result, "
        "counted as `kgaug dataset --task TASK` counts (default: no dataset target)",
    )
    p.add_argument(
        "--task",
        choices=("composition", "comparison"),
        default="composition",
        help="the dataset --dataset-phi refers to",
    )
    p.add_argument("--margin", type=float, default=0.0, help="local-ratio margin, 0 to 10")
    p.add_argument("--max-new-facts", type=int, help="budget of new facts (default: no budget)")
    p.add_argument("--undirected", action="store_true", help=_UNDIRECTED_HELP)
    p.add_argument("--paths", action="store_true", help=_PATHS_HELP)
    p.add_argument("--seed", type=int, default=0, help=_SEED_HELP)


def _add_backend_args(p: argparse.ArgumentParser, *, default: str) -> None:
    g = p.add_argument_group("backend")
    g.add_argument(
        "--backend", default=default, help="template, openai, transformers or a plugin name"
    )
    g.add_argument(
        "--base-url",
        help="OpenAI-compatible server URL, e.g. http://localhost:8000/v1 for vLLM "
        "(default: $OPENAI_BASE_URL, else api.openai.com)",
    )
    g.add_argument(
        "--model", help="model name on the server (required with --backend openai; default: none)"
    )
    g.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="environment variable holding the API key; it must be set (default: "
        "OPENAI_API_KEY if set, else none: local servers need none)",
    )
    g.add_argument(
        "--model-path",
        help="local model folder (required with --backend transformers; default: none)",
    )
    g.add_argument("--concurrency", type=int, help="requests in flight (default: 8)")
    g.add_argument(
        "--cache-dir",
        help="response cache folder (default: $KGAUG_CACHE_DIR/llm, else ~/.cache/kgaug/llm)",
    )
    g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument(
        "--max-attempts", type=int, help="attempts per item before it is failed (default: 3)"
    )
    g.add_argument("--temperature", type=float, help="sampling temperature (default: 0)")
    g.add_argument("--timeout", type=float, help="seconds per request (openai, default: 60)")
    g.add_argument("--max-retries", type=int, help="client retries of 429/5xx (openai, default: 5)")
    g.add_argument(
        "--structured",
        choices=("auto", "json_schema", "text"),
        help="structured output (openai, default: auto: JSON schema, text if refused)",
    )
    g.add_argument("--max-tokens", type=int, help="completion limit sent (openai, default: 512)")
    g.add_argument(
        "--max-reply-chars",
        type=int,
        help="replies are cut to this length before they are checked (default: 32768)",
    )
    g.add_argument(
        "--requests-per-minute",
        type=float,
        help="client-side request rate limit (default: none)",
    )
    g.add_argument(
        "--tokens-per-minute", type=float, help="client-side token rate limit (default: none)"
    )
    g.add_argument(
        "--retry-failed",
        action="store_true",
        help="ask the items that failed in the last run (OUT.partial) again",
    )
    g.add_argument(
        "--dry-run",
        action="store_true",
        help="print the requests and tokens the run would need; send and write nothing",
    )
    g.add_argument(
        "--max-new-tokens", type=int, help="generation limit (transformers, default: 256)"
    )
    g.add_argument("--device", help="torch device (transformers, default: cpu)")


def _add_train_shortcuts(p: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    what = " per run" if sweep else ""
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a TrainConfig field, e.g. --set lr=3e-4 --set compile=false "
        "(repeatable; default: the preset's values)",
    )
    p.add_argument(
        "--max-steps", type=int, help=f"optimizer steps{what} ({_preset_default('max_steps')})"
    )
    p.add_argument(
        "--eval-every",
        type=int,
        help=f"steps between evaluations ({_preset_default('eval_every')})",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        help=f"where to train; auto: CUDA when available ({_preset_default('device')})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``kgaug`` command."""
    parser = argparse.ArgumentParser(
        prog="kgaug", description=_DESCRIPTION, formatter_class=_TopHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"kgaug {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    p = sub.add_parser("stats", help="per-relation phi table of a KG")
    _add_input(p)
    _add_hops(p)
    p.add_argument("--phi-g", type=float, default=3.6, help=_PHI_G_HELP)
    p.add_argument("--undirected", action="store_true", help=_UNDIRECTED_HELP)
    p.add_argument("--paths", action="store_true", help=_PATHS_HELP)
    p.add_argument(
        "--backend",
        choices=("numpy", "duckdb", "spark"),
        default=None,
        help="where to count: numpy (default: in memory), duckdb (reads FILE itself and "
        "spills to disk past --memory-limit; kgaug[duckdb]) or spark (local Spark SQL; "
        "kgaug[spark] and Java); all give the same counts",
    )
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB's memory limit, e.g. 4GB (default: DuckDB's, 80%% of RAM)",
    )
    p.add_argument("--threads", type=int, metavar="N", help="DuckDB's threads (default: all cores)")
    _add_json(p)
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("summary", help="counts of entities, relations, types, provenance")
    _add_input(p)
    _add_json(p, "the summary")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("bounds", help="Lemma 1, Lemma 2 and the node-count bound")
    p.add_argument(
        "--nodes", type=float, help="|V|, for Lemma 1 and Lemma 2 (default: none, both skipped)"
    )
    p.add_argument("--hops", type=int, default=2, metavar="N", help="chain length n")
    p.add_argument("--phi-g", type=float, default=3.6, help=_PHI_G_HELP)
    p.add_argument(
        "--branching",
        type=float,
        help="average branching factor b for Lemma 1 (default: none, Lemma 1 skipped)",
    )
    p.add_argument(
        "--relation-branching",
        type=float,
        nargs="+",
        metavar="B",
        help="per-relation branching factors b_r for the node-count bound "
        "(default: none, the bound is skipped)",
    )
    _add_json(p, "the numbers")
    p.set_defaults(func=_cmd_bounds)

    p = sub.add_parser("plan", help="augmentation plan, confirmed by exact recount")
    _add_input(p)
    _add_plan_args(p)
    _add_json(p, "the plan")
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("augment", help="write the augmented graph and its plan")
    _add_input(p)
    _add_plan_args(p)
    p.add_argument(
        "--out",
        required=True,
        help="output JSONL file (types and provenance kept; required, no default); the "
        "plan is written next to it as OUT.plan.json",
    )
    p.set_defaults(func=_cmd_augment)

    p = sub.add_parser(
        "audit",
        help="check an augmented graph against its original (roles, overshoot, OCR risk)",
        description=(
            "Role violations (new facts whose endpoints leave the roles the real facts give "
            "them), functional violations, synthetic share, per-relation phi before and "
            "after, and the OCR risk. Exit status 1 when a fact breaks a role."
        ),
    )
    p.add_argument("original", help="the graph before augmentation")
    p.add_argument("augmented", help="the augmented graph (e.g. written by kgaug augment)")
    p.add_argument(
        "--format", choices=FORMATS, help="file format of both (default: from the suffix)"
    )
    _add_hops(p)
    p.add_argument("--phi-g", type=float, default=3.6, help=_PHI_G_HELP)
    p.add_argument("--undirected", action="store_true", help=_UNDIRECTED_HELP)
    p.add_argument("--paths", action="store_true", help=_PATHS_HELP)
    p.add_argument("--no-ocr", action="store_true", help="skip the OCR risk check")
    _add_json(p, "the audit")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("sample", help="uniform simple paths (five-tuples) or questions")
    _add_input(p)
    p.add_argument("--hops", type=int, default=2, metavar="N", help="path length: 2, 3 or 4")
    p.add_argument("-k", type=int, default=10, help="number of paths")
    p.add_argument("--seed", type=int, default=0, help=_SEED_HELP)
    p.add_argument("--relations", nargs="+", metavar="R", help=_RELATIONS_HELP)
    p.add_argument("--undirected", action="store_true", help=_UNDIRECTED_HELP)
    p.add_argument("--with-replacement", action="store_true", help="allow repeated paths")
    p.add_argument(
        "--questions", action="store_true", help="print template questions and answers instead"
    )
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("dataset", help="ID/OOD training set as JSONL files")
    _add_input(p)
    p.add_argument(
        "--task",
        choices=("composition", "comparison"),
        default="composition",
        help="composition: multi-hop queries (h, r1, r2) -> t; comparison: two entities' "
        "attribute values compared",
    )
    p.add_argument(
        "--phi",
        type=float,
        help="dataset phi: inferred training examples per ID atomic fact (default: 7.2)",
    )
    p.add_argument(
        "--ood-fraction",
        type=float,
        help="share of atomic facts (composition) or entities (comparison) held out as OOD "
        "(default: 0.05 composition, 0.1 comparison)",
    )
    p.add_argument(
        "--test-id-fraction", type=float, help="share of ID queries held out (default: 0.1)"
    )
    p.add_argument("--max-test", type=int, help="cap on each test split (default: no cap)")
    p.add_argument(
        "--hops", type=int, metavar="N", help="composition: chain length, 2 or 3 (default: 2)"
    )
    p.add_argument("--undirected", action="store_true", help="composition: " + _UNDIRECTED_HELP)
    p.add_argument(
        "--ambiguous",
        choices=("drop", "keep"),
        help="composition: queries with several answers are dropped or kept, one example "
        "per answer (default: drop)",
    )
    p.add_argument(
        "--attributes",
        nargs="+",
        metavar="R",
        help="comparison: attribute relations (default: every functional relation whose "
        "values are shared)",
    )
    p.add_argument(
        "--style",
        choices=("same", "order"),
        help="comparison: same value yes/no, or numeric order (default: same)",
    )
    p.add_argument(
        "--balance",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="comparison: balance the answer classes (default: yes)",
    )
    p.add_argument(
        "--max-pairs",
        type=int,
        help="comparison: sample entity pairs when there are more (default: 1000000)",
    )
    p.add_argument(
        "--allow-short",
        action="store_true",
        help="keep a dataset that falls short instead of failing: fewer inferred training "
        "examples than --phi asks (all the pool has; the phi reached is printed) or an "
        "empty OOD test split",
    )
    p.add_argument("--seed", type=int, default=0, help=_SEED_HELP)
    p.add_argument("--out", required=True, help="output folder (required, no default)")
    p.set_defaults(func=_cmd_dataset)

    p = sub.add_parser("verbalize", help="paths or items to questions (template or LLM)")
    _add_input(p)
    p.add_argument(
        "--items",
        help="JSONL/TSV file of items instead of sampling a KG (default: sample FILE)",
    )
    p.add_argument("--hops", type=int, default=2, metavar="N", help="sampled path length")
    p.add_argument("-k", type=int, default=10, help="number of sampled paths")
    p.add_argument("--relations", nargs="+", metavar="R", help=_RELATIONS_HELP)
    _alias(p, "--relation", "--relations", wrap=True)
    p.add_argument("--seed", type=int, default=0, help="sampling and model seed")
    p.add_argument("--out", help="output JSONL (default: question, answer, status lines to stdout)")
    _add_backend_args(p, default="template")
    p.set_defaults(func=_cmd_verbalize)

    p = sub.add_parser("parse", help="text to a typed knowledge graph with an LLM")
    p.add_argument("text", nargs="+", help="UTF-8 text file(s)")
    p.add_argument(
        "--split",
        choices=("paragraphs", "lines", "file"),
        default="paragraphs",
        help="one request per paragraph, line or file",
    )
    p.add_argument("--seed", type=int, default=0, help="model seed")
    p.add_argument(
        "--out",
        help="output JSONL graph of the parsed facts, also the name of the resume file "
        "OUT.partial (default: TSV triples to stdout)",
    )
    g = p.add_argument_group("schema and graph")
    g.add_argument(
        "--schema",
        metavar="FILE",
        help="JSON relation schema, see docs/parsing.md (default: none; with --into, "
        "its relations)",
    )
    g.add_argument(
        "--into",
        metavar="KG",
        help="a graph to map onto: its relations join the schema, its entities are linked "
        "(default: none)",
    )
    g.add_argument("--into-format", help="format of --into (default: from the extension)")
    g.add_argument(
        "--out-of-schema",
        choices=("drop", "keep"),
        default="drop",
        help="out-of-schema facts are dropped or kept in the report (default: drop)",
    )
    g.add_argument(
        "--merged",
        metavar="FILE",
        help="write --into plus the parsed facts as JSONL (default: not written)",
    )
    g.add_argument(
        "--report", metavar="FILE", help="write the parse report as JSON (default: printed only)"
    )
    g = p.add_argument_group("chunking")
    g.add_argument("--chunk-size", type=int, help="units per chunk (default: 1200)")
    g.add_argument("--chunk-overlap", type=int, help="units repeated between chunks (default: 100)")
    g.add_argument(
        "--chunk-unit",
        choices=("tokens", "chars", "sentences"),
        default="tokens",
        help="what --chunk-size counts (default: tokens, about 4 characters each)",
    )
    g.add_argument("--no-chunk", action="store_true", help="one request per text, however long")
    g = p.add_argument_group("entity resolution")
    g.add_argument(
        "--resolve",
        action="store_true",
        default=True,
        help="merge the names of one entity (the default)",
    )
    g.add_argument("--no-resolve", action="store_true", help="keep every name as written")
    g.add_argument(
        "--aliases",
        metavar="TSV",
        help="alias table, alias<TAB>name per line (default: built-in country aliases only)",
    )
    g.add_argument(
        "--confirm", action="store_true", help="ask the model about ambiguous name pairs"
    )
    _add_backend_args(p, default="openai")
    p.set_defaults(func=_cmd_parse)

    p = sub.add_parser("train", help="train the grokking GPT-2 (needs kgaug[train])")
    p.add_argument("data", nargs="?", help="dataset folder written by `kgaug dataset`")
    p.add_argument(
        "--wang",
        choices=["comparison", "composition"],
        help="generate Wang et al.'s synthetic dataset for this task instead of reading "
        "DATA (default: read DATA)",
    )
    p.add_argument(
        "--num-entities",
        type=int,
        help="--wang: entities (default: 1000 comparison, 2000 composition)",
    )
    _alias(p, "--entities", "--num-entities", type=int)
    p.add_argument("--phi", type=float, default=7.2, help="--wang: dataset phi")
    p.add_argument("--preset", default="cpu-small", choices=_PRESETS, help="configuration")
    _add_train_shortcuts(p)
    p.add_argument(
        "--seed",
        type=int,
        help=f"seed of init, batches and eval subsets ({_preset_default('seed')})",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        help="steps between checkpoints; none: only at the end "
        f"({_preset_default('checkpoint_every')})",
    )
    p.add_argument(
        "--stop-at-ood",
        type=float,
        help="stop once OOD accuracy reaches this (default: never, run --max-steps)",
    )
    p.add_argument(
        "--out",
        help="output folder: metrics.jsonl, curves.png, model/, checkpoints/ (default: "
        "none, nothing is written)",
    )
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "sweep",
        help="train one model per dataset phi (and seed): table and figure (needs kgaug[train])",
        description=(
            "Wang et al.'s synthetic task at several dataset phis, one run each; prints the "
            "table and writes OUT/sweep.json, OUT/sweep.png and one run folder per phi and "
            "seed. Rerun the same command to resume: finished runs are never repeated."
        ),
    )
    p.add_argument(
        "--task", choices=["comparison", "composition"], default="comparison", help="which task"
    )
    p.add_argument(
        "--phis", type=float, nargs="+", default=[1.8, 3.6, 7.2, 12.6], help="dataset phis"
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds, one run each")
    p.add_argument("--preset", default="cpu-small", choices=_PRESETS, help="configuration")
    _add_train_shortcuts(p, sweep=True)
    p.add_argument(
        "--threshold",
        type=float,
        help="accuracy that counts as generalized (default: 0.95 OOD for comparison, "
        "0.9 ID for composition)",
    )
    p.add_argument(
        "--num-entities",
        type=int,
        help="entities of the synthetic graph (default: 1000 comparison, 2000 composition)",
    )
    p.add_argument("--num-attributes", type=int, help="comparison: attributes (default: 20)")
    p.add_argument("--num-values", type=int, help="comparison: values per attribute (default: 20)")
    p.add_argument("--num-relations", type=int, help="composition: relations (default: 200)")
    p.add_argument(
        "--facts-per-entity", type=int, help="composition: facts per entity (default: 20)"
    )
    for old in ("entities", "attributes", "values", "relations"):
        _alias(p, f"--{old}", f"--num-{old}", type=int)
    p.add_argument("--out", required=True, help="sweep folder (resumable; required, no default)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("demo", help="end-to-end demo on the bundled example KG")
    p.add_argument("--out", default="kgaug-demo", help="output folder")
    p.add_argument("--seed", type=int, default=0, help=_SEED_HELP)
    p.add_argument("--phi-g", type=float, default=3.6, help=_PHI_G_HELP)
    p.add_argument(
        "--dataset-phi", type=float, default=3.6, help="phi of the composition training set"
    )
    p.add_argument(
        "--overall-phi",
        type=float,
        help="also raise the overall phi to this (default: no overall target)",
    )
    p.add_argument(
        "--comparison-phi", type=float, default=8.0, help="phi of the comparison training set"
    )
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=_cmd_demo)
    from kgaug.ocr.cli import add_commands as add_ocr_commands

    add_ocr_commands(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = sub.choices[name]
    return found


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
    except ImportError as e:  # a missing extra: one line with the install command
        print(missing_extra(args.command, e), file=sys.stderr)
        return 2
    except (KGFormatError, OSError) as e:  # names the file and line
        print(f"kgaug {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (KGAugError, ValueError, TypeError, KeyError, TrainError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        text = flag_names(str(msg), _subparser(parser, args.command))
        print(f"kgaug {args.command}: error: {text}", file=sys.stderr)
        return 2
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
