"""Outgoing email, composed: one MIME builder for auto-replies, agents' replies and new conversations.

Pure (standard library only, no I/O): the caller gives the sender, the body, the signature and the
message answered; it gets an `EmailMessage` ready for SMTP, Gmail or Graph (CONTRACT.md, Sending):
a Message-ID on the account's domain, `In-Reply-To`/`References` (RFC 5322 §3.6.4), `Re: `/`Auto: `
subjects, `Auto-Submitted: auto-replied` (RFC 3834) on automatic replies, a plain-text and an HTML
part, and the signature once in each.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from inbox.email.automatic import automatic_message_reason
from inbox.email.parsing import html_text


@dataclass(frozen=True)
class Answered:
    """The message an outgoing email answers (the latest inbound of the conversation)."""

    message_id: str | None  # normalized, without <>
    # Its References (normalized), in order; its In-Reply-To when it has none (RFC 5322 §3.6.4).
    references: list[str]
    subject: str | None
    reply_to: list[tuple[str | None, str]]  # (name, address) of its Reply-To, may be empty
    sender: tuple[str | None, str] | None  # (name, address) of its From


@dataclass(frozen=True)
class Outgoing:
    message: EmailMessage
    message_id: str  # normalized, without <>
    to: str  # the address it goes to
    thread_id: str | None = None  # the provider's thread it answers (Gmail's threadId), if known


class NoRecipient(Exception):
    """Nobody to send this email to: no address, or an automatic reply to a robot or a list."""


# Reply prefixes mail clients write (English, German, Dutch, Scandinavian, French, Italian, Polish),
# with an optional count ("Re[2]:"), and our own "Auto:".
_PREFIXES = re.compile(
    r"^(?:\s*(?:re|aw|antw|sv|réf|rif|odp|auto)\s*(?:[\[(]\d+[\])])?\s*:)+\s*", re.IGNORECASE
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# What `inbox.signatures.sanitize_html` keeps of inline images (nh3 writes attributes in double quotes).
_DATA_IMAGE = re.compile(
    r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=\s]+)\2""",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = "-- "  # RFC 3676 §4.3
_MAX_REFERENCES = 10  # besides the first: the thread's root and its latest messages
_MAX_7BIT_LINE = 78


def new_message_id(domain: str) -> str:
    """A fresh Message-ID on `domain`, without its angle brackets: "<random>.<epoch ms>@<domain>"."""
    domain = domain.strip().rstrip(".").lower()
    if not domain:
        raise ValueError("a Message-ID needs a domain")
    return f"{secrets.token_hex(16)}.{time.time_ns() // 1_000_000}@{domain}"


def reply_subject(subject: str | None, *, automatic: bool) -> str:
    """The subject of a reply to `subject`: "Re: X" (automatic: "Auto: X"), never "Re: Re: X".

    Leading reply prefixes in any case or language ("RE:", "Aw:", "Réf:", "Re[2]:") and "Auto:"
    are taken off first; an empty subject gives "Re: (no subject)".
    """
    base = _PREFIXES.sub("", _one_line(subject or ""))
    return f"{'Auto' if automatic else 'Re'}: {base or '(no subject)'}"


def compose(
    *,
    from_address: str,
    from_name: str | None,
    text: str,
    html: str | None,
    signature_html: str | None,
    answered: Answered | None,
    to: str | None = None,
    subject: str | None = None,
    automatic: bool = False,
    now: datetime | None = None,
    message_id: str | None = None,
) -> Outgoing:
    """The email `from_address` sends, ready to go out.

    `answered` None starts a new conversation: `to` and `subject` (used as is) are then required.
    Otherwise the email replies to `answered`: it goes to its Reply-To, else its From (`to`, when
    given, wins) with a `Re: `/`Auto: ` subject made from `subject` or else the answered subject.
    `html` None: the HTML part is made from `text`. `signature_html` (sanitized) is appended once
    to each part; its inline `data:` images become related parts named by `cid:`.
    `automatic` marks an auto-reply (RFC 3834); `NoRecipient` when it would go to a robot or a list.
    `message_id`: the one chosen when the message was recorded (a retry sends the same), else new.
    """
    domain = _domain(from_address)
    if answered is None:
        if not to or not to.strip() or not subject or not subject.strip():
            raise ValueError("a new conversation needs `to` and `subject`")
        if automatic:
            raise ValueError("an automatic email answers a message")
        recipient = _recipient(to)
        if recipient is None:
            raise ValueError(f"not an email address: {to!r}")
        subject_line = _one_line(subject)
    else:
        recipient = _recipient(to) if to else _reply_recipient(answered)
        if recipient is None:
            raise NoRecipient("the message answered has no address to reply to")
        subject_line = reply_subject(subject or answered.subject, automatic=automatic)
    if automatic and (reason := automatic_message_reason({}, recipient[1])):
        raise NoRecipient(f"no automatic reply to {recipient[1]}: {reason}")
    sent_at = now or datetime.now(UTC)
    if sent_at.tzinfo is None:
        raise ValueError("`now` must be an aware datetime")

    message_id = _normalized(message_id) if message_id else new_message_id(domain)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((_one_line(from_name or "") or None, parseaddr(from_address)[1]))
    message["To"] = formataddr(recipient)
    message["Subject"] = subject_line
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = f"<{message_id}>"
    if answered is not None:
        if answered.message_id:
            message["In-Reply-To"] = f"<{_normalized(answered.message_id)}>"
        references = _references(answered)
        if references:
            message["References"] = " ".join(f"<{reference}>" for reference in references)
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
        # Exchange and Outlook send no out-of-office or other auto-reply to this one.
        message["X-Auto-Response-Suppress"] = "All"
    _set_body(message, text, html, signature_html, domain)
    return Outgoing(message=message, message_id=message_id, to=recipient[1])


