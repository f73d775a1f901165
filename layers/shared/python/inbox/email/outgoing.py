"""An outgoing email from its stored message: composed once per delivery (`inbox.email.compose`)
with the Message-ID, subject and threading the message recorded, the sender's signature (the
sending user's own, else the account's default; auto-replies the default), then handed to the
account's transport (`inbox.channels`: SMTP for IMAP accounts, with a copy filed in Sent).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from inbox.accounts.models import Account
from inbox.conversations import AUTO_REPLY
from inbox.delivery.outcomes import SendResult
from inbox.email.compose import Answered, Outgoing, compose
from inbox.signatures import choose_signature
from inbox.store import items
from inbox.store.signatures import SignatureStore


def outgoing_email(account: Account, item: dict[str, Any], to: str, table: Any) -> Outgoing:
    """The email a stored outgoing message is (`NoRecipient` when it must not go out)."""
    message = items.plain(item)
    sent_by = message.get("sent_by")
    automatic = sent_by == AUTO_REPLY
    signature = choose_signature(
        SignatureStore(table).for_account(account.id), None if automatic else sent_by
    )
    answered = None
    if message.get("in_reply_to") or message.get("references"):
        answered = Answered(
            message_id=message.get("in_reply_to"),
            references=list(message.get("references") or []),
            subject=None,
            reply_to=[],
            sender=None,
        )
    outgoing = compose(
        from_address=account.address,
        from_name=account.sender_name or account.name,
        text=str(message.get("text") or ""),
        html=message.get("html"),
        signature_html=signature.html if signature else None,
        answered=answered,
        to=to,
        subject=message.get("subject") or "(no subject)",
        automatic=automatic,
        message_id=message.get("message_id"),
    )
    return replace(outgoing, thread_id=message.get("thread_id"))


def email_sender(
    account: Account, item: dict[str, Any], to: str, table: Any, *, check_sent: bool = False
) -> Any:
    """The sender's `Send` for this message: the composed email, through the account's transport.
    `check_sent`: a delivery that died may have sent it: look in Sent (by Message-ID) first."""
    from inbox.channels import adapter

    outgoing = outgoing_email(account, item, to, table)

    def send(account: Account, credentials: Any, *, to: str, text: str, template: Any = None) -> SendResult:
        return adapter(account.provider).send_email(account, credentials, outgoing, check_sent=check_sent)

    return send
