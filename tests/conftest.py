"""Shared test set-up: the nlp pipeline is built once per session; ../shared is optional."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def nlp():
    from pipeline.extract.nlp import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not available")
    return corpus
