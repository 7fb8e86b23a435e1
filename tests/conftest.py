from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import kgaug

# CI runs are reproducible (derandomized); `--hypothesis-profile=explore` searches more.
settings.register_profile(
    "default",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The CLI's default LLM cache goes to a temporary folder, never ~/.cache."""
    monkeypatch.setenv("KGAUG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kgaug-cache"))


@pytest.fixture(scope="session")
def example_kg() -> kgaug.KnowledgeGraph:
    return kgaug.datasets.load_example()


@pytest.fixture
def obama() -> kgaug.KnowledgeGraph:
    return kgaug.KnowledgeGraph.from_triples(
        [
            ("Barack Obama", "spouse", "Michelle Obama"),
            ("Michelle Obama", "born in", "Chicago"),
            ("Barack Obama", "born in", "Honolulu"),
            ("Chicago", "country", "United States"),
            ("Honolulu", "country", "United States"),
        ],
        entity_types={"Barack Obama": "Person", "Michelle Obama": "Person", "Chicago": "Location"},
    )
