"""Every code snippet in README.md and docs/*.md runs, and the docs build with --strict.

Each page's ``python`` blocks run top to bottom in one namespace (a page builds on its
earlier blocks), in a temporary folder that holds the files the snippets name (``kg.tsv``,
``kg.csv``, ``train.tsv.gz``, ``article.txt``). The namespace starts with what the docs
say every page assumes: ``import kgaug`` and ``kg = kgaug.datasets.load_example()``.
``bash``/``console`` blocks run their ``kgaug`` lines through the CLI's ``main``.

What differs from a user's run, and only this:

- LLM base URLs (``localhost:8000``, ``localhost:11434``, ``127.0.0.1:PORT``) and the
  OpenAI default (``OPENAI_BASE_URL``) point at a :class:`FakeChatServer` on 127.0.0.1;
- training, sweeps and the OCR experiment run a few dozen steps (``max_steps`` or
  ``steps`` capped), since the docs test the calls, not the science (the examples and
  training tests check that);
- ``HOME`` is the temporary folder, so ``~/.cache`` stays clean.

A block that cannot run here (a synopsis with placeholders, a set-up command, a
benchmark) is preceded by ``<!-- docs-test: skip REASON -->``; the reason is required.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
import re
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import kgaug

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
_MARK = re.compile(r"<!--\s*docs-test:\s*(skip|synopsis)\s*(.*?)\s*-->\s*$")
_VERDICTS = {"plan", "augment", "audit", "risk"}  # exit 1 is a documented verdict
_URLS = re.compile(r"http://(?:localhost:(?:8000|11434)|127\.0\.0\.1:PORT)/v1")
_MAX_STEPS = 40
_OCR_STEPS = 30

pytestmark = pytest.mark.skipif(not (ROOT / "docs").is_dir(), reason="docs/ not shipped")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip: str | None  # the reason, when the block is marked skip
    synopsis: bool = False  # a usage line with placeholders: its flags must exist

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        if m.group(1) not in ("python", "bash", "console"):
            continue
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = _MARK.search(before)
        line = text.count("\n", 0, m.start()) + 1
        kind, reason = (mark.group(1), mark.group(2)) if mark else (None, None)
        if kind == "synopsis":
            out.append(Block(page, line, m.group(1), m.group(2), None, synopsis=True))
        else:
            out.append(Block(page, line, m.group(1), m.group(2), reason if kind else None))
    return out


def _pages_with_code() -> list[Path]:
    return [p for p in PAGES if any(b.skip is None and not b.synopsis for b in _blocks(p))]


def test_every_skip_says_why() -> None:
    for page in PAGES:
        for b in _blocks(page):
            assert b.skip is None or len(b.skip) >= 8, f"{b}: docs-test skip needs a reason"


def _options(argv0: list[str]) -> set[str]:
    """The option strings of ``kgaug CMD`` (every alias)."""
    from kgaug.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    cmd = sub.choices[argv0[0]]  # type: ignore[attr-defined]
    return {s for a in cmd._actions for s in a.option_strings}


def test_synopses_name_real_options() -> None:
    """Usage lines in the docs name only options their command has."""
    checked = 0
    for page in PAGES:
        for b in _blocks(page):
            if not b.synopsis:
                continue
            for line in _shell_lines(b.code):
                words = line.split(" # ")[0].split()
                if words[:1] != ["kgaug"]:
                    continue
                have = _options(words[1:2])
                flags = {
                    w.strip("[]|.").split("=")[0] for w in words if w.lstrip("[").startswith("-")
                }
                missing = sorted(f for f in flags if f and f not in have)
                assert not missing, f"{b}: `kgaug {words[1]}` has no {missing}"
                checked += 1
    assert checked >= 10


def test_the_harness_finds_the_snippets() -> None:
    blocks = [b for p in PAGES for b in _blocks(p)]
    assert sum(b.lang == "python" and b.skip is None for b in blocks) >= 25
    assert any(b.page.name == "README.md" and b.lang == "python" for b in blocks)


# ----------------------------------------------------------------------------- fixtures


_AUGMENTED: list[kgaug.KnowledgeGraph] = []  # computed once per session


def _write_files(folder: Path, kg: kgaug.KnowledgeGraph) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not _AUGMENTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _AUGMENTED.append(kgaug.augment(kg, phi_g=3.6, dataset_phi=3.6, seed=0)[0])
    _AUGMENTED[0].to_jsonl(folder / "augmented.jsonl")
    kg.to_tsv(folder / "kg.tsv")
    kg.to_jsonl(folder / "kg.jsonl")
    with gzip.open(folder / "train.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write((folder / "kg.tsv").read_text(encoding="utf-8"))
    (folder / "kg.csv").write_text(
        "subject;predicate;object;subject_type\n"
        "Barack Obama;spouse;Michelle Obama;Person\n"
        "Michelle Obama;born in;Chicago;Person\n",
        encoding="utf-8",
    )
    (folder / "article.txt").write_text(
        "Roma | director | Alfonso Cuaron\n\nAlfonso Cuaron | place of birth | Mexico City\n",
        encoding="utf-8",
    )


def _cap_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training, sweeps and OCR runs of a few dozen steps (see the module docstring)."""
    if importlib.util.find_spec("torch") is None:
        return
    import kgaug.ocr
    import kgaug.train
    from kgaug.train import config as config_module

    real_preset = config_module.preset

    def preset(name: str, **overrides: Any) -> Any:
        # a run of _MAX_STEPS; an explicit longer one (a resumed run) goes on a little
        overrides["max_steps"] = min(overrides.get("max_steps", _MAX_STEPS), 2 * _MAX_STEPS)
        overrides.setdefault("eval_every", 20)
        return real_preset(name, **overrides)

    monkeypatch.setattr(config_module, "preset", preset)
    real_sweep = kgaug.train.sweep

    def sweep(task: str = "comparison", phis: Any = (1.8, 3.6), **kw: Any) -> Any:
        kw.setdefault("config", preset("cpu-small"))
        return real_sweep(task, list(phis)[:2], **{**kw, "seeds": list(kw.get("seeds", [0]))[:1]})

    monkeypatch.setattr(kgaug.train, "sweep", sweep)
    for name in ("run_experiment", "reproduce"):
        real = getattr(kgaug.ocr, name)

        def capped(*a: Any, _real: Any = real, **kw: Any) -> Any:
            kw["steps"] = _OCR_STEPS
            return _real(*a, **kw)

        monkeypatch.setattr(kgaug.ocr, name, capped)


