"""/v1/accounts: the five providers, credentials in Secrets Manager, status, delete (moto)."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import boto3
import pytest

from builders import ApiAnswer, call_api
from inbox.accounts import lifecycle as account_lifecycle
from inbox.accounts.models import AccountStatus
from inbox.store.accounts import AccountStore
from mail_peers import DovecotServer, MailUser, Peer, SmtpServer

pytestmark = pytest.mark.usefixtures("aws")

TWILIO_SID = "AC" + "0123456789abcdef" * 2


def imap_account(password: str = "imap-password", **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "imap",
        "name": "Sales mailbox",
        "address": "sales@example.com",
        "sender_name": "Sales",
        "config": {"imap_host": "imap.example.com", "smtp_host": "smtp.example.com", "username": "sales"},
        "credentials": {"password": password},
        **overrides,
    }


def meta_account(**overrides: Any) -> dict[str, Any]:
    return {
        "provider": "meta_cloud",
        "name": "WhatsApp FR",
        "address": "+33 6 12 34 56 78",
        "config": {"waba_id": "1234567890", "phone_number_id": "10987654321", "business_name": "Garage"},
        "credentials": {"access_token": "EAAG-secret-token"},
        **overrides,
    }


def twilio_account(**overrides: Any) -> dict[str, Any]:
    return {
        "provider": "twilio",
        "name": "WhatsApp US",
        "address": "+14155550100",
        "config": {"account_sid": TWILIO_SID},
        "credentials": {"auth_token": "twilio-secret"},
        **overrides,
    }


def create(body: dict[str, Any]) -> dict[str, Any]:
    answer = call_api("POST", "/v1/accounts", body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def stored_secret(account_id: str) -> dict[str, Any]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=f"inbox/accounts/{account_id}")
    return dict(json.loads(value["SecretString"]))


def test_an_imap_account_is_created_with_defaults_and_its_password_goes_to_secrets_manager() -> None:
    account = create(imap_account(password="s3cret-imap"))

    assert account["channel"] == "email"
    assert account["status"] == "active"
    assert account["has_credentials"] is True
    assert "credentials" not in account
    assert account["config"] == {
        "imap_host": "imap.example.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "username": "sales",
        "folders": ["INBOX"],
        "backfill_days": 7,
    }
    assert account["sync"] == {
        "last_polled_at": None,
        "last_success_at": None,
        "imported": 0,
        "quarantined": 0,
        "last_error": None,
    }
    assert stored_secret(account["id"]) == {"password": "s3cret-imap"}
    assert call_api("GET", f"/v1/accounts/{account['id']}").body == account


@pytest.mark.parametrize("address", ["support@acme.local", "desk@corp.internal", "it@intranet.lan"])
def test_a_mailbox_on_an_internal_mail_domain_is_accepted(address: str) -> None:
    account = create(imap_account(address=address))

    assert account["address"] == address
    changed = call_api("PATCH", f"/v1/accounts/{account['id']}", body={"address": f"sales.{address}"})
    assert changed.status == 200, changed.body
    assert changed.body["address"] == f"sales.{address}"


def test_an_address_that_is_not_one_is_still_refused_naming_the_field() -> None:
    answer = call_api("POST", "/v1/accounts", body=imap_account(address="sales at acme.local"))

    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["address"]


def test_whatsapp_numbers_are_normalized_to_e164() -> None:
    assert create(meta_account())["address"] == "+33612345678"
    assert create(twilio_account())["channel"] == "whatsapp"


def test_a_gmail_account_waits_for_its_oauth_connection_in_error() -> None:
    account = create({"provider": "gmail", "name": "Support", "address": "support@example.com"})

    assert account["status"] == "error"
    assert "sign-in" in account["status_reason"]
    assert account["has_credentials"] is False


def test_the_same_mailbox_or_meta_number_cannot_be_connected_twice() -> None:
    create(imap_account())
    create(meta_account())

    again = call_api("POST", "/v1/accounts", body=imap_account(address="SALES@example.com"))
    same_number_id = call_api("POST", "/v1/accounts", body=meta_account(address="+33700000000"))

    assert (again.status, again.body["error"]["code"]) == (409, "account_exists")
    assert (same_number_id.status, same_number_id.body["error"]["details"][0]["field"]) == (
        409,
        "config.phone_number_id",
    )
    assert len(call_api("GET", "/v1/accounts").body["items"]) == 2


def test_a_webhook_finds_a_meta_account_by_its_phone_number_id() -> None:
    account = create(meta_account())

    found = AccountStore().by_meta_phone_number_id("10987654321")

    assert found is not None
    assert found.id == account["id"]
    assert AccountStore().by_meta_phone_number_id("999") is None


BAD_ACCOUNTS = [
    ({"provider": "fax", "name": "x", "address": "x"}, "provider"),
    (imap_account(name=""), "name"),
    (imap_account(address="not-an-email"), "address"),
    (
        imap_account(config={"imap_host": "imap.example.com", "smtp_host": "smtp.example.com"}),
        "config.username",
    ),
    (
        imap_account(
            config={
                "imap_host": "imap.example.com",
                "imap_port": 0,
                "smtp_host": "s.example.com",
                "username": "u",
            }
        ),
        "config.imap_port",
    ),
    (
        imap_account(
            config={
                "imap_host": "imap.example.com",
                "smtp_port": 70000,
                "smtp_host": "s.example.com",
                "username": "u",
            }
        ),
        "config.smtp_port",
    ),
    (
        imap_account(
            config={
                "imap_host": "imap.example.com",
                "imap_port": "many",
                "smtp_host": "s.example.com",
                "username": "u",
            }
        ),
        "config.imap_port",
    ),
    (
        imap_account(config={"imap_host": "bad host!", "smtp_host": "s.example.com", "username": "u"}),
        "config.imap_host",
    ),
    (
        imap_account(
            config={
                "imap_host": "i.example.com",
                "imap_security": "tls",
                "smtp_host": "s.example.com",
                "username": "u",
            }
        ),
        "config.imap_security",
    ),
    (
        imap_account(
            config={"imap_host": "i.example.com", "smtp_host": "s.example.com", "username": "u", "proxy": "x"}
        ),
        "config.proxy",
    ),
    (imap_account(credentials=None), "credentials"),
    (imap_account(credentials={"password": ""}), "credentials.password"),
    (imap_account(credentials={"token": "x"}), "credentials.password"),
    (imap_account(credentials="hunter2"), "credentials"),
    (imap_account(channel="whatsapp"), "channel"),
    (meta_account(address="0612345678"), "address"),
    (meta_account(config={"waba_id": "abc", "phone_number_id": "1"}), "config.waba_id"),
    (twilio_account(config={"account_sid": "AC123"}), "config.account_sid"),
    (
        twilio_account(config={"account_sid": TWILIO_SID, "messaging_service_sid": "XX1"}),
        "config.messaging_service_sid",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_ACCOUNTS)
def test_invalid_accounts_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    answer = call_api("POST", "/v1/accounts", body=body)

    assert answer.status == 422, answer.body
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert call_api("GET", "/v1/accounts").body["items"] == []


def test_an_update_keeps_credentials_unless_new_ones_are_given() -> None:
    account = create(imap_account(password="first"))

    renamed = call_api(
        "PATCH",
        f"/v1/accounts/{account['id']}",
        body={"name": "Sales FR", "config": {"imap_port": 143, "imap_security": "starttls"}},
    )
    assert renamed.status == 200
    assert renamed.body["config"]["imap_port"] == 143
    assert renamed.body["config"]["smtp_host"] == "smtp.example.com"
    assert stored_secret(account["id"]) == {"password": "first"}

    call_api("PATCH", f"/v1/accounts/{account['id']}", body={"credentials": {"password": "second"}})
    assert stored_secret(account["id"]) == {"password": "second"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"config": {"imap_port": 0}}, "config.imap_port"),
        ({"name": None}, "name"),
        ({"provider": "gmail"}, "provider"),
        ({"credentials": {"password": ""}}, "credentials.password"),
    ],
)
def test_invalid_updates_are_refused_and_change_nothing(changes: dict[str, Any], field: str) -> None:
    account = create(imap_account())

    answer = call_api("PATCH", f"/v1/accounts/{account['id']}", body=changes)

    assert answer.status == 422
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert call_api("GET", f"/v1/accounts/{account['id']}").body == account


def test_a_provider_refusing_the_credentials_puts_the_account_in_error_until_new_ones_come() -> None:
    account = create(imap_account())

    account_lifecycle.record_credentials_rejected(
        account["id"], "The IMAP server refused the password.", accounts=AccountStore()
    )
    in_error = call_api("GET", f"/v1/accounts/{account['id']}").body
    assert (in_error["status"], in_error["status_reason"]) == (
        "error",
        "The IMAP server refused the password.",
    )
    assert in_error["status_changed_at"] > account["status_changed_at"]

    fixed = call_api("PATCH", f"/v1/accounts/{account['id']}", body={"credentials": {"password": "new"}}).body
    assert (fixed["status"], fixed["status_reason"]) == ("active", None)


def test_pause_and_resume() -> None:
    account = create(twilio_account())

    paused = call_api("POST", f"/v1/accounts/{account['id']}/pause").body
    account_lifecycle.record_credentials_rejected(account["id"], "401", accounts=AccountStore())
    still_paused = AccountStore().get(account["id"])
    resumed = call_api("POST", f"/v1/accounts/{account['id']}/resume").body

    assert paused["status"] == "paused"
    assert still_paused.status is AccountStatus.PAUSED
    assert resumed["status"] == "active"


def test_a_reconnect_clears_an_error() -> None:
    account = create({"provider": "gmail", "name": "Support", "address": "support@example.com"})

    reconnected = account_lifecycle.record_reconnected(account["id"], accounts=AccountStore())

    assert (reconnected.status, reconnected.has_credentials) == (AccountStatus.ACTIVE, True)


def test_deleting_an_account_keeps_its_record_and_schedules_its_secret_for_deletion() -> None:
    account = create(imap_account())

    assert call_api("DELETE", f"/v1/accounts/{account['id']}").status == 204

    assert call_api("GET", f"/v1/accounts/{account['id']}").status == 404
    assert call_api("GET", "/v1/accounts").body["items"] == []
    kept = AccountStore().get(account["id"], include_deleted=True)
    assert kept.name == "Sales mailbox"
    secret = boto3.client("secretsmanager").describe_secret(SecretId=f"inbox/accounts/{account['id']}")
    assert "DeletedDate" in secret
    assert create(imap_account())["address"] == "sales@example.com"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/pause",
        "/resume",
        "/test-connection",
        "/authorized-users",
        "/business-hours",
        "/auto-reply",
        "/assignment-rules",
        "/signatures",
    ],
)
def test_unknown_accounts_are_404_everywhere(path: str) -> None:
    method = "POST" if path in ("/pause", "/resume", "/test-connection") else "GET"

    answer = call_api(method, f"/v1/accounts/acc_nope{path}")

    assert answer.status == 404, answer.body
    assert answer.body["error"]["code"] == "account_not_found"


def test_agents_cannot_see_or_change_accounts() -> None:
    account = create(imap_account())

    assert call_api("GET", "/v1/accounts", user="bob", admin=False).status == 403
    assert call_api("GET", f"/v1/accounts/{account['id']}", user="bob", admin=False).status == 403
    assert call_api("POST", "/v1/accounts", body=imap_account(), user="bob", admin=False).status == 403


def test_no_answer_and_no_log_line_contains_a_credential(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    password, token, auth_token = (secrets.token_urlsafe(16) for _ in range(3))
    answers: list[ApiAnswer] = []

    imap = create(imap_account(password=password))
    meta = create(meta_account(credentials={"access_token": token}))
    twilio = create(twilio_account(credentials={"auth_token": auth_token}))
    for account in (imap, meta, twilio):
        answers.append(call_api("GET", f"/v1/accounts/{account['id']}"))
        answers.append(
            call_api("PATCH", f"/v1/accounts/{account['id']}", body={"credentials": {"x": password}})
        )
    answers.append(call_api("GET", "/v1/accounts"))
    answers.append(call_api("POST", "/v1/accounts", body=imap_account(password=password, name="")))
    answers.append(call_api("POST", "/v1/accounts", body=imap_account(password=password)))  # 409
    answers.append(
        call_api(
            "POST",
            "/v1/accounts/test-connection",
            body={
                "provider": "imap",
                "config": {"imap_host": "bad host"},
                "credentials": {"password": password},
            },
        )
    )

    seen = json.dumps([a.body for a in answers]) + caplog.text + "".join(capsys.readouterr())
    for secret in (password, token, auth_token):
        assert secret not in seen


def mailbox_settings(dovecot: Peer, smtp: Peer, user: MailUser, password: str) -> dict[str, Any]:
    return {
        "provider": "imap",
        "name": "Loopback",
        "address": "user@example.com",
        "config": {
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "username": user.username,
        },
        "credentials": {"password": password},
    }


def test_an_admin_tests_imap_settings_before_and_after_saving_them(
    dovecot: DovecotServer, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    settings = mailbox_settings(dovecot, smtp_server, mail_user, mail_user.password)
    unsaved = {k: settings[k] for k in ("provider", "config", "credentials")}

    before = call_api("POST", "/v1/accounts/test-connection", body=unsaved)
    account = create(settings)
    after = call_api("POST", f"/v1/accounts/{account['id']}/test-connection")

    for report in (before.body, after.body):
        assert report == {
            "ok": True,
            "checks": [
                {"name": "imap", "ok": True, "error": None},
                {"name": "smtp", "ok": True, "error": None},
            ],
        }


def test_a_wrong_password_is_reported_as_auth_on_the_saved_account(
    dovecot: DovecotServer, smtp_server: SmtpServer, mail_user: MailUser
) -> None:
    account = create(mailbox_settings(dovecot, smtp_server, mail_user, "not-the-password"))

    report = call_api("POST", f"/v1/accounts/{account['id']}/test-connection").body

    assert report["ok"] is False
    assert {c["name"]: c["error"]["code"] for c in report["checks"]} == {"imap": "auth", "smtp": "auth"}


def test_a_saved_gmail_account_without_credentials_says_it_needs_connecting() -> None:
    account = create({"provider": "gmail", "name": "Support", "address": "support@example.com"})

    report = call_api("POST", f"/v1/accounts/{account['id']}/test-connection").body

    assert report["ok"] is False
    assert report["checks"][0]["error"]["code"] == "auth"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"provider": "imap", "config": {"imap_host": "x.example.com"}, "credentials": {"password": "p"}},
            "config.smtp_host",
        ),
        (
            {
                "provider": "imap",
                "config": {"imap_host": "i.example.com", "smtp_host": "s.example.com", "username": "u"},
                "credentials": {},
            },
            "credentials.password",
        ),
        ({"provider": "pigeon"}, "provider"),
    ],
)
def test_connection_tests_of_invalid_settings_are_422(body: dict[str, Any], field: str) -> None:
    answer = call_api("POST", "/v1/accounts/test-connection", body=body)

    assert answer.status == 422
    assert field in [d["field"] for d in answer.body["error"]["details"]]
