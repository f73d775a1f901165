"""Sending a text message, or an approved template (`TemplateMessage`), on WhatsApp, through
Meta's Cloud API (`send_meta`) or Twilio (`send_twilio`); `inbox.channels` picks the one for the
account's provider.

One call, one provider request (through the one client of each provider,
`meta_graph` and `twilio_api`), and the outcome as one of `inbox.delivery.outcomes` (every
channel's): accepted, refused for good, credentials refused, or later. Tokens never appear in an
error or a log line.
"""

from __future__ import annotations

from inbox.accounts.models import Account, MetaCloudCredentials, TwilioCredentials
from inbox.delivery.outcomes import CredentialsRejected, SendLater, SendRefused, SendResult
from inbox.provider_errors import (
    CredentialsRefused,
    ProviderFailure,
    Transient,
    Unavailable,
    UnexpectedAnswer,
)
from inbox.whatsapp import meta_graph, twilio_api
from inbox.whatsapp.meta_graph import MetaGraph
from inbox.whatsapp.template_message import TemplateMessage
from inbox.whatsapp.twilio_api import TwilioApi

TIMEOUT_SECONDS = meta_graph.TIMEOUT_SECONDS


def twilio_status_callback(public_url: str, account_id: str) -> str:
    """Where Twilio reports the statuses of a message sent for this account (the webhook's route)."""
    return f"{public_url.rstrip('/')}/webhooks/whatsapp/twilio/{account_id}/status"


def send_meta(
    account: Account,
    credentials: MetaCloudCredentials,
    *,
    to: str,
    text: str,
    graph_url: str,
    timeout: float = TIMEOUT_SECONDS,
    template: TemplateMessage | None = None,
) -> SendResult:
    """Send `text` (or, given, the `template`) to `to` (E.164) from the account's number through
    Meta's Cloud API; see the module for the outcomes."""
    try:
        graph = MetaGraph(graph_url, timeout=timeout)
        phone_number_id = account.meta_config().phone_number_id
        token = credentials.access_token
        if template is not None:
            return SendResult(
                graph.send_template(phone_number_id, token, to=to, template=template.meta_template())
            )
        return SendResult(graph.send_text(phone_number_id, token, to=to, text=text))
    except ProviderFailure as failure:
        raise _outcome(failure) from None


def send_twilio(
    account: Account,
    credentials: TwilioCredentials,
    *,
    to: str,
    text: str,
    api_url: str,
    timeout: float = TIMEOUT_SECONDS,
    status_callback: str | None = None,
    template: TemplateMessage | None = None,
) -> SendResult:
    """Send `text` (or, given, the `template`'s Content SID) to `to` (E.164) from the account's
    number (or messaging service) through Twilio; `status_callback` is where Twilio posts this
    message's statuses."""
    try:
        config = account.twilio_config()
        service = config.messaging_service_sid
        form = {"MessagingServiceSid": service} if service else {"From": f"whatsapp:{account.address}"}
        form["To"] = f"whatsapp:{to}"
        if template is not None and template.content_sid:
            form |= {"ContentSid": template.content_sid, "ContentVariables": template.twilio_variables()}
        else:
            form["Body"] = text
        if status_callback:
            form["StatusCallback"] = status_callback
        twilio = TwilioApi(config.account_sid, credentials.auth_token, api_url=api_url, timeout=timeout)
        return SendResult(twilio.send_message(form))
    except ProviderFailure as failure:
        raise _outcome(failure) from None


def _outcome(failure: ProviderFailure) -> Exception:
    """The sender's outcome for a provider failure: refused for good, credentials, or later."""
    provider, status = failure.provider, failure.http_status
    if isinstance(failure, Unavailable) and status is None:
        if failure.timed_out:
            return SendLater(why=f"{provider} did not answer within {failure.timeout:g} seconds")
        return SendLater(why=f"could not reach {provider}")
    if isinstance(failure, Transient):
        return SendLater(failure.retry_after, why=f"{provider} answered HTTP {status}")
    if isinstance(failure, UnexpectedAnswer):
        # A success we cannot read may still have gone out: sending again could send it twice.
        return SendRefused(
            "provider_answer_unreadable",
            f"{provider} accepted the request but its answer held no message id; it may have been sent.",
        )
    codes = f"HTTP {status}" + (f", error {failure.code}" if failure.code is not None else "")
    said = failure.message or ""
    if isinstance(failure, CredentialsRefused):
        if provider == meta_graph.PROVIDER:
            return CredentialsRejected(
                f"Meta refused the account's access token ({codes}): connect the number again or give "
                "a new token." + (f" Meta said: {said}" if said else "")
            )
        return CredentialsRejected(
            f"Twilio refused the account's auth token ({codes}): update the account's credentials."
        )
    code = str(failure.code) if failure.code is not None else f"http_{status}"
    if provider == meta_graph.PROVIDER:
        # Meta's `message` is a title ("(#131047) Re-engagement message"); `error_data.details` says more.
        return SendRefused(
            code,
            failure.details or said or f"Meta refused it (HTTP {status})",
            title=failure.user_title or said or None,
            window_closed=failure.code == meta_graph.WINDOW_CLOSED,
        )
    return SendRefused(
        code,
        said or f"Twilio refused it (HTTP {status})",
        window_closed=failure.code == twilio_api.WINDOW_CLOSED,
    )