# Addresses and threading


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _domain(address: str) -> str:
    local, at, domain = parseaddr(address)[1].rpartition("@")
    if not at or not local or not domain.strip():
        raise ValueError(f"not an email address: {address!r}")
    return domain


def _recipient(value: str | None) -> tuple[str | None, str] | None:
    name, address = parseaddr(value or "")
    return (_one_line(name) or None, address) if "@" in address else None


def _reply_recipient(answered: Answered) -> tuple[str | None, str] | None:
    for name, address in [*answered.reply_to, *([answered.sender] if answered.sender else [])]:
        address = parseaddr(address)[1] or address.strip()
        if "@" in address:
            return (_one_line(name or "") or None, address)
    return None


def _normalized(message_id: str) -> str:
    return "".join(message_id.split()).strip("<>")


def _references(answered: Answered) -> list[str]:
    """The answered References followed by its Message-ID: the first id and the last ten."""
    ids = [reference for reference in map(_normalized, answered.references) if reference]
    if answered.message_id and (own := _normalized(answered.message_id)):
        ids.append(own)
    ids = list(reversed(dict.fromkeys(reversed(ids))))  # duplicates keep their last place
    return ids if len(ids) <= _MAX_REFERENCES + 1 else [ids[0], *ids[-_MAX_REFERENCES:]]


# Body and signature


def _set_body(
    message: EmailMessage, text: str, html: str | None, signature_html: str | None, domain: str
) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    signature = (signature_html or "").strip()
    signature_text = html_text(signature) if signature else ""
    body_text, signed = _without_signature(text, signature_text)

    plain = text.rstrip()
    if signature_text and not signed:
        plain = f"{plain}\n\n{_SIGNATURE_DELIMITER}\n{signature_text}" if plain else signature_text
    if html is None:
        html = _html_of(body_text)
    if signature and signature not in html:
        html = _with_signature(html, signature)
    html, images = _inline_images(html, domain)

    message.set_content(plain + "\n", subtype="plain", charset="utf-8", cte=_cte(plain))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=_cte(html))
    if images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None  # just added
        for content_id, (subtype, content) in images.items():
            html_part.add_related(content, "image", subtype, cid=f"<{content_id}>", disposition="inline")
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]  # the email package adds it to every part it makes; once is enough


def _without_signature(text: str, signature_text: str) -> tuple[str, bool]:
    """`text` without the signature it already ends with (and its "-- " line), and whether it did.

    Lines are compared with their spaces collapsed: an editor may have rewrapped the spacing.
    """
    wanted = [line for line in map(_one_line, signature_text.split("\n")) if line]
    lines = text.rstrip().split("\n")
    kept = [index for index, line in enumerate(lines) if _one_line(line)]
    if not wanted or len(kept) < len(wanted):
        return text, False
    tail = kept[-len(wanted) :]
    if [_one_line(lines[index]) for index in tail] != wanted:
        return text, False
    body = lines[: tail[0]]
    while body and not body[-1].strip():
        body.pop()
    if body and body[-1].rstrip() == _SIGNATURE_DELIMITER.rstrip():
        body.pop()
    return "\n".join(body).rstrip(), True


def _html_of(text: str) -> str:
    """`text` as HTML: escaped, blank lines between paragraphs, single newlines as <br>."""
    paragraphs = [part for part in _PARAGRAPH_BREAK.split(text.strip()) if part.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(html_lib.escape(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
    )


def _with_signature(html: str, signature: str) -> str:
    block = f'<div class="signature">{signature}</div>'
    end = _BODY_END.search(html)
    if end:
        return f"{html[: end.start()]}{block}\n{html[end.start() :]}"
    return f"{html}\n{block}" if html.strip() else block


def _inline_images(html: str, domain: str) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """`html` with its inline `data:` images pointing at `cid:` parts, and those parts by Content-ID.

    Mail clients (Gmail, Outlook) block `data:` images; related parts they show. The same image
    twice is one part. An image whose data is not base64 stays as it is.
    """
    images: dict[str, tuple[str, bytes]] = {}
    by_data: dict[bytes, str] = {}

    def replace(found: re.Match[str]) -> str:
        try:
            content = base64.b64decode("".join(found.group(4).split()), validate=True)
        except (binascii.Error, ValueError):
            return found.group(0)
        content_id = by_data.get(content)
        if content_id is None:
            content_id = f"{secrets.token_hex(12)}@{domain.lower()}"
            by_data[content] = content_id
            images[content_id] = (found.group(3).lower(), content)
        return f"{found.group(1)}{found.group(2)}cid:{content_id}{found.group(2)}"

    return _DATA_IMAGE.sub(replace, html), images


def _cte(body: str) -> str:
    """7bit for short ASCII lines; quoted-printable for anything else (non-ASCII, long lines)."""
    if body.isascii() and all(len(line) <= _MAX_7BIT_LINE for line in body.split("\n")):
        return "7bit"
    return "quoted-printable"
