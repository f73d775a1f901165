"""Connecting Gmail and Office 365 mailboxes through the API, as an admin does: `POST
/v1/oauth/{provider}/start`, the consent page of the sandbox's Google or Microsoft (over https,
trusted through INBOX_CA_BUNDLE), the callback; then the poll_email and route functions importing
the mailbox, a revoked access putting the account in `error` until it is reconnected, a lost sync
cursor recovered without duplicates, and two concurrent refreshes making one call. Each refusal
answers its code and creates nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from builders import call_api, http_event, invoke_handler, sqs_record
from google_standin import CLIENT_ID as GOOGLE_CLIENT_ID
from google_standin import CLIENT_SECRET as GOOGLE_CLIENT_SECRET
from google_standin import serve_google
from https_standins import serve_app
from inbox.accounts.models import GmailCredentials, Office365Credentials
from inbox.delivery.queue import OutboundRequest
from inbox.delivery.sender import LEASE
from inbox.email.api_sending import send_with_tokens
from inbox.email.outgoing import outgoing_email
from inbox.email.sending import wire_bytes
from inbox.errors import BadRequest
from inbox.local.resources import LocalResources
from inbox.local.sandbox.google import GMAIL_READONLY, GoogleSandbox
from inbox.local.sandbox.tls import LocalCA
from inbox.oauth import connect
from inbox.oauth.session import trusted_session
from inbox.oauth.tokens import AccountTokens
from inbox.store import dynamo
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.store.oauth_states import OAuthStateStore
from inbox.store.outbound_claims import OutboundClaims
from mail_flow import (
    account,
    conversations_of,
    drain_inbound,
    function_variables,
    inbound_messages,
    messages_of,
    peek_outbound,
    poll,
    send_queued,
)
from microsoft_standin import CLIENT_ID as MICROSOFT_CLIENT_ID
from microsoft_standin import CLIENT_SECRET as MICROSOFT_CLIENT_SECRET
from microsoft_standin import serve_microsoft

PUBLIC_URL = "https://inbox.test"
GMAIL_BOX = "support@shop.example"
OUTLOOK_BOX = "shared@contoso.example"  # microsoft_standin's mailbox


@dataclass
class Side:
    """One provider as the tests drive it: the route's name, the sandbox, its mailbox."""

    name: str
    product: str  # the account's `provider`
    sandbox: Any
    address: str

    def deliver(self, subject: str) -> None:
        raw = email(subject, to=self.address)
        self.sandbox.deliver(self.address, raw)

    def sent(self) -> list[bytes]:
        """What the mailbox sent through the provider's API, oldest first."""
        if isinstance(self.sandbox, GoogleSandbox):
            return [message.raw for message in self.sandbox.sent(self.address)]
        return list(self.sandbox.sent(self.address))

    def lose_cursor(self) -> None:
        if isinstance(self.sandbox, GoogleSandbox):
            self.sandbox.expire_history(self.address)
        else:
            self.sandbox.expire_sync_state(self.address)

    def refresh_token_of(self, account_id: str) -> str:
        if isinstance(self.sandbox, GoogleSandbox):
            gmail = CredentialVault().load(account_id, GmailCredentials)
            return gmail.refresh_token.get_secret_value()
        office = CredentialVault().load(account_id, Office365Credentials)
        cache = json.loads(office.token_cache.get_secret_value())
        (token,) = [entry["secret"] for entry in cache["RefreshToken"].values()]
        return str(token)


