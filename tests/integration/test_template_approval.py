"""WhatsApp templates through review: submitted to Meta's Graph API and to Twilio's Content API
(loopback stand-ins), moved by Meta's review webhook (through the router) and by the periodic
sync (moto for AWS)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from builders import call_api, invoke_handler
from inbox.accounts.models import Account, AccountStatus, Provider
from inbox.errors import Conflict
from inbox.ids import new_id
from inbox.local.scheduler import scheduled_event
from inbox.local.template import Schedule
from inbox.routing.consumer import route_event
from inbox.routing.events import QueuedEvent, TemplateStatusEvent
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault
from inbox.store.template_reviews import TemplateReviewStore
from inbox.store.templates import TemplateStore
from inbox.templates.approval import SyncReport, submit, sync_pending
from inbox.templates.models import Approval, ApprovalStatus, Category, Template, TemplateType
from mail_peers import Peer

pytestmark = pytest.mark.usefixtures("aws")

WABA_ID = "104996122399160"
META_TOKEN = "EAAG-template-secret"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-template-secret"
CONTENT_SID = "HX" + "fedcba9876543210" * 2
NEW_CONTENT_SID = "HX" + "00112233445566778899aabbccddeeff"
META_TEMPLATE_ID = "1252715608684590"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
QUOTE_READY = "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt. Merci de votre confiance !"
QUOTE_READY_POSITIONAL = "Bonjour {{1}}, votre devis {{2}} est prêt. Merci de votre confiance !"
REWRITTEN = "Bonjour {{customer_name}}, votre devis {{quote_number}} vous attend dans votre espace client."
CREATE = f"/graph/{WABA_ID}/message_templates"
CONTENT = "/content/v1/Content"


@pytest.fixture(autouse=True)
def providers(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """Graph and Twilio Content stand-ins on one loopback server."""
    monkeypatch.setenv("INBOX_META_GRAPH_URL", httpserver.url_for("/graph"))
    monkeypatch.setenv("INBOX_TWILIO_CONTENT_URL", httpserver.url_for("/content"))
    return httpserver


# Builders


def meta_account() -> Account:
    return create_account(
        {
            "provider": "meta_cloud",
            "name": "WhatsApp FR",
            "address": "+33 6 12 34 56 78",
            "config": {"waba_id": WABA_ID, "phone_number_id": "106540352242922"},
            "credentials": {"access_token": META_TOKEN},
        }
    )


def twilio_account() -> Account:
    return create_account(
        {
            "provider": "twilio",
            "name": "WhatsApp US",
            "address": "+14155550100",
            "config": {"account_sid": TWILIO_SID},
            "credentials": {"auth_token": TWILIO_TOKEN},
        }
    )


def create_account(body: dict[str, Any]) -> Account:
    answer = call_api("POST", "/v1/accounts", body=body)
    assert answer.status == 201, answer.body
    return AccountStore().get(answer.body["id"])


def stored_template(
    account: Account,
    *,
    content: str = QUOTE_READY,
    name: str = "Devis prêt",
    approval: Approval | None = None,
) -> Template:
    """A WhatsApp template as the templates API stores it before (or after) submitting it."""
    template = Template(
        id=new_id("tpl"),
        account_id=account.id,
        name=name,
        content=content,
        type=TemplateType.WINDOW,
        language="fr",
        category=Category.UTILITY,
        approval=approval or Approval(status=ApprovalStatus.PENDING),
        created_at=NOW,
        updated_at=NOW,
    )
    return TemplateStore().create(template)


def submitted_to_meta(
    account: Account,
    *,
    checked_at: datetime | None = None,
    submitted_at: datetime = NOW - timedelta(hours=2),
    **fields: Any,
) -> Template:
    return stored_template(
        account,
        approval=Approval(
            status=ApprovalStatus.PENDING,
            provider_template_id=fields.pop("provider_template_id", META_TEMPLATE_ID),
            provider_name="devis_pret",
            submitted_at=submitted_at,
            checked_at=checked_at,
            attempts=1,
        ),
        **fields,
    )


def submit_and_store(template: Template, account: Account, *, now: datetime = NOW) -> Template:
    """What the templates API does: submit, then store the approval on the template."""
    store = TemplateStore()
    current, version = store.read(template.id)
    approval = submit(current, account, now=now)
    return store.replace(current, current.model_copy(update={"approval": approval}), version=version)


def stored(template: Template) -> Approval:
    return TemplateStore().get(template.id).approval


def sync(*, now: datetime = NOW, limit: int = 50) -> SyncReport:
    return sync_pending(
        store=TemplateStore(), accounts=AccountStore(), vault=CredentialVault(), now=now, limit=limit
    )


def review_event(event: str, reason: str | None = None, *, template_id: str = META_TEMPLATE_ID) -> str:
    """The inbound-queue body the webhook queues for one of Meta's template-status changes."""
    return QueuedEvent(
        event=TemplateStatusEvent(
            provider=Provider.META_CLOUD,
            waba_id=WABA_ID,
            provider_template_id=template_id,
            name="devis_pret",
            language="fr",
            event=event,
            reason=reason,
            occurred_at=NOW,
            raw={"event": event, "message_template_id": int(template_id)},
        )
    ).model_dump_json()


