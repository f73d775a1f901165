"""A corpus of incoming mail, built in code: the shapes a mailbox really serves, broken ones included.

Each `CorpusMail` says what must become of it (`stored` or `quarantined`) and a few facts the parser
must find. Well-formed mail is built with `EmailMessage`; broken mail is written as literal bytes,
because brokenness is the point. The 10 MB attachment is generated from a fixed seed.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Literal

DOMAIN = "corpus.example"
LARGE_ATTACHMENT_SIZE = 10 * 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class CorpusMail:
    name: str
    raw: bytes
    outcome: Literal["stored", "quarantined"]
    subject: str | None = None  # checked when given
    text_contains: str | None = None  # checked when given
    attachments: int = 0  # checked for every stored mail
    message_id: str | None = None  # the normalized Message-ID expected (None: the mail has none)
    cc_count: int = 0  # checked for every stored mail
    reason_contains: str | None = None  # for quarantined mail: a word of the reason


def _message(name: str, subject: str | None = None, *, message_id: bool = True) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ana Silva <ana@Customer.EXAMPLE>"
    message["To"] = "Support <support@shop.example>"
    if subject is not None:
        message["Subject"] = subject
    message["Date"] = "Tue, 04 Mar 2025 10:15:00 +0100"
    if message_id:
        message["Message-ID"] = f"<{name}@{DOMAIN}>"
    return message


def _bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


def _literal(*lines: bytes | str) -> bytes:
    return b"\r\n".join(line.encode("ascii") if isinstance(line, str) else line for line in lines)


def _stored(
    name: str,
    message: EmailMessage,
    *,
    subject: str | None = None,
    text_contains: str | None = None,
    attachments: int = 0,
    cc_count: int = 0,
) -> CorpusMail:
    """A well-formed mail built by `_message(name)`: its Message-ID is `name@corpus.example`."""
    return CorpusMail(
        name=name,
        raw=_bytes(message),
        outcome="stored",
        subject=subject,
        text_contains=text_contains,
        attachments=attachments,
        message_id=f"{name}@{DOMAIN}" if message["Message-ID"] is not None else None,
        cc_count=cc_count,
    )


def large_attachment() -> bytes:
    """The 10 MB attachment: random bytes from a fixed seed (incompressible, like real files)."""
    return random.Random(20250304).randbytes(LARGE_ATTACHMENT_SIZE)


def _plain_text() -> CorpusMail:
    message = _message("plain-text", "Order 1234")
    message.set_content("Hello,\nwhere is my order 1234?\n\nAna\n")
    return _stored("plain-text", message, subject="Order 1234", text_contains="where is my order 1234?")


def _alternative() -> CorpusMail:
    message = _message("multipart-alternative", "Both renderings")
    message.set_content("The plain rendering.\n")
    message.add_alternative("<html><body><p>The <b>HTML</b> rendering.</p></body></html>", subtype="html")
    return _stored("multipart-alternative", message, text_contains="The plain rendering.")


def _mixed_pdf() -> CorpusMail:
    message = _message("multipart-mixed-pdf", "Invoice attached")
    message.set_content("Please find the invoice attached.\n")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    message.add_attachment(b"a;b\n1;2\n", maintype="text", subtype="csv", filename="façture été.csv")
    return _stored("multipart-mixed-pdf", message, text_contains="invoice attached", attachments=2)


def _nested_rfc822() -> CorpusMail:
    inner = _message("nested-inner", "Original offer")
    inner.set_content("The inner secret text of the forwarded offer.\n")
    message = _message("nested-rfc822", "Fwd: Original offer")
    message.set_content("See the forwarded offer below.\n")
    message.add_attachment(inner)
    return _stored("nested-rfc822", message, text_contains="See the forwarded offer", attachments=1)


def _quoted_printable() -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "Subject: Dessert",
        "Message-ID: <quoted-printable@corpus.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Un caf=C3=A9 et une cr=C3=A8me br=C3=BBl=C3=A9e, s'il vous pla=C3=AEt, avec une soft =",
        "line break.",
        "",
    )
    return CorpusMail(
        "quoted-printable",
        raw,
        "stored",
        subject="Dessert",
        text_contains="Un café et une crème brûlée, s'il vous plaît, avec une soft line break.",
        message_id="quoted-printable@corpus.example",
    )


def _base64_text() -> CorpusMail:
    body = base64.encodebytes("Grüße aus München!\n".encode()).decode("ascii").strip()
    raw = _literal(
        "From: ana@customer.example",
        "Subject: Greetings",
        "Message-ID: <base64-text@corpus.example>",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        body,
        "",
    )
    return CorpusMail(
        "base64-text",
        raw,
        "stored",
        text_contains="Grüße aus München!",
        message_id="base64-text@corpus.example",
    )


def _eight_bit(name: str, body: bytes, expected: str) -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "Subject: No charset",
        f"Message-ID: <{name}@corpus.example>",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: 8bit",
        "",
        body,
        "",
    )
    return CorpusMail(name, raw, "stored", text_contains=expected, message_id=f"{name}@corpus.example")


def _latin1() -> CorpusMail:
    raw = _literal(
        "From: =?iso-8859-1?q?Andr=E9_M=FCller?= <andre@customer.example>",
        "Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?=",
        "Message-ID: <latin-1@corpus.example>",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Un café crème, à emporter.".encode("latin-1"),
        "",
    )
    return CorpusMail(
        "latin-1",
        raw,
        "stored",
        subject="Café crème",
        text_contains="Un café crème, à emporter.",
        message_id="latin-1@corpus.example",
    )


def _shift_jis() -> CorpusMail:
    subject = base64.b64encode("日本語の件名".encode("iso2022_jp")).decode("ascii")
    raw = _literal(
        "From: tanaka@customer.example",
        f"Subject: =?ISO-2022-JP?B?{subject}?=",
        "Message-ID: <shift-jis@corpus.example>",
        "Content-Type: text/plain; charset=Shift_JIS",
        "Content-Transfer-Encoding: 8bit",
        "",
        "日本語のテキストです。".encode("shift_jis"),
        "",
    )
    return CorpusMail(
        "shift-jis",
        raw,
        "stored",
        subject="日本語の件名",
        text_contains="日本語のテキストです。",
        message_id="shift-jis@corpus.example",
    )


def _iso_2022_jp() -> CorpusMail:
    raw = _literal(
        "From: tanaka@customer.example",
        "Subject: =?iso-2022-jp?B?" + base64.b64encode("ご注文".encode("iso2022_jp")).decode() + "?=",
        "Message-ID: <iso-2022-jp@corpus.example>",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Transfer-Encoding: 7bit",
        "",
        "ご注文ありがとうございます。".encode("iso2022_jp"),
        "",
    )
    return CorpusMail(
        "iso-2022-jp",
        raw,
        "stored",
        subject="ご注文",
        text_contains="ご注文ありがとうございます。",
        message_id="iso-2022-jp@corpus.example",
    )


def _unknown_charset() -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "Subject: Unknown charset",
        "Message-ID: <unknown-charset@corpus.example>",
        "Content-Type: text/plain; charset=x-no-such-charset",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Déjà vu.".encode(),
        "",
    )
    return CorpusMail(
        "unknown-charset",
        raw,
        "stored",
        text_contains="Déjà vu.",
        message_id="unknown-charset@corpus.example",
    )


def _eight_bit_headers() -> CorpusMail:
    raw = _literal(
        b"From: Jos\xc3\xa9 Mu\xc3\xb1oz <jose@customer.example>",
        b"Subject: R\xe9sum\xe9 attached",  # Latin-1 bytes, not UTF-8
        b"Message-ID: <eight-bit-headers@corpus.example>",
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"Body.",
        b"",
    )
    return CorpusMail(
        "eight-bit-headers",
        raw,
        "stored",
        subject="Résumé attached",
        text_contains="Body.",
        message_id="eight-bit-headers@corpus.example",
    )


def _unclosed_boundary() -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "Subject: Unclosed",
        "Message-ID: <broken-boundary-unclosed@corpus.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XYZ"',
        "",
        "--XYZ",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "The text before the missing closing boundary.",
        "--XYZ",
        "Content-Type: application/pdf",
        'Content-Disposition: attachment; filename="cut.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.b64encode(PDF).decode("ascii"),
        "",
    )
    return CorpusMail(
        "broken-boundary-unclosed",
        raw,
        "stored",
        text_contains="The text before the missing closing boundary.",
        attachments=1,
        message_id="broken-boundary-unclosed@corpus.example",
    )


def _wrong_boundary() -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "Subject: Wrong boundary",
        "Message-ID: <broken-boundary-wrong@corpus.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="declared"',
        "",
        "--actual",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "The body behind the wrong boundary.",
        "--actual",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>The body behind the wrong boundary.</p>",
        "--actual--",
        "",
    )
    return CorpusMail(
        "broken-boundary-wrong",
        raw,
        "stored",
        text_contains="The body behind the wrong boundary.",
        message_id="broken-boundary-wrong@corpus.example",
    )


def _no_message_id() -> CorpusMail:
    message = _message("missing-message-id", "No id", message_id=False)
    message.set_content("A message without a Message-ID.\n")
    return _stored("missing-message-id", message, text_contains="without a Message-ID")


def _duplicate(number: int) -> CorpusMail:
    name = f"duplicate-message-id-{number}"
    message = _message(name, "Same id")
    message.replace_header("Message-ID", f"<duplicate@{DOMAIN}>")
    message.set_content(f"Copy number {number} of the same message.\n")
    return CorpusMail(
        name,
        _bytes(message),
        "stored",
        text_contains=f"Copy number {number}",
        message_id=f"duplicate@{DOMAIN}",
    )


def _header_only() -> CorpusMail:
    raw = _literal(
        "From: ana@customer.example",
        "To: support@shop.example",
        "Subject: Only headers",
        "Message-ID: <header-only@corpus.example>",
        "",
    )
    return CorpusMail(
        "header-only", raw, "stored", subject="Only headers", message_id="header-only@corpus.example"
    )


def _large() -> CorpusMail:
    message = _message("large-attachment", "Big file")
    message.set_content("The big file is attached.\n")
    message.add_attachment(
        large_attachment(), maintype="application", subtype="octet-stream", filename="big.bin"
    )
    return _stored("large-attachment", message, text_contains="The big file is attached.", attachments=1)


def cc_people() -> list[str]:
    return [f"cc{number:03d}@team.example" for number in range(100)]


def _cc_100() -> CorpusMail:
    message = _message("cc-100", "Everyone")
    # Names with a comma and with non-ASCII letters: both must survive the address list.
    names = ["Doe, Jane", "Zoë Ünal", "Person"]
    message["Cc"] = ", ".join(f'"{names[i % 3]} {i}" <{address}>' for i, address in enumerate(cc_people()))
    message.set_content("Hello everyone.\n")
    return _stored("cc-100", message, cc_count=100, text_contains="Hello everyone.")


def _html_only() -> CorpusMail:
    message = _message("html-only-script-cid", "Newsletter")
    message.set_content(
        "<html><head><title>Ignored title</title><style>p {color: red}</style></head><body>"
        "<h1>Spring&nbsp;sale</h1><p>Hello <b>there</b>,<br>prices are down &amp; up.</p>"
        "<script>alert('stolen')</script>"
        '<p><img src="cid:logo@corpus.example" alt="logo"></p></body></html>',
        subtype="html",
    )
    message.add_related(
        PNG, "image", "png", cid="<logo@corpus.example>", filename="logo.png", disposition="inline"
    )
    return _stored(
        "html-only-script-cid", message, text_contains="Hello there,\nprices are down & up.", attachments=1
    )


def _auto_reply() -> CorpusMail:
    message = _message("auto-reply", "Automatic reply: Out of office")
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am out of the office until Monday.\n")
    return _stored(
        "auto-reply", message, subject="Automatic reply: Out of office", text_contains="until Monday"
    )


def _no_from() -> CorpusMail:
    raw = _literal(
        "To: support@shop.example",
        "Subject: Who sent this?",
        "Message-ID: <no-from@corpus.example>",
        "",
        "Nobody knows.",
        "",
    )
    return CorpusMail("no-from", raw, "quarantined", reason_contains="sender")


def _from_without_address() -> CorpusMail:
    raw = _literal(
        "From: Undisclosed sender:;",
        "Subject: A group, no address",
        "Message-ID: <from-without-address@corpus.example>",
        "",
        "Still nobody.",
        "",
    )
    return CorpusMail("from-without-address", raw, "quarantined", reason_contains="sender")


def _garbage() -> CorpusMail:
    raw = b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(4096)
    return CorpusMail("garbage-bytes", raw, "quarantined")


def _not_a_mail() -> CorpusMail:
    raw = b"just some words\r\nand another line without any header\r\n"
    return CorpusMail("text-without-headers", raw, "quarantined", reason_contains="header")


def _empty() -> CorpusMail:
    return CorpusMail("empty", b"", "quarantined", reason_contains="empty")


def _reply_to() -> CorpusMail:
    message = _message("reply-to-differs", "Your question")
    message.replace_header("From", "Shop Platform <noreply@platform.example>")
    message["Reply-To"] = "Bea Costa <Bea@Customer.Example>"
    message.set_content("Bea asked a question through the contact form.\n")
    return _stored("reply-to-differs", message, text_contains="contact form")


def _reply() -> CorpusMail:
    # Folded References, and an In-Reply-To with a comment after the id, as some clients write them.
    raw = _literal(
        "From: Ana Silva <ana@customer.example>",
        "To: support@shop.example",
        "Subject: Re: Order 1234",
        "Message-ID: <reply-with-references@corpus.example>",
        "In-Reply-To: <order-1234@shop.example> (Support's message of Monday)",
        "References: <first@shop.example>",
        " <order-1234@shop.example>",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Thanks, it arrived.",
        "",
        "> Your order has shipped.",
        "",
    )
    return CorpusMail(
        "reply-with-references",
        raw,
        "stored",
        subject="Re: Order 1234",
        text_contains="Thanks, it arrived.",
        message_id="reply-with-references@corpus.example",
    )


CORPUS: list[CorpusMail] = [
    _plain_text(),
    _alternative(),
    _mixed_pdf(),
    _nested_rfc822(),
    _quoted_printable(),
    _base64_text(),
    _eight_bit("eight-bit-no-charset", "naïve façade".encode(), "naïve façade"),
    _eight_bit("eight-bit-cp1252-no-charset", b"caf\xe9 for \x805", "café for €5"),
    _latin1(),
    _shift_jis(),
    _iso_2022_jp(),
    _unknown_charset(),
    _eight_bit_headers(),
    _unclosed_boundary(),
    _wrong_boundary(),
    _no_message_id(),
    _duplicate(1),
    _duplicate(2),
    _header_only(),
    _large(),
    _cc_100(),
    _html_only(),
    _auto_reply(),
    _no_from(),
    _from_without_address(),
    _garbage(),
    _not_a_mail(),
    _empty(),
    _reply_to(),
    _reply(),
]


def corpus_mail(name: str) -> CorpusMail:
    return next(mail for mail in CORPUS if mail.name == name)
