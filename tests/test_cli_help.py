"""``kgaug COMMAND --help`` explains every option: help text, default, canonical names."""

from __future__ import annotations

import argparse
import re

import pytest

from kgaug.cli import DeprecatedAlias, build_parser, main

# Options whose arity differs between commands on purpose: `stats`, `plan`, `augment` and
# `audit` count several chain lengths at once (--hops 2 3); `sample`, `verbalize`,
# `dataset` and `bounds` take one path length.
_ARITY_DIFFERS = {"--hops"}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _flat(text: str) -> str:
    """``text`` without whitespace: help wraps lines (and breaks at hyphens) anywhere."""
    return "".join(text.split())


def _problems(parser: argparse.ArgumentParser) -> list[str]:
    """Every option of every subcommand without help text, or whose help hides its default."""
    problems = []
    for name, sp in _subcommands(parser).items():
        page = _flat(sp.format_help())
        formatter = sp._get_formatter()
        for a in sp._actions:
            if isinstance(a, (argparse._HelpAction, argparse._VersionAction)):
                continue
            where = f"kgaug {name} {'/'.join(a.option_strings) or a.dest}"
            if a.help == argparse.SUPPRESS:
                if not isinstance(a, DeprecatedAlias):
                    problems.append(f"{where}: hidden, but not a deprecated alias")
                continue
            if not (a.help or "").strip():
                problems.append(f"{where}: no help text")
                continue
            shown = formatter._expand_help(a)
            if _flat(shown) not in page:
                problems.append(f"{where}: help not displayed ({shown!r})")
            if not a.option_strings:
                continue  # positionals: help is enough
            if a.nargs == 0 and a.default is False:
                continue  # a flag, off unless given
            if "default" not in shown.lower():
                problems.append(f"{where}: the default is not shown ({shown!r})")
                continue
            if a.default is not None and not isinstance(a.default, bool):
                values = a.default if isinstance(a.default, list) else [a.default]
                missing = [str(v) for v in values if str(v) not in shown]
                if missing:
                    problems.append(f"{where}: default {a.default!r} not in {shown!r}")
    return problems


def test_every_option_has_help_and_shows_its_default() -> None:
    assert _problems(build_parser()) == []


def test_the_walk_covers_every_command() -> None:
    names = set(_subcommands(build_parser()))
    assert {"stats", "dataset", "train", "sweep", "verbalize", "parse", "demo", "ocr", "risk"} <= (
        names
    )


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"type": int}, "no help text"),
        ({"type": int, "help": "a number"}, "the default is not shown"),
        ({"help": argparse.SUPPRESS}, "hidden, but not a deprecated alias"),
    ],
)
def test_an_option_without_help_is_caught(kwargs: dict[str, object], problem: str) -> None:
    parser = build_parser()
    _subcommands(parser)["stats"].add_argument("--new-option", **kwargs)  # type: ignore[arg-type]
    found = _problems(parser)
    assert len(found) == 1, found
    assert found[0].startswith(f"kgaug stats --new-option: {problem}")


def test_defaults_are_shown_in_the_help_page(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["dataset", "--help"])
    assert e.value.code == 0
    page = " ".join(capsys.readouterr().out.split())
    assert "(default: composition)" in page and "(default: 0)" in page  # --task, --seed
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    page = " ".join(capsys.readouterr().out.split())
    assert "cpu-small 4000" in page  # --max-steps: the preset's value
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    page = " ".join(capsys.readouterr().out.split())
    assert "(default: 3.6)" in page and "(default: 8.0)" in page  # --phi-g, --comparison-phi


def test_top_level_help_describes_the_whole_tool(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    page = " ".join(capsys.readouterr().out.split())
    for word in ("phi", "augment", "audit", "sample", "questions", "ID/OOD", "train", "out-of"):
        assert word in page, word
    assert '"Grokking in the Wild" (arXiv 2504.20752)' in page
    assert '"Generalization or Hallucination?' in page


def test_no_help_page_names_a_seed_number() -> None:
    parser = build_parser()
    pages = [parser.format_help(), *(sp.format_help() for sp in _subcommands(parser).values())]
    for page in pages:
        assert not re.search(r"seed 0\d\d", page), page


def test_same_flag_same_meaning_across_commands() -> None:
    """A flag that several commands have takes the same kind and number of values."""
    kinds: dict[str, set[tuple[object, object]]] = {}
    for sp in _subcommands(build_parser()).values():
        for a in sp._actions:
            if a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
                continue
            for o in a.option_strings:
                many = a.nargs in ("+", "*")
                kinds.setdefault(o, set()).add((a.type, many))
    differ = {o for o, k in kinds.items() if len(k) > 1}
    assert differ == _ARITY_DIFFERS
    # counts are --num-*, names of relations and attributes are --relations / --attributes
    for o in ("--relations", "--attributes"):
        assert kinds[o] == {(None, True)}


@pytest.mark.parametrize(
    ("argv", "dest", "value", "new"),
    [
        (
            ["verbalize", "--example", "--relation", "director"],
            "relations",
            ["director"],
            "--relations",
        ),
        (["sweep", "--out", "x", "--entities", "40"], "num_entities", 40, "--num-entities"),
        (["sweep", "--out", "x", "--attributes", "2"], "num_attributes", 2, "--num-attributes"),
        (["sweep", "--out", "x", "--values", "5"], "num_values", 5, "--num-values"),
        (["sweep", "--out", "x", "--relations", "9"], "num_relations", 9, "--num-relations"),
        (
            ["train", "--wang", "comparison", "--entities", "30"],
            "num_entities",
            30,
            "--num-entities",
        ),
    ],
)
def test_old_spellings_still_work_and_say_the_new_one(
    argv: list[str],
    dest: str,
    value: object,
    new: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    err = capsys.readouterr().err
    assert f"is deprecated, use {new}" in err
    assert len(err.strip().splitlines()) == 1


def test_old_spellings_are_hidden_and_unset_by_default() -> None:
    parser = build_parser()
    subs = _subcommands(parser)
    assert "--relation " not in subs["verbalize"].format_help()
    assert "--entities" not in subs["sweep"].format_help()
    args = parser.parse_args(["verbalize", "--example"])
    assert args.relations is None
    args = parser.parse_args(["sweep", "--out", "x"])
    assert args.num_entities is None and args.num_relations is None