def graph_error(status: int, code: int, message: str, **extra: Any) -> tuple[dict[str, Any], int]:
    body = {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC1", **extra}
    }
    return body, status


def requests(httpserver: HTTPServer) -> list[Request]:
    return [request for request, _ in httpserver.log]


def basic_auth(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


# Submitting to Meta


def test_a_named_variable_template_goes_to_meta_as_named_parameters_with_examples(
    providers: HTTPServer,
) -> None:
    # Given a WhatsApp template with two variables, one with the admin's own example
    account = meta_account()
    template = stored_template(account)
    template = TemplateStore().replace(
        template, template.model_copy(update={"examples": {"quote_number": "Q-2026-0007"}}), version=1
    )
    providers.expect_request(CREATE, method="POST").respond_with_json(
        {"id": META_TEMPLATE_ID, "status": "PENDING", "category": "UTILITY"}
    )

    # When it is submitted
    after = submit_and_store(template, account)

    # Then Meta receives exactly this, with the account's token
    [request] = requests(providers)
    assert request.headers["Authorization"] == f"Bearer {META_TOKEN}"
    assert request.get_json() == {
        "name": "devis_pret",
        "language": "fr",
        "category": "UTILITY",
        "parameter_format": "named",
        "components": [
            {
                "type": "BODY",
                "text": QUOTE_READY,
                "example": {
                    "body_text_named_params": [
                        {"param_name": "customer_name", "example": "Marie Dupont"},
                        {"param_name": "quote_number", "example": "Q-2026-0007"},
                    ]
                },
            }
        ],
    }
    # And Meta's answer is stored: its id (by which its webhook finds the template), pending
    assert stored(after) == Approval(
        status=ApprovalStatus.PENDING,
        provider_template_id=META_TEMPLATE_ID,
        provider_name="devis_pret",
        submitted_at=NOW,
        updated_at=NOW,
        attempts=1,
    )
    found = TemplateStore().by_provider_template_id(META_TEMPLATE_ID)
    assert found is not None
    assert found.id == template.id


def test_a_template_without_variables_is_sent_without_examples(providers: HTTPServer) -> None:
    account = meta_account()
    template = stored_template(
        account, content="Merci pour votre message, nous revenons vers vous très vite."
    )
    providers.expect_request(CREATE, method="POST").respond_with_json(
        {"id": META_TEMPLATE_ID, "status": "APPROVED", "category": "UTILITY"}
    )

    after = submit_and_store(template, account)

    [request] = requests(providers)
    assert request.get_json()["components"] == [
        {"type": "BODY", "text": "Merci pour votre message, nous revenons vers vous très vite."}
    ]
    # Meta may approve at once: its answer is what the template says
    assert stored(after).status is ApprovalStatus.APPROVED


def test_a_graph_error_leaves_the_template_in_error_with_meta_s_words_and_attempts_counted(
    providers: HTTPServer,
) -> None:
    # Given Meta refuses the template, then fails
    account = meta_account()
    template = stored_template(account)
    body, status = graph_error(
        400,
        100,
        "Invalid parameter",
        error_subcode=2388024,
        error_user_title="Content in this language already exists",
        error_user_msg="There is already French content for this template.",
    )
    providers.expect_oneshot_request(CREATE, method="POST").respond_with_json(body, status=status)
    body, status = graph_error(503, 2, "Service temporarily unavailable")
    providers.expect_oneshot_request(CREATE, method="POST").respond_with_json(body, status=status)

    # When it is submitted, and submitted again
    first = stored(submit_and_store(template, account))
    second = stored(submit_and_store(template, account, now=NOW + timedelta(minutes=5)))

    # Then it is in error each time, saying what Meta said, the attempts counted, and not lost
    assert (first.status, first.attempts, first.provider_template_id) == (ApprovalStatus.ERROR, 1, None)
    assert first.reason is not None
    assert "HTTP 400, error 100/2388024" in first.reason
    assert "There is already French content for this template" in first.reason
    assert META_TOKEN not in first.reason
    assert (second.status, second.attempts, second.updated_at) == (
        ApprovalStatus.ERROR,
        2,
        NOW + timedelta(minutes=5),
    )
    assert second.reason is not None
    assert "try again later" in second.reason
    # And the account is not blamed for it
    assert AccountStore().get(account.id).status is AccountStatus.ACTIVE


def test_meta_out_of_reach_is_an_error_to_retry(
    closed_port: Peer, monkeypatch: pytest.MonkeyPatch, providers: HTTPServer
) -> None:
    monkeypatch.setenv("INBOX_META_GRAPH_URL", f"http://{closed_port.host}:{closed_port.port}/v21.0")
    account = meta_account()

    after = stored(submit_and_store(stored_template(account), account))

    assert (after.status, after.attempts) == (ApprovalStatus.ERROR, 1)
    assert after.reason == "Could not reach Meta while submitting the template; try again later."


def test_a_refused_token_puts_the_template_and_the_account_in_error(providers: HTTPServer) -> None:
    account = meta_account()
    body, status = graph_error(401, 190, f"Error validating access token {META_TOKEN}")
    providers.expect_request(CREATE, method="POST").respond_with_json(body, status=status)

    after = stored(submit_and_store(stored_template(account), account))

    assert after.status is ApprovalStatus.ERROR
    assert after.reason is not None
    assert "refused the account's access token" in after.reason
    assert META_TOKEN not in after.reason
    errored = AccountStore().get(account.id)
    assert (errored.status, errored.status_reason) == (AccountStatus.ERROR, after.reason)


def test_a_rejected_template_edited_is_resubmitted_by_editing_it_at_meta(providers: HTTPServer) -> None:
    # Given a template Meta rejected, then renamed and rewritten by the admin
    account = meta_account()
    rejected = stored_template(
        account,
        name="Devis prêt (v2)",
        content=REWRITTEN,
        approval=Approval(
            status=ApprovalStatus.REJECTED,
            reason="INVALID_FORMAT",
            provider_template_id=META_TEMPLATE_ID,
            provider_name="devis_pret",
            submitted_at=NOW - timedelta(days=1),
            attempts=1,
        ),
    )
    providers.expect_request(f"/graph/{META_TEMPLATE_ID}", method="POST").respond_with_json({"success": True})

    # When it is submitted again
    after = stored(submit_and_store(rejected, account))

    # Then Meta's template is edited in place (its name and language stay taken at Meta): new
    # components, and the category (a rejected template may change it)
    [request] = requests(providers)
    assert request.headers["Authorization"] == f"Bearer {META_TOKEN}"
    assert request.get_json() == {
        "components": [
            {
                "type": "BODY",
                "text": REWRITTEN,
                "example": {
                    "body_text_named_params": [
                        {"param_name": "customer_name", "example": "Marie Dupont"},
                        {"param_name": "quote_number", "example": "Q-2026-0142"},
                    ]
                },
            }
        ],
        "category": "UTILITY",
    }
    # And it is under review again, by the name Meta knows it by
    assert after == Approval(
        status=ApprovalStatus.PENDING,
        provider_template_id=META_TEMPLATE_ID,
        provider_name="devis_pret",
        submitted_at=NOW,
        updated_at=NOW,
        attempts=2,
    )


# Meta's review webhook, through the router


def test_approved_and_rejected_reviews_move_their_templates(providers: HTTPServer) -> None:
    # Given two templates under review at Meta
    account = meta_account()
    approved = submitted_to_meta(account)
    rejected = submitted_to_meta(account, name="Relance", provider_template_id="1252715608684591")

    # When Meta's reviews reach the router (one of them twice)
    route_event(review_event("APPROVED"))
    route_event(review_event("REJECTED", "INVALID_FORMAT", template_id="1252715608684591"))
    route_event(review_event("APPROVED"))

    # Then each template moved, the rejection's reason kept, and the reviews recorded
    assert (stored(approved).status, stored(approved).reason) == (ApprovalStatus.APPROVED, None)
    assert (stored(rejected).status, stored(rejected).reason) == (ApprovalStatus.REJECTED, "INVALID_FORMAT")
    assert stored(approved).updated_at is not None
    assert [r.event for r in TemplateReviewStore().reviews(META_TEMPLATE_ID)] == ["APPROVED"]
    # And nothing was asked of Meta
    assert requests(providers) == []


def test_a_review_of_an_unknown_template_is_only_recorded() -> None:
    route_event(review_event("APPROVED", template_id="999"))

    assert [r.event for r in TemplateReviewStore().reviews("999")] == ["APPROVED"]


class StaleTemplates(TemplateStore):
    """Reads a version older than the stored one, as if someone wrote the template meanwhile."""

    def read(self, template_id: str) -> tuple[Template, int]:
        template, version = super().read(template_id)
        return template, version - 1


def test_a_review_that_meets_a_concurrent_change_is_raised_for_the_queue_to_retry() -> None:
    account = meta_account()
    template = submitted_to_meta(account)

    with pytest.raises(Conflict):
        route_event(review_event("APPROVED"), templates=StaleTemplates())
    assert stored(template).status is ApprovalStatus.PENDING

    route_event(review_event("APPROVED"))  # the queue delivers it again
    assert stored(template).status is ApprovalStatus.APPROVED


# The periodic sync


def expect_meta_status(providers: HTTPServer, template_id: str, answer: dict[str, Any]) -> None:
    providers.expect_request(
        f"/graph/{template_id}", method="GET", query_string={"fields": "status,rejected_reason"}
    ).respond_with_json(answer)


def test_the_sync_moves_a_pending_template_to_approved_and_records_the_check(providers: HTTPServer) -> None:
    # Given a template pending at Meta, and one Meta rejected without the webhook telling us
    account = meta_account()
    approved = submitted_to_meta(account)
    rejected = submitted_to_meta(account, name="Relance", provider_template_id="1252715608684591")
    expect_meta_status(providers, META_TEMPLATE_ID, {"id": META_TEMPLATE_ID, "status": "APPROVED"})
    expect_meta_status(
        providers,
        "1252715608684591",
        {"id": "1252715608684591", "status": "REJECTED", "rejected_reason": "TAG_CONTENT_MISMATCH"},
    )

    # When the sync runs
    report = sync()

    # Then both moved, each check recorded
    assert report == SyncReport(checked=2, changed=2, failed=0, skipped=0)
    assert all(r.headers["Authorization"] == f"Bearer {META_TOKEN}" for r in requests(providers))
    assert (stored(approved).status, stored(approved).checked_at) == (ApprovalStatus.APPROVED, NOW)
    assert (stored(rejected).status, stored(rejected).reason) == (
        ApprovalStatus.REJECTED,
        "TAG_CONTENT_MISMATCH",
    )


def test_the_sync_skips_a_template_checked_recently(providers: HTTPServer) -> None:
    # Given a pending template the sync asked about five minutes ago
    account = meta_account()
    recent = submitted_to_meta(account, checked_at=NOW - timedelta(minutes=5))
    expect_meta_status(providers, META_TEMPLATE_ID, {"id": META_TEMPLATE_ID, "status": "PENDING"})

    # When the sync runs, Then Meta is not asked again yet
    assert sync() == SyncReport(skipped=1)
    assert requests(providers) == []

    # And a later run asks, and records that it did (still pending)
    assert sync(now=NOW + timedelta(minutes=15)) == SyncReport(checked=1)
    assert stored(recent).checked_at == NOW + timedelta(minutes=15)
    assert stored(recent).status is ApprovalStatus.PENDING


def test_an_account_whose_token_is_refused_is_asked_once_a_run_and_then_left_alone(
    providers: HTTPServer,
) -> None:
    # Given two pending templates of an account whose token Meta now refuses
    account = meta_account()
    first = submitted_to_meta(account)
    second = submitted_to_meta(account, name="Relance", provider_template_id="1252715608684591")
    body, status = graph_error(401, 190, "Error validating access token: the session has been invalidated")
    providers.expect_request(re.compile(r"/graph/\d+"), method="GET").respond_with_json(body, status=status)

    # When the sync runs
    report = sync()

    # Then Meta was asked once, the account is in error (recorded once), the other template left
    assert report == SyncReport(checked=1, failed=1, skipped=1)
    assert len(requests(providers)) == 1
    assert AccountStore().get(account.id).status is AccountStatus.ERROR
    checked = [t for t in (stored(first), stored(second)) if t.checked_at is not None]
    assert len(checked) == 1
    assert checked[0].status is ApprovalStatus.PENDING
    assert checked[0].reason is not None
    assert checked[0].reason.startswith("Could not check the review: ")

    # And later runs leave the account alone until it is reconnected
    assert sync(now=NOW + timedelta(hours=1)) == SyncReport(skipped=2)
    assert len(requests(providers)) == 1


def test_a_provider_down_is_asked_once_a_run_and_the_templates_stay_pending(providers: HTTPServer) -> None:
    account = meta_account()
    for index in range(2):
        submitted_to_meta(account, name=f"Modèle {index}", provider_template_id=f"12527156086845{index}0")
    body, status = graph_error(503, 2, "Service temporarily unavailable")
    providers.expect_request(re.compile(r"/graph/\d+"), method="GET").respond_with_json(body, status=status)

    assert sync() == SyncReport(checked=1, failed=1, skipped=1)
    assert len(requests(providers)) == 1
    assert AccountStore().get(account.id).status is AccountStatus.ACTIVE
    assert [t.approval.status for t in TemplateStore().page(account_id=account.id).items] == [
        ApprovalStatus.PENDING,
        ApprovalStatus.PENDING,
    ]


def test_the_sync_stops_before_a_check_could_outlast_the_function(providers: HTTPServer) -> None:
    submitted_to_meta(meta_account())

    report = sync_pending(
        store=TemplateStore(),
        accounts=AccountStore(),
        vault=CredentialVault(),
        now=NOW,
        seconds_left=lambda: 5.0,
    )

    assert report == SyncReport(skipped=1)
    assert requests(providers) == []


def test_the_scheduled_function_runs_the_sync(providers: HTTPServer) -> None:
    # (the function runs on the real clock)
    template = submitted_to_meta(meta_account(), submitted_at=datetime.now(UTC) - timedelta(hours=1))
    expect_meta_status(providers, META_TEMPLATE_ID, {"id": META_TEMPLATE_ID, "status": "APPROVED"})
    event = scheduled_event(Schedule("TemplateSyncSchedule", "rate(15 minutes)", (), None))

    answer = invoke_handler("sync_templates", event, timeout_seconds=120)

    assert answer == {"checked": 1, "changed": 1, "failed": 0, "skipped": 0}
    assert stored(template).status is ApprovalStatus.APPROVED


def test_the_sync_checks_at_most_its_limit_a_run(providers: HTTPServer) -> None:
    account = meta_account()
    for index in range(3):
        submitted_to_meta(account, name=f"Modèle {index}", provider_template_id=f"12527156086845{index}0")
    providers.expect_request(re.compile(r"/graph/\d+"), method="GET").respond_with_json(
        {"id": "1", "status": "PENDING"}
    )

    assert sync(limit=2).checked == 2
    assert sync(limit=2, now=NOW + timedelta(minutes=1)).checked == 1  # the one left, the others recent


# Twilio's Content API


def test_twilio_creates_the_content_requests_whatsapp_approval_and_the_sync_reads_approved(
    providers: HTTPServer,
) -> None:
    # Given a Twilio account's template
    account = twilio_account()
    template = stored_template(account)
    providers.expect_request(CONTENT, method="POST").respond_with_json(
        {"sid": CONTENT_SID, "account_sid": TWILIO_SID, "friendly_name": "devis_pret"}, status=201
    )
    providers.expect_request(
        f"{CONTENT}/{CONTENT_SID}/ApprovalRequests/whatsapp", method="POST"
    ).respond_with_json(
        {
            "name": "devis_pret",
            "category": "UTILITY",
            "content_type": "twilio/text",
            "status": "received",
            "rejection_reason": "",
            "allow_category_change": True,
        },
        status=201,
    )

    # When it is submitted
    after = stored(submit_and_store(template, account))

    # Then the content has positional variables with their examples, then goes to WhatsApp
    create, approval = requests(providers)
    assert basic_auth(create) == basic_auth(approval) == (TWILIO_SID, TWILIO_TOKEN)
    assert create.get_json() == {
        "friendly_name": "devis_pret",
        "language": "fr",
        "variables": {"1": "Marie Dupont", "2": "Q-2026-0142"},
        "types": {"twilio/text": {"body": QUOTE_READY_POSITIONAL}},
    }
    assert approval.get_json() == {"name": "devis_pret", "category": "UTILITY"}
    # And the content's SID is stored, with which variable each number stands for
    assert after == Approval(
        status=ApprovalStatus.PENDING,
        provider_template_id=CONTENT_SID,
        provider_name="devis_pret",
        submitted_at=NOW,
        updated_at=NOW,
        attempts=1,
        variable_order=["customer_name", "quote_number"],
    )

    # When WhatsApp approved it and the sync runs
    providers.expect_request(f"{CONTENT}/{CONTENT_SID}/ApprovalRequests", method="GET").respond_with_json(
        {
            "sid": CONTENT_SID,
            "account_sid": TWILIO_SID,
            "whatsapp": {
                "type": "whatsapp",
                "name": "devis_pret",
                "category": "UTILITY",
                "content_type": "twilio/text",
                "status": "approved",
                "rejection_reason": "",
            },
            "url": f"https://content.twilio.com/v1/Content/{CONTENT_SID}/ApprovalRequests",
        }
    )
    report = sync(now=NOW + timedelta(hours=1))

    # Then the template is approved
    assert report == SyncReport(checked=1, changed=1)
    assert stored(template).status is ApprovalStatus.APPROVED
    assert basic_auth(requests(providers)[-1]) == (TWILIO_SID, TWILIO_TOKEN)


def test_a_rejected_twilio_template_is_resubmitted_as_new_content_under_a_new_name(
    providers: HTTPServer,
) -> None:
    account = twilio_account()
    rejected = stored_template(
        account,
        approval=Approval(
            status=ApprovalStatus.REJECTED,
            reason="INVALID_FORMAT",
            provider_template_id=CONTENT_SID,
            provider_name="devis_pret",
            submitted_at=NOW - timedelta(days=1),
            attempts=1,
            variable_order=["customer_name", "quote_number"],
        ),
    )
    providers.expect_request(CONTENT, method="POST").respond_with_json({"sid": NEW_CONTENT_SID}, status=201)
    providers.expect_request(
        f"{CONTENT}/{NEW_CONTENT_SID}/ApprovalRequests/whatsapp", method="POST"
    ).respond_with_json({"name": "devis_pret_v2", "category": "UTILITY", "status": "received"}, status=201)

    after = stored(submit_and_store(rejected, account))

    create, approval = requests(providers)
    assert create.get_json()["friendly_name"] == "devis_pret_v2"
    assert approval.get_json() == {"name": "devis_pret_v2", "category": "UTILITY"}
    assert (after.status, after.provider_template_id, after.provider_name, after.attempts) == (
        ApprovalStatus.PENDING,
        NEW_CONTENT_SID,
        "devis_pret_v2",
        2,
    )


def test_a_refused_twilio_auth_token_puts_the_account_in_error(providers: HTTPServer) -> None:
    account = twilio_account()
    providers.expect_request(CONTENT, method="POST").respond_with_json(
        {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
        status=401,
    )

    after = stored(submit_and_store(stored_template(account), account))

    assert after.status is ApprovalStatus.ERROR
    assert after.reason is not None
    assert "Twilio refused the account's auth token (HTTP 401, error 20003)" in after.reason
    assert TWILIO_TOKEN not in after.reason
    assert AccountStore().get(account.id).status is AccountStatus.ERROR
