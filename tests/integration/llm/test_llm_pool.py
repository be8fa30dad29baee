"""Choosing coder and reviewer by provider, with clear errors for incomplete settings."""

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from mlmaster.errors import UserError
from mlmaster.llm.coder import LLMCoder
from mlmaster.llm.pool import build_accountant, build_coder, build_reviewer
from mlmaster.llm.replay import ReplayBook, ReplayCoder, ReplayReviewer, record_exchange
from mlmaster.llm.requests import Exchange
from mlmaster.llm.review import LLMReviewer
from mlmaster.settings.model import Settings


def settings(**llm: Any) -> Settings:
    return Settings.model_validate({"llm": llm, "budget": {"max_tokens": 1000}})


def test_openai_provider_builds_the_llm_classes() -> None:
    endpoint = {"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    s = settings(coder=endpoint, feedback={**endpoint, "concurrency": 2})
    accountant = build_accountant(s)
    coder = build_coder(s, accountant)
    reviewer = build_reviewer(s, accountant)
    assert isinstance(coder, LLMCoder) and isinstance(reviewer, LLMReviewer)
    assert reviewer.endpoint.limiter.ceiling == 2
    assert coder.endpoint.accountant is accountant
    assert accountant.max_tokens == 1000


def test_openai_provider_needs_a_model() -> None:
    with pytest.raises(UserError, match=r"llm\.coder\.model is not set"):
        build_coder(settings(coder={"provider": "openai", "base_url": "http://127.0.0.1:9/v1"}))


def test_replay_provider(tmp_path: Path) -> None:
    for role in ("coder", "feedback"):
        record_exchange(
            tmp_path / "nodes" / "n1",
            Exchange(
                role=role, node_id="n1", api_style="chat", model="m", request={}, response_text="x"
            ),
        )
    s = settings(
        coder={"provider": "replay", "replay_dir": str(tmp_path)},
        feedback={"provider": "replay", "replay_dir": str(tmp_path)},
    )
    books: dict[object, ReplayBook] = {}
    coder = build_coder(s, books=books)
    reviewer = build_reviewer(s, books=books)
    assert isinstance(coder, ReplayCoder) and isinstance(reviewer, ReplayReviewer)
    assert coder.book is reviewer.book


def test_replay_provider_needs_a_directory() -> None:
    with pytest.raises(UserError, match="replay_dir is not set"):
        build_coder(settings(coder={"provider": "replay"}))


def test_offline_provider_is_imported_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("mlmaster.offline")

    class FakeOffline:
        def __init__(self, endpoint: object) -> None:
            self.endpoint = endpoint

    module.OfflineCoder = FakeOffline  # type: ignore[attr-defined]
    module.OfflineReviewer = FakeOffline  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlmaster.offline", module)
    s = settings()
    coder = build_coder(s)
    assert isinstance(coder, FakeOffline) and coder.endpoint is s.llm.coder


def test_offline_provider_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlmaster.offline", types.ModuleType("mlmaster.offline"))
    with pytest.raises(UserError, match="offline provider is not available"):
        build_reviewer(settings())
