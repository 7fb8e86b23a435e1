"""The phi sweep: one run per dataset phi (and seed), a table and the figure the papers rest on.

:func:`sweep` builds Wang et al.'s synthetic dataset at every requested phi
(:func:`kgaug.train.wang_dataset`), trains one model per (phi, seed) into
``OUT/phi<phi>-seed<seed>/`` and collects the curves. The figure draws test ID and OOD
accuracy against steps, one colour per phi, and the steps to reach a threshold against phi:
the more inferred facts per atomic fact, the sooner (and the more likely) a model
generalizes.

Resumable: a run whose ``result.json`` exists is finished and is never repeated; a run
with checkpoints continues from the newest; every phi is checked to be buildable (the
error names the phi and the achievable maximum) before any training starts.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kgaug._fileio import atomic_write
from kgaug._progress import progress_bar
from kgaug.train.config import TrainConfig

__all__ = ["SweepError", "SweepResult", "SweepRun", "sweep"]

Task = Literal["comparison", "composition"]
PathLike = str | os.PathLike[str]


class SweepError(ValueError):
    """A sweep that cannot run as asked (a phi that cannot be built, a bad argument)."""


@dataclass
class SweepRun:
    """One (phi, seed) run of a sweep."""

    phi: float
    seed: int
    history: list[dict[str, Any]]
    steps: int
    wall_time_s: float
    steps_per_s: float
    out: Path | None

    def final(self, split: str) -> float:
        """Accuracy of the last evaluation on ``split`` (NaN if absent)."""
        return float(self.history[-1].get(f"acc_{split}", math.nan)) if self.history else math.nan

    def best(self, split: str) -> float:
        """Highest accuracy seen on ``split``."""
        vals = [r[f"acc_{split}"] for r in self.history if f"acc_{split}" in r]
        return max(vals) if vals else math.nan

    def steps_to(self, split: str, threshold: float) -> int | None:
        """First evaluated step at which ``split`` reached ``threshold`` (``None``: never)."""
        for r in self.history:
            if r.get(f"acc_{split}", -1.0) >= threshold:
                return int(r["step"])
        return None

    def seconds_to(self, split: str, threshold: float) -> float | None:
        """Loop time at that step (``None``: never)."""
        for r in self.history:
            if r.get(f"acc_{split}", -1.0) >= threshold:
                return float(r.get("elapsed_s", math.nan))
        return None


@dataclass
class SweepResult:
    """Runs of a :func:`sweep`, their table and figure.

    Attributes
    ----------
    task : {"comparison", "composition"}
        The task.
    metric : str
        The split the threshold refers to (``"test_ood"`` for comparison, ``"test_id"``
        for composition by default).
    threshold : float
        Accuracy that counts as generalized.
    runs : list of SweepRun
        One per (phi, seed), in order.
    """

    task: str
    metric: str
    threshold: float
    runs: list[SweepRun]
    out: Path | None = None

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per run."""
        return [
            {
                "phi": r.phi,
                "seed": r.seed,
                "steps": r.steps,
                "train_inferred": r.final("train_inferred"),
                "test_id": r.final("test_id"),
                "test_ood": r.final("test_ood"),
                "best_test_id": r.best("test_id"),
                "best_test_ood": r.best("test_ood"),
                f"steps_to_{self.metric}_{self.threshold:g}": r.steps_to(
                    self.metric, self.threshold
                ),
                "seconds_to_threshold": r.seconds_to(self.metric, self.threshold),
                "wall_time_s": r.wall_time_s,
                "steps_per_s": r.steps_per_s,
            }
            for r in self.runs
        ]

    def to_pandas(self) -> Any:
        """The table as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    def __repr__(self) -> str:
        from kgaug._table import text_table

        head = ["phi", "seed", "steps", "train inf.", "test ID", "test OOD", "best OOD",
                f"steps to {self.metric} {self.threshold:g}", "wall"]  # fmt: skip
        rows = []
        for r in self.runs:
            t = r.steps_to(self.metric, self.threshold)
            rows.append([
                f"{r.phi:g}", str(r.seed), str(r.steps), f"{r.final('train_inferred'):.3f}",
                f"{r.final('test_id'):.3f}", f"{r.final('test_ood'):.3f}",
                f"{r.best('test_ood'):.3f}", "never" if t is None else str(t),
                f"{r.wall_time_s:.0f}s",
            ])  # fmt: skip
        return f"phi sweep ({self.task}, {len(self.runs)} runs)\n" + text_table(head, rows)

    def plot(self, axes: Any = None) -> Any:
        """Test ID / OOD curves per phi, and steps to the threshold against phi.

        Parameters
        ----------
        axes : pair of matplotlib Axes, optional
            Where to draw the curves and the steps-to-threshold panel (a new figure of two
            panels otherwise).

        Returns
        -------
        matplotlib.figure.Figure
            The new figure, or the figure of ``axes``.
        """
        from kgaug.plot import MAX_MARKERS, VERMILION, _figure_of, _pyplot

        plt = _pyplot()
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(13, 4.5))
        ax, ax2 = axes
        phis = sorted({r.phi for r in self.runs})
        cmap = plt.get_cmap("viridis")
        color = {p: cmap(0.1 + 0.8 * i / max(len(phis) - 1, 1)) for i, p in enumerate(phis)}
        for r in self.runs:
            steps = [h["step"] for h in r.history]
            every = max(1, -(-len(steps) // MAX_MARKERS))
            for split, style, mark in (("test_id", "-", "o"), ("test_ood", "--", "^")):
                ys = [h.get(f"acc_{split}", math.nan) for h in r.history]
                first = r.seed == min(x.seed for x in self.runs if x.phi == r.phi)
                label = f"phi {r.phi:g} {'ID' if split == 'test_id' else 'OOD'}" if first else None
                ax.plot(steps, ys, linestyle=style, marker=mark, markevery=every, markersize=3,
                        color=color[r.phi], label=label, alpha=0.9)  # fmt: skip
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.axhline(self.threshold, color="#9e9e9e", lw=0.8, ls=":",
                   label=f"threshold {self.threshold:g}")  # fmt: skip
        ax.set_title(f"{self.task}: test ID (solid) and OOD (dashed) per phi")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", ncol=2)
        never = []
        for p in phis:
            pts = [r.steps_to(self.metric, self.threshold) for r in self.runs if r.phi == p]
            got = [s for s in pts if s is not None]
            ax2.scatter([p] * len(got), got, color=color[p], zorder=3,
                        label="run (seed)" if p == phis[0] else None)  # fmt: skip
            if len(got) < len(pts):
                never.append(p)
        means = [
            (p, sum(g) / len(g))
            for p in phis
            if (g := [s for r in self.runs if r.phi == p
                      if (s := r.steps_to(self.metric, self.threshold)) is not None])
        ]  # fmt: skip
        if means:
            ax2.plot([m[0] for m in means], [m[1] for m in means], "-", color="#424242",
                     label="mean over the seeds that reach it")  # fmt: skip
        top = max((m[1] for m in means), default=1.0)
        for p in never:
            ax2.scatter([p], [top * 1.1], marker="x", color=VERMILION, zorder=3,
                        label="not within the run" if p == never[0] else None)  # fmt: skip
        ax2.set_ylim(bottom=0)
        ax2.set_xscale("log")
        ax2.set_xticks(phis, [f"{p:g}" for p in phis])
        ax2.minorticks_off()
        ax2.set_xlabel("dataset phi (inferred training examples per ID atomic fact)")
        ax2.set_ylabel(f"steps to {self.metric} >= {self.threshold:g}")
        ax2.set_title("steps to generalize against phi (x: not within the run)")
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize="x-small")
        return _figure_of(ax)


def _record(run: SweepRun, path: Path) -> None:
    data = {
        "phi": run.phi, "seed": run.seed, "steps": run.steps, "wall_time_s": run.wall_time_s,
        "steps_per_s": run.steps_per_s, "history": run.history,
    }  # fmt: skip
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, sort_keys=True) + "\n")


def _load(path: Path, out: Path) -> SweepRun:
    d = json.loads(path.read_text())
    return SweepRun(
        phi=float(d["phi"]), seed=int(d["seed"]), history=d["history"], steps=int(d["steps"]),
        wall_time_s=float(d["wall_time_s"]), steps_per_s=float(d["steps_per_s"]), out=out,
    )  # fmt: skip


def sweep(
    task: Task = "comparison",
    phis: Sequence[float] = (1.8, 3.6, 7.2, 12.6),
    *,
    seeds: Sequence[int] = (0,),
    config: TrainConfig | None = None,
    out: PathLike | None = None,
    metric: str | None = None,
    threshold: float | None = None,
    progress: bool | None = None,
    dataset_options: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Train one model per dataset phi (and seed) and collect the grokking curves.

    Parameters
    ----------
    task : {"comparison", "composition"}
        Wang et al.'s task (:func:`kgaug.train.wang_dataset`).
    phis : sequence of float
        Dataset phis to train on.
    seeds : sequence of int
        One run per seed and phi (the seed of the graph, the split and the model).
    config : TrainConfig, optional
        Default ``cpu-small``. Each run uses it with its own seed.
    out : path, optional
        Sweep folder: one run folder per (phi, seed), ``sweep.json`` and ``sweep.png``.
        Needed to resume.
    metric : str, optional
        The split whose threshold the figure counts steps to (default ``"test_ood"`` for
        comparison, ``"test_id"`` for composition, whose OOD accuracy stays near 0).
    threshold : float, optional
        Default 0.95 (comparison) or 0.9 (composition).
    progress : bool, optional
        Progress bars.
    dataset_options : mapping, optional
        Passed to :func:`kgaug.train.wang_dataset` (``num_entities``, ``num_attributes``,
        ``num_values``, ``num_relations``, ``facts_per_entity``, ``max_test``, ...).

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepError
        A phi that cannot be built (the message names it and the achievable maximum), an
        empty ``phis`` or ``seeds``.
    """
    from kgaug.train.loop import train
    from kgaug.train.model import wang_dataset

    if task not in ("comparison", "composition"):
        raise SweepError(f"task must be 'comparison' or 'composition', got {task!r}")
    phis = [float(p) for p in phis]
    seeds = [int(s) for s in seeds]
    if not phis or not seeds:
        raise SweepError("phis and seeds must not be empty")
    if any(p <= 0 for p in phis):
        raise SweepError(f"every phi must be > 0, got {phis}")
    cfg = config if config is not None else TrainConfig.preset("cpu-small")
    metric = metric or ("test_ood" if task == "comparison" else "test_id")
    threshold = threshold if threshold is not None else (0.95 if task == "comparison" else 0.9)
    opts = dict(dataset_options or {})
    root = Path(out) if out is not None else None
    if root is not None and cfg.checkpoint_every is None:  # resumable runs
        cfg = cfg.model_copy(update={"checkpoint_every": max(cfg.eval_every, cfg.max_steps // 10)})

    # every dataset first: a phi that cannot be built fails before any training
    datasets: dict[tuple[float, int], Any] = {}
    for p in phis:
        for s in seeds:
            try:
                datasets[(p, s)] = wang_dataset(task, phi=p, seed=s, **opts)
            except ValueError as e:
                raise SweepError(f"phi={p:g} (seed {s}) cannot be built: {e}") from None

    runs: list[SweepRun] = []
    with progress_bar(total=len(datasets), desc="sweep", unit="run", enabled=progress) as bar:
        for (p, s), ds in datasets.items():
            run_dir = root / f"phi{p:g}-seed{s}" if root is not None else None
            done = run_dir / "result.json" if run_dir is not None else None
            if done is not None and done.is_file():  # finished: never repeated
                runs.append(_load(done, run_dir))  # type: ignore[arg-type]
                bar.update(1)
                continue
            resume = bool(run_dir is not None and any((run_dir / "checkpoints").glob("step-*")))
            res = train(ds, cfg.model_copy(update={"seed": s}), out=run_dir, resume=resume)
            run = SweepRun(
                phi=p, seed=s, history=res.history, steps=res.steps,
                wall_time_s=res.wall_time_s, steps_per_s=res.steps_per_s, out=run_dir,
            )  # fmt: skip
            if done is not None:
                _record(run, done)
            runs.append(run)
            bar.update(1)
    result = SweepResult(task=task, metric=metric, threshold=threshold, runs=runs, out=root)
    if root is not None:
        with atomic_write(root / "sweep.json") as fh:
            fh.write(json.dumps(result.to_records(), indent=1, sort_keys=True) + "\n")
        try:
            fig = result.plot()
            fig.tight_layout()
            fig.savefig(root / "sweep.png", dpi=120)
            import matplotlib.pyplot as plt

            plt.close(fig)
        except ImportError:  # pragma: no cover - matplotlib is optional
            pass
    return result
