"""The one vocabulary of provider failures: each client reads its provider's error answer once,
and which codes mean "retry later" is decided there (no network: an httpx mock transport)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from inbox.accounts.check_report import hide
from inbox.provider_errors import (
    CredentialsRefused,
    ProviderFailure,
    Rejected,
    Throttled,
    Unavailable,
    UnexpectedAnswer,
)
from inbox.whatsapp.meta_graph import MetaGraph
from inbox.whatsapp.twilio_api import TwilioApi

TOKEN = "EAAG-secret-token"
TWILIO_SID = "AC" + "0123456789abcdef" * 2


def meta_answering(status: int, body: object, headers: dict[str, str] | None = None) -> MetaGraph:
    transport = httpx.MockTransport(lambda _: httpx.Response(status, json=body, headers=headers))
    return MetaGraph("https://graph.test/v21.0", transport=transport)


def twilio_answering(status: int, body: object, headers: dict[str, str] | None = None) -> TwilioApi:
    transport = httpx.MockTransport(lambda _: httpx.Response(status, json=body, headers=headers))
    return TwilioApi(TWILIO_SID, SecretStr("auth-token"), api_url="https://twilio.test", transport=transport)


def meta_failure(status: int, code: int | None, message: str = "said") -> ProviderFailure:
    graph = meta_answering(status, {"error": {"code": code, "message": message, "fbtrace_id": "T1"}})
    with pytest.raises(ProviderFailure) as raised:
        graph.send_text("1001", SecretStr(TOKEN), to="+33612345678", text="Bonjour")
    return raised.value


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, None, CredentialsRefused),
        (400, 190, CredentialsRefused),
        (429, None, Throttled),
        (400, 4, Throttled),
        (400, 80007, Throttled),
        (400, 80008, Throttled),
        (400, 130429, Throttled),
        (400, 131056, Throttled),
        (500, None, Unavailable),
        (400, 2, Unavailable),
        (400, 131016, Unavailable),
        (408, None, Unavailable),
        (400, 131047, Rejected),
        (400, 100, Rejected),
    ],
)
def test_meta_answers_fall_in_one_vocabulary(status: int, code: int | None, kind: type) -> None:
    failure = meta_failure(status, code)

    assert type(failure) is kind
    assert (failure.http_status, failure.code, failure.trace) == (status, code, "T1")


def test_meta_words_are_kept_with_the_token_masked() -> None:
    failure = meta_failure(400, 100, f"Invalid parameter for token {TOKEN}")

    assert failure.message == "Invalid parameter for token [hidden]"


def test_a_throttled_answer_carries_its_retry_after() -> None:
    graph = meta_answering(429, {"error": {"code": 130429}}, {"Retry-After": "30"})

    with pytest.raises(Throttled) as raised:
        graph.template("42", SecretStr(TOKEN))

    assert raised.value.retry_after == 30.0


def test_an_unreadable_success_is_an_unexpected_answer() -> None:
    with pytest.raises(UnexpectedAnswer):
        meta_answering(200, {"messages": []}).send_text("1001", SecretStr(TOKEN), to="+1", text="x")


def test_no_answer_is_unavailable_and_says_why() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    graph = MetaGraph("https://graph.test/v21.0", transport=httpx.MockTransport(refuse))

    with pytest.raises(Unavailable) as raised:
        graph.phone_number("1001", SecretStr(TOKEN))

    assert raised.value.http_status is None
    assert raised.value.connect_failed


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, 20003, CredentialsRefused),
        (429, None, Throttled),
        (400, 20429, Throttled),
        (503, None, Unavailable),
        (400, 63016, Rejected),
        (404, 20404, Rejected),
    ],
)
def test_twilio_answers_fall_in_the_same_vocabulary(status: int, code: int | None, kind: type) -> None:
    twilio = twilio_answering(status, {"code": code, "message": "Twilio said"}, {"Retry-After": "5"})

    with pytest.raises(ProviderFailure) as raised:
        twilio.send_message({"To": "whatsapp:+33612345678", "Body": "Bonjour"})

    assert type(raised.value) is kind
    assert (raised.value.http_status, raised.value.code, raised.value.message) == (
        status,
        code,
        "Twilio said",
    )


def test_a_secret_is_hidden_where_it_stands_alone_not_inside_other_words() -> None:
    # A one-letter password must not garble "port", nor tell which letters it has
    assert hide("Could not reach 127.0.0.1 on port 1", "p") == "Could not reach 127.0.0.1 on port 1"
    assert hide("LOGIN failed for user=a password=s3cr3t!", "s3cr3t!") == (
        "LOGIN failed for user=a password=[hidden]"
    )
    assert hide("bad token 'EAAG-x.y' (EAAG-x.y)", "EAAG-x.y") == "bad token '[hidden]' ([hidden])"
