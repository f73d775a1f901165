"""A fetched mail becomes a message for the router, or goes to quarantine: never lost.

The router calls `admit` for each `mail` event: the raw bytes are read from the mail bucket and
parsed (`inbox.email.parsing`); the attachments are kept in the bucket (keys derived from the raw
mail, so a redelivery rewrites the same objects) and the message goes on to the router as an
`InboundMessage` whose dedupe key is the mail's identity. A mail that cannot be parsed, or that
the router cannot store, is quarantined with its reason (listed and downloadable by admins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inbox.accounts.models import Channel
from inbox.email.parsing import Address, ParsedMail, Unparseable, parse_mail
from inbox.email.sync_state import QuarantinedMail
from inbox.errors import NotFound
from inbox.ids import new_id
from inbox.observability import logger, metrics
from inbox.routing.events import (
    Attachment,
    Contact,
    EmailAddress,
    EmailDetails,
    InboundMail,
    InboundMessage,
    MessageType,
)
from inbox.store.conversations import RecordTooLarge
from inbox.store.mail_objects import MailObjects
from inbox.store.mailbox_sync import MailboxSyncStore

# A message item holds at most this much text and this much HTML, in UTF-8 bytes (a DynamoDB item
# is 400 KB at most, with the message's other fields); the raw mail stays whole in the bucket.
MAX_TEXT_BYTES = 100_000
MAX_HTML_BYTES = 200_000
# How much of a quarantined mail is read for its Subject and From (headers come first).
HEADERS_PEEK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Quarantined:
    reason: str
    raw: bytes | None = None  # the mail as read, so quarantining it reads it no second time


def route_mail(
    mail: InboundMail,
    route: Callable[[InboundMessage], None],
    *,
    seen: Callable[[str, str], bool],
    objects: MailObjects | None = None,
    sync: MailboxSyncStore | None = None,
    last_chance: bool = False,
) -> None:
    """Route the mail as a message (`route`: the router's), or quarantine it. A mail whose
    identity was routed before (a second copy, a redelivery) is left at once, unparsed. A failure
    is raised (the queue delivers the mail again), except on the queue's `last_chance`: the mail
    is then quarantined with the failure as its reason rather than left to the dead-letter queue,
    where no admin would see it."""
    if seen(mail.account_id, mail.identity):
        logger.info("Mail already imported: no second effect", extra={"account_id": mail.account_id})
        return
    objects = objects or MailObjects()
    try:
        _route(mail, route, objects, sync)
    except Exception as failure:
        if not last_chance or account_gone(failure):
            raise
        logger.exception("Mail could not be routed: quarantined", extra={"account_id": mail.account_id})
        reason = f"could not be routed ({type(failure).__name__}: {failure})"[:1000]
        _quarantined(quarantine(mail, reason, objects=objects, sync=sync or MailboxSyncStore()))


def account_gone(failure: BaseException) -> bool:
    """The mail's account was deleted after it was fetched: nothing to route it into."""
    return isinstance(failure, NotFound) and failure.code == "account_not_found"


def _route(
    mail: InboundMail,
    route: Callable[[InboundMessage], None],
    objects: MailObjects,
    sync: MailboxSyncStore | None,
) -> None:
    admitted = admit(mail, objects=objects)
    if isinstance(admitted, Quarantined):
        store = sync or MailboxSyncStore()
        _quarantined(quarantine(mail, admitted.reason, objects=objects, sync=store, raw=admitted.raw))
        return
    try:
        route(admitted)
    except RecordTooLarge as refused:
        _quarantined(
            quarantine(
                mail, f"too large to store: {refused}", objects=objects, sync=sync or MailboxSyncStore()
            )
        )
        return
    metrics.add_metric(name="EmailMessagesImported", unit="Count", value=1)


def _quarantined(kept: bool) -> None:
    if kept:
        metrics.add_metric(name="EmailMessagesQuarantined", unit="Count", value=1)


def admit(mail: InboundMail, *, objects: MailObjects) -> InboundMessage | Quarantined:
    """The message the mail is, with its attachments kept; or why it cannot be one."""
    raw = objects.get(mail.raw_key)
    try:
        parsed = parse_mail(raw)
    except Unparseable as refused:
        return Quarantined(reason=refused.reason, raw=raw)
    contact = parsed.contact
    if contact is None:  # parse_mail refuses these; kept as a guard for the type checker
        return Quarantined(reason="no sender address (From)", raw=raw)
    attachments = _keep_attachments(mail, parsed, objects)
    text, text_cut = _cut(parsed.text, MAX_TEXT_BYTES)
    html, html_cut = _cut(parsed.html, MAX_HTML_BYTES) if parsed.html is not None else (None, False)
    sent_at = parsed.date if parsed.date and parsed.date <= mail.received_at else mail.arrived_at
    return InboundMessage(
        account_id=mail.account_id,
        channel=Channel.EMAIL,
        provider=mail.provider,
        provider_message_id=mail.identity,
        contact=Contact(address=contact.address, name=contact.name),
        sent_at=sent_at,
        received_at=mail.received_at,
        type=MessageType.EMAIL,
        text=text,
        headers=parsed.headers,
        email=EmailDetails(
            subject=parsed.subject,
            sender=_address(parsed.sender),
            to=[_required(a) for a in parsed.to],
            cc=[_required(a) for a in parsed.cc],
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            html=html,
            attachments=attachments,
            raw_key=mail.raw_key,
            body_truncated=text_cut or html_cut,
            thread_id=mail.thread_id,
        ),
    )


def quarantine(
    mail: InboundMail, reason: str, *, objects: MailObjects, sync: MailboxSyncStore, raw: bytes | None = None
) -> bool:
    """Keep the mail in quarantine with `reason` (once per identity); False when it was already.
    `raw`: its bytes when already read (else read from the bucket for its Subject and From)."""
    subject, sender = _peek(objects, mail.raw_key, raw)
    kept = sync.quarantine(
        QuarantinedMail(
            id=new_id("qtn"),
            account_id=mail.account_id,
            received_at=mail.received_at,
            reason=reason,
            size=mail.size,
            subject=subject,
            from_=sender,
            raw_key=mail.raw_key,
            identity=mail.identity,
        )
    )
    logger.warning(
        "Mail quarantined" if kept else "Mail already quarantined",
        extra={"account_id": mail.account_id, "reason": reason, "size": mail.size},
    )
    return kept


def _cut(text: str, limit: int) -> tuple[str, bool]:
    """`text` within `limit` UTF-8 bytes (cut between characters), and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode("utf-8", "ignore"), True


def _keep_attachments(mail: InboundMail, parsed: ParsedMail, objects: MailObjects) -> list[Attachment]:
    base = mail.raw_key.removeprefix("raw/").removesuffix(".eml")
    kept = []
    for index, part in enumerate(parsed.attachments, start=1):
        key = f"attachments/{base}/{index}"
        objects.put(key, part.content, content_type=part.content_type)
        kept.append(
            Attachment(
                id=f"att_{index}",
                filename=part.filename,
                content_type=part.content_type,
                size=len(part.content),
                content_id=part.content_id,
                inline=part.inline,
                key=key,
            )
        )
    return kept


def _peek(objects: MailObjects, key: str, raw: bytes | None) -> tuple[str | None, str | None]:
    """Subject and From of a mail that would not parse, when its headers can say (for the list)."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    try:
        head = (raw if raw is not None else objects.get(key))[:HEADERS_PEEK_BYTES]
        headers = BytesHeaderParser(policy=compat32).parsebytes(head)
        subject, sender = headers.get("Subject"), headers.get("From")
        return (str(subject)[:500] if subject else None, str(sender)[:500] if sender else None)
    except Exception:  # best effort: the reason and the raw bytes are what matter
        return None, None


def _address(address: Address | None) -> EmailAddress | None:
    return None if address is None else _required(address)


def _required(address: Address) -> EmailAddress:
    return EmailAddress(address=address.address, name=address.name)
