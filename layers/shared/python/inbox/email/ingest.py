"""The hand-over of fetched mail: raw bytes to the mail bucket first, then a reference on the
inbound queue for the router (`inbox.email.inbound` parses it there).

Keys are derived from the content (`raw/<account>/<sha256>.eml`), so handing a message over
again after a crash rewrites the same object; the queue's deduplication id and the router's
dedupe record (by message identity) make the second reference a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from inbox.accounts.models import Account
from inbox.email.mailbox import RawMail
from inbox.email.parsing import message_identity
from inbox.routing.events import InboundMail
from inbox.routing.queue import InboundQueue
from inbox.store.mail_objects import MailObjects

# Uploads of one batch side by side: S3 answers each in tens of milliseconds deployed. The threads
# live as long as the container (starting them per batch cost more than the uploads locally).
UPLOADS_AT_ONCE = 8
_uploads: ThreadPoolExecutor | None = None


def _uploader() -> ThreadPoolExecutor:
    global _uploads
    if _uploads is None:
        _uploads = ThreadPoolExecutor(max_workers=UPLOADS_AT_ONCE, thread_name_prefix="mail-upload")
    return _uploads


def raw_key(account_id: str, raw: bytes) -> str:
    return f"raw/{account_id}/{hashlib.sha256(raw).hexdigest()}.eml"


def hand_over(
    account: Account,
    mails: Sequence[RawMail],
    *,
    objects: MailObjects,
    queue: InboundQueue,
    now: datetime | None = None,
) -> int:
    """Keep every mail in the bucket, then queue a reference to each, in order; how many were
    handed over. Raises when either refuses: the caller then keeps its cursor where it was."""
    if not mails:
        return 0
    received_at = now or datetime.now(UTC)
    keys = [raw_key(account.id, mail.raw) for mail in mails]
    # list(): raise the first upload failure here, before anything is queued.
    list(_uploader().map(lambda pair: objects.put(pair[0], pair[1].raw), zip(keys, mails, strict=True)))
    queue.publish(
        [
            InboundMail(
                account_id=account.id,
                provider=account.provider,
                identity=message_identity(mail.raw),
                raw_key=key,
                size=len(mail.raw),
                arrived_at=mail.arrived_at,
                received_at=received_at,
                folder=mail.folder,
                thread_id=mail.thread_id,
            )
            for key, mail in zip(keys, mails, strict=True)
        ]
    )
    return len(mails)
