"""The end-to-end demo on the bundled example KG (``kgaug demo``).

stats before -> plan (augment until every relation reaches phi_G and the composition
dataset can be built) -> audit (roles kept, synthetic share, overshoot, OCR risk) -> stats
after -> sampled five-tuples -> template questions -> ID/OOD dataset files, plus a plot of
phi per relation. Every file is written atomically and a rerun with the same seed gives
byte-identical files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from kgaug._fileio import atomic_write
from kgaug._progress import progress_bar

__all__ = ["DemoResult", "run_demo"]


class DemoResult(BaseModel):
    """What :func:`run_demo` produced.

    Attributes
    ----------
    out : str
        Output folder.
    files : list of str
        Files written, relative to ``out``.
    failing_before, failing_after : list of str
        Relations below phi_G before and after augmentation.
    unreachable : list of str
        Relations no strategy can raise without breaking the roles of the real data.
    added_facts : int
        Facts added by augmentation.
    role_violations : int
        Role violations the audit found (0).
    composition_phi, comparison_phi : float
        Dataset phi of the two training sets.
    plot : str or None
        The plot file, or ``None`` when matplotlib is not installed.
    """

    model_config = ConfigDict(frozen=True)

    out: str
    files: list[str]
    failing_before: list[str]
    failing_after: list[str]
    unreachable: list[str]
    added_facts: int
    role_violations: int
    composition_phi: float
    comparison_phi: float
    plot: str | None


def _dump(path: Path, data: Any) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def run_demo(
    out: str | os.PathLike[str] = "kgaug-demo",
    *,
    seed: int = 0,
    phi_g: float = 3.6,
    dataset_phi: float = 3.6,
    overall_phi: float | None = None,
    comparison_phi: float = 8.0,
    progress: bool | None = None,
    echo: Callable[[str], Any] = print,
) -> DemoResult:
    """Run the whole pipeline on the bundled example KG and write the results to ``out``.

    Parameters
    ----------
    out : path
        Output folder (created).
    seed : int
        One seed for everything: the same seed gives byte-identical files.
    phi_g : float
        Per-relation target of the augmentation.
    dataset_phi : float
        phi of the composition training set (inferred training examples per ID atomic
        fact); 3.6 is Wang et al.'s slow-grokking threshold. The augmentation adds facts
        until the builder can supply it (``plan_augmentation(..., dataset_phi=...)``).
    overall_phi : float, optional
        Also raise the graph's overall phi to this value (off by default: the dataset
        target is what the training set needs).
    comparison_phi : float
        phi of the comparison training set (8 in the paper's augmented comparison data).
    progress : bool, optional
        Progress bar over the stages.
    echo : callable
        Where the tables go (``print``; pass ``lambda s: None`` to be quiet).

    Returns
    -------
    DemoResult
    """
    from kgaug.augmentation.comparison import augment_comparison
    from kgaug.augmentation.planner import plan_augmentation
    from kgaug.dataset import build_comparison_dataset, build_composition_dataset
    from kgaug.datasets import load_example
    from kgaug.io import write_jsonl
    from kgaug.paths import sample_paths
    from kgaug.stats import compute_phi
    from kgaug.verbalize import TemplateVerbalizer

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    def wrote(name: str) -> None:
        files.append(name)

    stages = 8
    with progress_bar(total=stages, desc="kgaug demo", unit="stage", enabled=progress) as bar:
        kg = load_example()
        echo(f"bundled example KG: {kg!r}\n")
        bar.update(1)

        before = compute_phi(kg, phi_g=phi_g)
        echo("== phi before augmentation ==")
        echo(before.to_string() + "\n")
        _dump(root / "phi_before.json", before.to_dict())
        wrote("phi_before.json")
        bar.update(1)

        plan = plan_augmentation(
            kg, phi_g, overall_phi=overall_phi, dataset_phi=dataset_phi, seed=seed
        )
        echo("== augmentation plan (dry run, confirmed by exact recount) ==")
        echo(str(plan) + "\n")
        _dump(root / "plan.json", plan.to_dict())
        wrote("plan.json")
        bar.update(1)

        kg2 = plan.result
        write_jsonl(kg2, root / "kg_augmented.jsonl")
        wrote("kg_augmented.jsonl")
        after = compute_phi(kg2, phi_g=phi_g)
        echo("== phi after augmentation ==")
        echo(after.to_string() + "\n")
        _dump(root / "phi_after.json", after.to_dict())
        wrote("phi_after.json")
        from kgaug.augmentation.audit import audit
        from kgaug.ocr.risk import check_augmentation

        report = audit(kg, kg2, phi_g=phi_g, ocr_risk=False)
        risk = check_augmentation(kg2, kg)
        echo("== audit: every new fact keeps the roles of the real data ==")
        echo(report.to_string() + "\n")
        _dump(root / "audit.json", report.to_dict())
        wrote("audit.json")
        echo(
            "== OCR risk: answer associations the augmentation created "
            "(Generalization or Hallucination?, out-of-context reasoning) =="
        )
        echo(risk.to_string(max_rows=10) + "\n")
        _dump(root / "ocr_risk.json", {"flagged": len(risk.flagged), "rows": risk.to_records()})
        wrote("ocr_risk.json")
        bar.update(1)

        verbalizer = TemplateVerbalizer(seed=seed)
        sample = sample_paths(kg2, 2, 200, seed=seed)
        questions = verbalizer.verbalize(list(sample))
        real = verbalizer.verbalize(list(sample_paths(kg, 2, 3, seed=seed)))
        echo("== sampled five-tuples and template questions ==")
        for title, qs in (("real facts", real), ("augmented graph", questions[:3])):
            echo(f"  {title}:")
            for q in qs:
                echo(f"    {q.source.as_tuple()}")  # type: ignore[union-attr]
                echo(f"      Q: {q.question}  A: {q.answer}")
        echo("")
        with atomic_write(root / "questions.jsonl") as fh:
            for q in questions:
                fh.write(
                    json.dumps(
                        {
                            "five_tuple": list(q.source.as_tuple()),  # type: ignore[union-attr]
                            "question": q.question,
                            "answer": q.answer,
                            "status": q.status,
                        },
                        ensure_ascii=False,
                        sort_keys=True,
                    )
                    + "\n"
                )
        wrote("questions.jsonl")
        bar.update(1)

        comp = build_composition_dataset(kg2, phi=dataset_phi, seed=seed)
        comp.write_jsonl(root / "composition")
        files += [f"composition/{p.name}" for p in sorted((root / "composition").iterdir())]
        echo("== composition dataset (ID/OOD) ==")
        echo(repr(comp) + "\n")
        bar.update(1)

        kg_cmp, cmp_log = augment_comparison(kg, "country", num_new=200, seed=seed)
        cmp_ds = build_comparison_dataset(
            kg_cmp, attributes=["country"], phi=comparison_phi, seed=seed
        )
        cmp_ds.write_jsonl(root / "comparison")
        files += [f"comparison/{p.name}" for p in sorted((root / "comparison").iterdir())]
        echo("== comparison augmentation (Algorithm 1) and dataset ==")
        echo(repr(cmp_log))
        echo(repr(cmp_ds) + "\n")
        bar.update(1)

        plot_file: str | None = None
        try:
            from matplotlib.figure import Figure  # no pyplot: leaves the backend alone

            from kgaug.plot import plot_phi_before_after

            # one x-scale for both panels (bar lengths compare), growth in the title
            fig = plot_phi_before_after(before, after, fig=Figure(figsize=(12, 6.2)))
            with atomic_write(root / "phi.png", "wb") as fh:
                fig.savefig(fh, format="png", dpi=100, metadata={"Software": None})
            plot_file = "phi.png"
            wrote(plot_file)
        except ImportError:
            echo("(matplotlib not installed: pip install 'kgaug[plot]' for phi.png)")
        bar.update(1)

    echo(f"wrote {len(files)} files to {root}/")
    for f in files:
        echo(f"  {f}")
    return DemoResult(
        out=str(root),
        files=files,
        failing_before=before.failing,
        failing_after=after.failing,
        unreachable=plan.unreachable,
        added_facts=plan.added_facts,
        role_violations=report.role_violations,
        composition_phi=comp.phi,
        comparison_phi=cmp_ds.phi,
        plot=plot_file,
    )
