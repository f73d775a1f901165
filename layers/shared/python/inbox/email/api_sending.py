"""Sending an email from a Gmail account (the Gmail API, `send_gmail`) or a Microsoft 365 account
(Graph's `sendMail`, `send_graph`), over the product's one HTTP exchange (`provider_http`).

Both answer as every channel's send does (`inbox.delivery.outcomes`), as `send_smtp` does:
accepted (the RFC Message-ID, without <>, names it), refused for good (another 4xx: the provider's
code and words), the access token refused (401: reconnect the account), or later (429 and 5xx,
after Retry-After when given, or no answer at all). The token never appears in an outcome or a log.

Both providers keep a copy in the account's Sent folder themselves (Graph's `saveToSentItems`
defaults to true): there is no `file_in_sent` step here. Before a retry of a delivery that died,
`already_sent_*` look for the Message-ID among what the mailbox holds, so it is not sent twice.
`send_with_tokens` is what the channel adapters call: the account's access token, the check, the send.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from inbox.delivery.outcomes import CredentialsRejected, SendLater, SendRefused, SendResult
from inbox.email.sending import header_message_id, wire_bytes
from inbox.oauth.grants import GrantRevoked, TokenUnavailable
from inbox.provider_errors import Unavailable
from inbox.whatsapp import provider_http

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.message import EmailMessage

    from inbox.accounts.models import Account
    from inbox.email.compose import Outgoing
    from inbox.oauth.tokens import Tokens
    from inbox.whatsapp.provider_http import Answer

TIMEOUT_SECONDS = 30
GOOGLE = "Google"
MICROSOFT = "Microsoft"


def send_gmail(
    access_token: str,
    message: EmailMessage,
    *,
    thread_id: str | None,
    api_url: str,
    timeout: float = TIMEOUT_SECONDS,
) -> SendResult:
    """Send `message` (its headers name the recipients; Gmail drops Bcc from what goes out) with
    `users.messages.send`, in Gmail's thread `thread_id` when given. Raises `SendRefused`,
    `CredentialsRejected` or `SendLater` (see the module); `ValueError` without a Message-ID."""
    message_id = header_message_id(message)
    body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(_mime(message)).decode("ascii")}
    if thread_id:
        body["threadId"] = thread_id
    answer = _exchange(
        GOOGLE,
        "POST",
        f"{api_url.rstrip('/')}/gmail/v1/users/me/messages/send",
        access_token,
        timeout,
        json=body,
    )
    if answer.status == 200:
        # Gmail's own id is in the answer's "id"; the RFC Message-ID stays our provider id: it is
        # what threading, the inbound dedupe and the check before a retry all find the message by.
        return SendResult(provider_message_id=message_id)
    raise _failure(answer, GOOGLE, "gmail", access_token)


def send_graph(
    access_token: str, message: EmailMessage, *, graph_url: str, timeout: float = TIMEOUT_SECONDS
) -> SendResult:
    """Send `message` with Graph's `POST /me/sendMail`, the MIME message base64-encoded as a
    text/plain body (how Graph takes MIME); Graph files it in Sent Items. Raises as `send_gmail`."""
    message_id = header_message_id(message)
    answer = _exchange(
        MICROSOFT,
        "POST",
        f"{graph_url.rstrip('/')}/v1.0/me/sendMail",
        access_token,
        timeout,
        content=base64.b64encode(_mime(message)),
        headers_extra={"Content-Type": "text/plain"},
    )
    if answer.status == 202:
        return SendResult(provider_message_id=message_id)
    raise _failure(answer, MICROSOFT, "graph", access_token)


def _exchange(
    provider: str,
    method: str,
    url: str,
    access_token: str,
    timeout: float,
    *,
    headers_extra: dict[str, str] | None = None,
    **request: Any,
) -> Answer:
    headers = {"Authorization": f"Bearer {access_token}", **(headers_extra or {})}
    try:
        return provider_http.exchange(
            provider, "sending an email", method, url, timeout=timeout, headers=headers, **request
        )
    except Unavailable as unavailable:
        why = f"{provider} did not answer" + (f" within {timeout:g} s" if unavailable.timed_out else "")
        raise SendLater(why=why) from None


def _failure(answer: Answer, provider: str, prefix: str, access_token: str) -> Exception:
    """The outcome of an answer other than the success one (the token masked in every text)."""
    secrets = (access_token,)
    text = provider_http.mask(_error_message(answer.content), secrets) or f"HTTP {answer.status}"
    if answer.status == 401:
        provider_http.log(provider, "sending an email", "credentials refused", answer.status)
        return CredentialsRejected(
            f"{provider} refused the account's access (HTTP 401): reconnect the account."
        )
    if answer.status == 429 or answer.status >= 500:
        provider_http.log(provider, "sending an email", "try later", answer.status)
        return SendLater(answer.retry_after, why=f"{provider} answered {answer.status}: {text}")
    provider_http.log(provider, "sending an email", "refused", answer.status)
    return SendRefused(f"{prefix}_{answer.status}", text)


def _error_message(content: bytes) -> str | None:
    """`error.message` of a Google or Graph error body, if it has one."""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else None


def _mime(message: EmailMessage) -> bytes:
    # As SMTP sends it (CRLF, UTF-8 headers where an address is beyond ASCII); the provider reads
    # Bcc from it and leaves it out of what the recipients get.
    return wire_bytes(message)


def already_sent_gmail(
    access_token: str, message_id: str, *, api_url: str, timeout: float = TIMEOUT_SECONDS
) -> bool:
    """Whether the mailbox holds a message with this RFC Message-ID (Gmail's `rfc822msgid:` search):
    a delivery that died after Gmail accepted it must not send it twice."""
    answer = _exchange(
        GOOGLE,
        "GET",
        f"{api_url.rstrip('/')}/gmail/v1/users/me/messages",
        access_token,
        timeout,
        params={"q": f"rfc822msgid:{message_id}", "maxResults": "1"},
    )
    if answer.status != 200:
        raise _failure(answer, GOOGLE, "gmail", access_token)
    return bool(_json(answer.content).get("messages"))


def already_sent_graph(
    access_token: str, message_id: str, *, graph_url: str, timeout: float = TIMEOUT_SECONDS
) -> bool:
    """Whether Sent Items holds a message with this RFC Message-ID (Graph's `internetMessageId`)."""
    quoted = f"<{message_id}>".replace("'", "''")
    answer = _exchange(
        MICROSOFT,
        "GET",
        f"{graph_url.rstrip('/')}/v1.0/me/mailFolders/sentitems/messages",
        access_token,
        timeout,
        params={"$filter": f"internetMessageId eq '{quoted}'", "$select": "id", "$top": "1"},
    )
    if answer.status != 200:
        raise _failure(answer, MICROSOFT, "graph", access_token)
    return bool(_json(answer.content).get("value"))


def send_with_tokens(account: Account, outgoing: Outgoing, tokens: Tokens, *, check_sent: bool) -> SendResult:
    """Send from a Gmail or Office 365 account with its access token: refreshed when due, renewed
    once when the provider refuses it (a token revoked early), the account's refusal
    (`CredentialsRejected`) only when a fresh token is refused too or the grant is revoked."""
    from inbox.accounts.models import Provider
    from inbox.settings import settings

    current = settings()
    if account.provider is Provider.GMAIL:

        def send(token: str) -> SendResult:
            if check_sent and already_sent_gmail(token, outgoing.message_id, api_url=current.gmail_api_url):
                return SendResult(provider_message_id=outgoing.message_id)
            return send_gmail(
                token, outgoing.message, thread_id=outgoing.thread_id, api_url=current.gmail_api_url
            )

    else:

        def send(token: str) -> SendResult:
            url = current.microsoft_graph_url
            if check_sent and already_sent_graph(token, outgoing.message_id, graph_url=url):
                return SendResult(provider_message_id=outgoing.message_id)
            return send_graph(token, outgoing.message, graph_url=url)

    token = _access(tokens.get)
    try:
        return send(token)
    except CredentialsRejected:
        return send(_access(lambda: tokens.renew(token)))


def _access(obtain: Callable[[], str]) -> str:
    try:
        return obtain()
    except GrantRevoked as revoked:
        raise CredentialsRejected(revoked.reason) from None
    except TokenUnavailable as unavailable:
        raise SendLater(unavailable.retry_after, why=f"no access token: {unavailable.why}") from None


def _json(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