@pytest.fixture
def stack(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    # What the stack gives settings_api (its public URL) and the apps a deployer configures.
    monkeypatch.setenv("INBOX_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("INBOX_GOOGLE_CLIENT_ID", GOOGLE_CLIENT_ID)
    monkeypatch.setenv("INBOX_GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET)
    monkeypatch.setenv("INBOX_MICROSOFT_CLIENT_ID", MICROSOFT_CLIENT_ID)
    monkeypatch.setenv("INBOX_MICROSOFT_CLIENT_SECRET", MICROSOFT_CLIENT_SECRET)
    with function_variables(aws, "poll_email", "route", "send", "settings_api"):
        yield aws


@pytest.fixture(params=["google", "microsoft"])
def side(
    request: pytest.FixtureRequest,
    stack: LocalResources,
    https_server: HTTPServer,
    trust_stand_ins: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> Side:
    if request.param == "google":
        google = serve_google(https_server, monkeypatch)
        google.add_mailbox(GMAIL_BOX)
        return Side("google", "gmail", google, GMAIL_BOX)
    return Side("microsoft", "office365", serve_microsoft(https_server, monkeypatch), OUTLOOK_BOX)


@pytest.fixture
def both(
    stack: LocalResources, https_server: HTTPServer, trust_stand_ins: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> tuple[Side, Side]:
    """Google and Microsoft on one https server (their paths never meet)."""
    google = GoogleSandbox(client_id=GOOGLE_CLIENT_ID, client_secret=GOOGLE_CLIENT_SECRET)
    google.add_mailbox(GMAIL_BOX)
    microsoft = serve_microsoft(https_server, monkeypatch)
    https_server.clear()
    routes: dict[str, Callable[..., Any]] = {"/o/": google, "/token": google, "/gmail/": google}

    def answer(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        target = next((app for prefix, app in routes.items() if path.startswith(prefix)), microsoft)
        return target(environ, start_response)

    serve_app(https_server, answer)
    base = https_server.url_for("/").rstrip("/")
    for name in ("INBOX_GOOGLE_OAUTH_URL", "INBOX_GMAIL_API_URL", "INBOX_GOOGLE_ACCOUNTS_URL"):
        monkeypatch.setenv(name, base)
    return Side("google", "gmail", google, GMAIL_BOX), Side("microsoft", "office365", microsoft, OUTLOOK_BOX)


def provider_name(side: Side) -> connect.ProviderName:
    return "google" if side.name == "google" else "microsoft"


def email(subject: str, *, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@customer.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@customer.example>"
    message.set_content(f"{subject}: hello")
    return wire_bytes(message)


@dataclass(frozen=True)
class Callback:
    status: int
    body: Any
    location: str | None

    @property
    def back(self) -> dict[str, str]:
        """The query of the redirect to `redirect_to`."""
        assert self.location is not None
        return dict(parse_qsl(urlsplit(self.location).query, keep_blank_values=True))


def start(name: str, *, admin: bool = True, **body: Any) -> Any:
    return call_api("POST", f"/v1/oauth/{name}/start", body=body, admin=admin)


def consent(authorization_url: str) -> dict[str, str]:
    """The admin's browser at the consent page: where it is sent back, the callback's query."""
    with trusted_session() as session:
        answer = session.get(authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(f"{PUBLIC_URL}/v1/oauth/"), location
    return dict(parse_qsl(urlsplit(location).query))


def callback(name: str, query: dict[str, str]) -> Callback:
    """The browser arriving at the callback: no token, only the query."""
    event = http_event("GET", f"/v1/oauth/{name}/callback", user=None, query=urlencode(query))
    result = invoke_handler("settings_api", event)
    text = result.get("body") or ""
    return Callback(
        result["statusCode"], json.loads(text) if text else None, result["headers"].get("Location")
    )


def sign_in(name: str, **body: Any) -> Callback:
    """Start, consent, callback: the whole connection as an admin clicks through it."""
    started = start(name, **body)
    assert started.status == 200, started.body
    return callback(name, consent(started.body["authorization_url"]))


def connected(side: Side) -> str:
    answer = sign_in(side.name)
    assert answer.status == 200, answer.body
    return str(answer.body["account"]["id"])


def accounts() -> list[dict[str, Any]]:
    answer = call_api("GET", "/v1/accounts")
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


def imported(stack: LocalResources, account_id: str) -> list[str]:
    """Poll the account once, route what it queued; every inbound subject of the account so far."""
    assert poll(account_id) == {"batchItemFailures": []}
    drain_inbound(stack)
    return sorted(message["subject"] for message in inbound_messages(account_id))


def test_an_admin_connects_a_mailbox_and_its_mail_arrives_once(stack: LocalResources, side: Side) -> None:
    side.deliver("Where is my order")

    answer = sign_in(side.name)

    assert answer.status == 200, answer.body
    assert answer.body["result"] == "connected"
    created = answer.body["account"]
    assert (created["provider"], created["address"], created["status"]) == (
        side.product,
        side.address,
        "active",
    )
    assert created["has_credentials"] is True
    secret = side.refresh_token_of(created["id"])
    assert secret not in json.dumps(account(created["id"]))
    assert imported(stack, created["id"]) == ["Where is my order"]
    assert imported(stack, created["id"]) == ["Where is my order"]  # polled again: nothing twice
    side.deliver("A second question")
    assert imported(stack, created["id"]) == ["A second question", "Where is my order"]
    assert account(created["id"])["sync"]["imported"] == 2


def test_with_redirect_to_the_admin_is_sent_back_to_the_console(side: Side) -> None:
    answer = sign_in(side.name, redirect_to="https://console.test/accounts?tab=email")

    assert answer.status == 302
    assert answer.location is not None
    assert answer.location.startswith("https://console.test/accounts?tab=email&")
    (created,) = accounts()
    assert answer.back == {"tab": "email", "account_id": created["id"], "result": "connected"}


def test_signing_in_again_with_the_same_mailbox_reconnects_its_account(side: Side) -> None:
    first = connected(side)

    again = sign_in(side.name)

    assert again.status == 200, again.body
    assert again.body["result"] == "reconnected"
    assert [a["id"] for a in accounts()] == [first]


def test_a_replayed_forged_missing_or_other_providers_state_is_400_and_creates_nothing(
    both: tuple[Side, Side],
) -> None:
    started = start("google")
    back = consent(started.body["authorization_url"])
    assert callback("google", back).status == 200
    (created,) = accounts()

    replayed = callback("google", back)
    forged = callback("google", {**back, "state": "x" * 43})
    missing = callback("google", {"code": back["code"]})
    other = start("microsoft").body["state"]
    crossed = callback("google", {"code": back["code"], "state": other})

    for refused in (replayed, forged, missing, crossed):
        assert refused.status == 400, refused.body
        assert refused.body["error"]["code"] == "oauth_state_invalid"
    # The crossed state was spent on the wrong callback: Microsoft's callback refuses it too.
    assert callback("microsoft", {"code": "c", "state": other}).status == 400
    assert accounts() == [created]


def test_a_state_older_than_ten_minutes_is_refused(side: Side) -> None:
    started = start(side.name)
    back = consent(started.body["authorization_url"])
    table = dynamo.table()
    stores = connect.Stores(
        accounts=AccountStore(table), vault=CredentialVault(), states=OAuthStateStore(table)
    )
    later = datetime.now(UTC) + timedelta(minutes=10, seconds=1)
    sooner = datetime.now(UTC) + timedelta(minutes=9, seconds=50)

    with pytest.raises(BadRequest) as refused:
        connect.finish(provider_name(side), state=back["state"], code=back["code"], stores=stores, now=later)

    assert refused.value.code == "oauth_state_invalid"
    assert accounts() == []
    # Within the ten minutes, a state (another one: that one was spent) still serves.
    fresh = consent(start(side.name).body["authorization_url"])
    done = connect.finish(
        provider_name(side), state=fresh["state"], code=fresh["code"], stores=stores, now=sooner
    )
    assert done.connected.result == "connected"


def test_a_refused_code_a_denied_consent_or_no_mail_access_is_422_and_creates_nothing(side: Side) -> None:
    forged = start(side.name)
    refused = callback(side.name, {"state": forged.body["state"], "code": "not-a-code-it-issued"})
    side.sandbox.deny_consent = True
    denied = callback(side.name, consent(start(side.name).body["authorization_url"]))
    side.sandbox.deny_consent = False
    side.sandbox.granted_scopes = {GMAIL_READONLY} if side.name == "google" else {"Mail.Read"}
    narrow = callback(side.name, consent(start(side.name).body["authorization_url"]))

    assert (refused.status, refused.body["error"]["code"]) == (422, "oauth_code_refused")
    assert (denied.status, denied.body["error"]["code"]) == (422, "oauth_consent_denied")
    assert (narrow.status, narrow.body["error"]["code"]) == (422, "oauth_scope_missing")
    assert (
        "send" in narrow.body["error"]["message"].lower() or "mail" in narrow.body["error"]["message"].lower()
    )
    assert accounts() == []


def test_a_failure_with_redirect_to_sends_the_admin_back_with_its_code(side: Side) -> None:
    started = start(side.name, redirect_to="https://console.test/accounts")

    answer = callback(side.name, {"state": started.body["state"], "code": "not-a-code-it-issued"})

    assert answer.status == 302
    assert answer.back == {"account_id": "", "result": "error", "code": "oauth_code_refused"}
    assert accounts() == []


def test_only_admins_start_and_only_configured_apps(side: Side, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = start(side.name, admin=False)
    unknown_provider = start("yahoo")
    unknown_account = start(side.name, account_id="acc_01J000000000000000000000")
    monkeypatch.delenv(f"INBOX_{side.name.upper()}_CLIENT_ID")
    unconfigured = start(side.name)

    assert (agent.status, agent.body["error"]["code"]) == (403, "forbidden")
    assert unknown_provider.status == 422
    assert unknown_account.status == 404
    assert (unconfigured.status, unconfigured.body["error"]["code"]) == (503, "oauth_not_configured")
    assert f"INBOX_{side.name.upper()}_CLIENT_ID" in unconfigured.body["error"]["message"]


def test_reconnecting_an_account_of_the_other_provider_is_refused(both: tuple[Side, Side]) -> None:
    gmail = connected(both[0])

    answer = start("microsoft", account_id=gmail)

    assert (answer.status, answer.body["error"]["code"]) == (422, "oauth_wrong_provider")
    assert answer.body["error"]["details"][0]["field"] == "account_id"


def test_revoked_access_puts_the_account_in_error_and_reconnecting_resumes_polling(
    stack: LocalResources, side: Side
) -> None:
    account_id = connected(side)
    side.deliver("Before the revocation")
    assert imported(stack, account_id) == ["Before the revocation"]

    side.sandbox.revoke(side.address)
    side.deliver("Sent while revoked")
    poll(account_id)
    revoked = account(account_id)
    assert revoked["status"] == "error"
    assert revoked["status_reason"].endswith("reconnect the account.")
    assert "revoked" in revoked["status_reason"]
    assert revoked["sync"]["last_error"]["code"] == "auth"

    again = sign_in(side.name, account_id=account_id)

    assert again.status == 200, again.body
    assert again.body["result"] == "reconnected"
    assert again.body["account"]["status"] == "active"
    assert imported(stack, account_id) == ["Before the revocation", "Sent while revoked"]
    assert account(account_id)["sync"]["last_error"] is None


def test_reconnecting_with_another_mailbox_is_409_and_changes_nothing(side: Side) -> None:
    account_id = connected(side)
    side.sandbox.add_mailbox("someone.else@shop.example")
    side.sandbox.signs_in = "someone.else@shop.example"
    before = side.refresh_token_of(account_id)

    answer = sign_in(side.name, account_id=account_id)

    assert (answer.status, answer.body["error"]["code"]) == (409, "oauth_wrong_mailbox")
    assert "someone.else@shop.example" in answer.body["error"]["message"]
    assert [a["id"] for a in accounts()] == [account_id]
    assert side.refresh_token_of(account_id) == before


def test_a_lost_sync_cursor_reimports_the_backfill_without_duplicates(
    stack: LocalResources, side: Side
) -> None:
    account_id = connected(side)
    side.deliver("Already imported")
    assert imported(stack, account_id) == ["Already imported"]

    side.lose_cursor()
    side.deliver("After the cursor was lost")

    assert imported(stack, account_id) == ["After the cursor was lost", "Already imported"]
    assert len(conversations_of(account_id)) == 2
    assert account(account_id)["sync"]["imported"] == 2


def test_two_concurrent_refreshes_make_one_call_and_save_the_rotated_token(side: Side) -> None:
    side.sandbox.access_token_seconds = 120  # the token the connection got is already due
    account_id = connected(side)
    side.sandbox.access_token_seconds = 3599
    if isinstance(side.sandbox, GoogleSandbox):
        side.sandbox.rotate_refresh_token(side.address)  # Microsoft rotates on every refresh
    before = side.refresh_token_of(account_id)
    refreshes = side.sandbox.refreshes
    stored = AccountStore(dynamo.table()).get(account_id)
    ready = threading.Barrier(2)
    tokens: list[str] = []

    def refresh() -> None:
        ready.wait()
        tokens.append(AccountTokens(stored).get())

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert side.sandbox.refreshes == refreshes + 1
    assert side.refresh_token_of(account_id) != before  # the rotation saved before the token was used
    assert AccountTokens(stored).get() == tokens[0]  # and later callers use it without refreshing
    assert side.sandbox.refreshes == refreshes + 1


def test_an_auto_reply_goes_out_through_the_providers_api_in_the_conversations_thread(
    stack: LocalResources, side: Side
) -> None:
    account_id = connected(side)
    rules = {
        "enabled": True,
        "cooldown_minutes": 0,
        "rules": [{"trigger": "always", "message": "Thanks, we are on it."}],
    }
    assert call_api("PUT", f"/v1/accounts/{account_id}/auto-reply", body=rules).status == 200
    signature = {"name": "Team", "html": "<p><b>The Shop team</b></p>", "default_for_account": True}
    assert call_api("POST", f"/v1/accounts/{account_id}/signatures", body=signature).status == 201
    side.deliver("Broken parcel")
    assert imported(stack, account_id) == ["Broken parcel"]

    assert send_queued(stack) == 1

    (raw,) = side.sent()
    sent = message_from_bytes(raw, policy=policy.default)
    assert isinstance(sent, EmailMessage)
    plain, html = sent.get_body(("plain",)), sent.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().count("The Shop team") == 1
    assert html.get_content().count("<b>The Shop team</b>") == 1
    assert "Thanks, we are on it." in plain.get_content()
    assert str(sent["Subject"]) == "Auto: Broken parcel"
    assert str(sent["To"]) == "ana@customer.example"
    assert str(sent["In-Reply-To"]) == "<Broken-parcel@customer.example>"
    assert str(sent["Auto-Submitted"]) == "auto-replied"
    if isinstance(side.sandbox, GoogleSandbox):  # in the Gmail thread of the mail it answers
        (stored,) = side.sandbox.sent(side.address)
        (inbound,) = [m for m in side.sandbox.messages(side.address) if "INBOX" in m.labels]
        assert stored.thread_id == inbound.thread_id
    (conversation,) = conversations_of(account_id)
    statuses = [(m["direction"], m["status"]) for m in messages_of(conversation["id"])]
    assert statuses == [("in", "received"), ("out", "sent")]
    # The sent copy is not imported back as the customer's.
    assert imported(stack, account_id) == ["Broken parcel"]


def test_a_delivery_that_died_after_the_provider_sent_it_is_not_sent_twice(
    stack: LocalResources, side: Side
) -> None:
    account_id = connected(side)
    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "On it."}]}
    assert call_api("PUT", f"/v1/accounts/{account_id}/auto-reply", body=rules).status == 200
    side.deliver("Lost keys")
    assert imported(stack, account_id) == ["Lost keys"]
    request = OutboundRequest.model_validate_json(peek_outbound(stack))

    # A delivery claimed it and the provider sent it; the delivery died before recording it.
    table = dynamo.table()
    past = datetime.now(UTC) - 2 * LEASE
    died = OutboundClaims(table).take(request.message_pk, request.message_sk, now=past, lease=LEASE)
    assert died is not None
    stored = AccountStore(table).get(account_id)
    outgoing = outgoing_email(stored, died.item, request.to, table)
    send_with_tokens(stored, outgoing, AccountTokens(stored), check_sent=False)
    assert len(side.sent()) == 1

    # Its lease over, the request comes again: found among what the mailbox sent, recorded, not resent.
    assert send_queued(stack) == 1
    assert len(side.sent()) == 1
    (conversation,) = conversations_of(account_id)
    reply = next(m for m in messages_of(conversation["id"]) if m["direction"] == "out")
    assert (reply["status"], reply["message_id"]) == ("sent", outgoing.message_id)


SEND_PATHS = {"google": "/gmail/v1/users/me/messages/send", "microsoft": "/v1.0/me/sendMail"}


def test_a_provider_outage_is_retried_and_a_refusal_is_recorded_failed(
    stack: LocalResources, side: Side
) -> None:
    account_id = connected(side)
    rules = {"enabled": True, "cooldown_minutes": 0, "rules": [{"trigger": "always", "message": "On it."}]}
    assert call_api("PUT", f"/v1/accounts/{account_id}/auto-reply", body=rules).status == 200
    side.deliver("During the outage")
    imported(stack, account_id)

    side.sandbox.fail(1, status=503, path=SEND_PATHS[side.name])
    body = peek_outbound(stack)
    record = sqs_record(body, "delivery-1")
    retried = invoke_handler("send", {"Records": [record]}, timeout_seconds=30)

    assert retried == {"batchItemFailures": [{"itemIdentifier": "delivery-1"}]}
    assert side.sent() == []
    assert send_queued(stack) == 1  # the queue's next delivery
    assert len(side.sent()) == 1

    side.deliver("Refused one")
    imported(stack, account_id)
    side.sandbox.fail(1, status=400, path=SEND_PATHS[side.name])
    assert send_queued(stack) == 1

    assert len(side.sent()) == 1
    replies = {
        conversation["subject"]: [m for m in messages_of(conversation["id"]) if m["direction"] == "out"]
        for conversation in conversations_of(account_id)
    }
    assert [m["status"] for m in replies["During the outage"]] == ["sent"]
    ((refused,),) = [replies["Refused one"]]
    assert refused["status"] == "failed"
    assert refused["error"]["code"].endswith("_400")
    assert account(account_id)["status"] == "active"  # the message's failure, not the account's