def _cli_line(line: str, url: str) -> list[str] | None:
    """The argv of one ``kgaug ...`` line of a shell block (None: not a kgaug line)."""
    line = line.split(" # ")[0].strip().removeprefix("$ ").strip()
    if not line.startswith("kgaug "):
        return None
    argv = shlex.split(_URLS.sub(url, line))[1:]
    if argv and argv[0] in ("train", "sweep"):
        if "--max-steps" in argv:  # a resumed run goes on a little past the first one
            i = argv.index("--max-steps") + 1
            argv[i] = str(min(int(argv[i]), 2 * _MAX_STEPS))
        else:
            argv += ["--max-steps", str(_MAX_STEPS)]
    if argv and argv[0] == "ocr" and "--steps" not in argv:
        argv += ["--steps", str(_OCR_STEPS)]
    return argv


def _shell_lines(code: str) -> list[str]:
    joined = code.replace("\\\n", " ")
    return [ln for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


# ------------------------------------------------------------------------------- the test


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages_with_code(), ids=lambda p: p.name)
def test_snippets_run(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    example_kg: kgaug.KnowledgeGraph,
) -> None:
    pytest.importorskip("openai")
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgaug.cli import main
    from kgaug.verbalize.fake_server import FakeChatServer

    # Python and shell blocks each run in their own folder, as a user's notebook and
    # terminal would; both hold the files the snippets name.
    py_dir, sh_dir = tmp_path / "python", tmp_path / "shell"
    _write_files(py_dir, example_kg)
    _write_files(sh_dir, example_kg)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-test")
    _cap_training(monkeypatch)
    namespace: dict[str, Any] = {"kgaug": kgaug, "kg": example_kg, "__name__": "__docs__"}
    failures: list[str] = []  # every failing block of the page, not just the first
    with FakeChatServer() as server, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the snippets' own warnings are the docs' business
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        for block in _blocks(page):
            if block.skip is not None or block.synopsis:
                continue
            if block.lang == "python":
                monkeypatch.chdir(py_dir)
                code = _URLS.sub(server.base_url, block.code)
                try:
                    exec(compile(code, str(block), "exec"), namespace)
                except Exception as exc:
                    failures.append(f"{block}: {type(exc).__name__}: {exc}")
                plt.close("all")
                continue
            monkeypatch.chdir(sh_dir)
            for line in _shell_lines(block.code):
                argv = _cli_line(line, server.base_url)
                if argv is None:
                    failures.append(f"{block}: not a kgaug command (mark it skip): {line}")
                    continue
                err = io.StringIO()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    try:
                        rc = main(argv)
                    except SystemExit as exc:
                        rc = exc.code if isinstance(exc.code, int) else 1
                if rc not in (0, None) and not (rc == 1 and argv[0] in _VERDICTS):
                    failures.append(f"{block}: `{line}` exited {rc}: {err.getvalue()[-300:]}")
                elif "deprecated" in err.getvalue():
                    failures.append(f"{block}: `{line}` uses a deprecated spelling")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------ mkdocs --strict


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("latex2mathml")
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    concepts = (tmp_path / "site" / "concepts" / "index.html").read_text(encoding="utf-8")
    assert "<math" in concepts  # formulas rendered at build time
    assert "mathjax" not in concepts.lower() and "unpkg" not in concepts


# ------------------------------------------------------------- generated text snippets


def test_generated_snippets_match_the_code(example_kg: kgaug.KnowledgeGraph) -> None:
    """docs/snippets/*.txt that show kgaug's own output are what kgaug prints today."""
    snippets = ROOT / "docs" / "snippets"
    _, plan = kgaug.augment(example_kg, phi_g=3.6, seed=0, check_ocr_risk=False)
    assert (snippets / "plan_example.txt").read_text(encoding="utf-8") == f"{plan}\n"
    roles = kgaug.learn_schema(example_kg)
    assert (snippets / "roles_example.txt").read_text(encoding="utf-8").strip() in str(roles)
