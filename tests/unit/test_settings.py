from __future__ import annotations

import pytest

from inbox.settings import MissingSetting, settings


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_TABLE_NAME", "one")
    assert settings().table_name == "one"

    monkeypatch.setenv("INBOX_TABLE_NAME", "two")
    assert settings().table_name == "two"


def test_provider_urls_default_to_the_real_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INBOX_META_GRAPH_URL", raising=False)
    monkeypatch.setenv("INBOX_TWILIO_API_URL", "http://127.0.0.1:9999")

    assert settings().meta_graph_url == "https://graph.facebook.com/v21.0"
    assert settings().twilio_api_url == "http://127.0.0.1:9999"


def test_a_missing_required_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INBOX_OUTBOUND_QUEUE_URL", raising=False)

    with pytest.raises(MissingSetting, match="INBOX_OUTBOUND_QUEUE_URL"):
        settings().require("outbound_queue_url")
