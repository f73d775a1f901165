"""Incoming mail, parsed: the raw RFC 5322 bytes a mailbox gives become a `ParsedMail`.

Pure and best effort: whatever the email package can make of a message is kept (a broken
boundary still yields its text, an unknown charset still yields readable text). Only a message
with no header or no sender address is `Unparseable`; the caller quarantines it, never drops it.
`message_identity` is what identifies a message within an account (CONTRACT.md, Sync).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from inbox.signatures import sanitize_html


class Unparseable(Exception):
    """The message cannot become a stored message; `reason` says why, in words for an admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Address:
    address: str  # as given, with the domain in lower case
    name: str | None = None


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str | None
    content_type: str
    content: bytes
    content_id: str | None = None  # without <>, what `cid:` URLs in the HTML name
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str | None
    sender: Address | None  # From (its first address)
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None  # aware
    text: str  # the text/plain body, else text derived from the HTML, else ""
    html: str | None  # sanitized
    attachments: list[ParsedAttachment]
    headers: dict[str, str]  # top-level headers, first occurrence per name, unfolded
    defects: list[str]  # what the email package found wrong, for logs

    @property
    def contact(self) -> Address | None:
        """Whom a reply goes to: Reply-To's first address, else From."""
        return self.reply_to[0] if self.reply_to else self.sender


_PARSING = policy.default
# Regenerating a nested message keeps its headers as they came (no refolding).
_REGENERATING = policy.SMTP.clone(refold_source="none")
_FOLD = re.compile(r"\r\n|\r|\n")
_SURROGATES = re.compile("[\udc80-\udcff]")
_ANGLED = re.compile(r"<([^<>]*)>")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_GUESSED_BOUNDARY = re.compile(r"^--([^\s]{1,200})[ \t]*\r?$", re.MULTILINE)
# Labels that mail clients use for a wider charset than the one they name.
_WIDER_CHARSET = {
    **dict.fromkeys(["shift_jis", "shift-jis", "x-sjis", "sjis"], "cp932"),
    **dict.fromkeys(["gb2312", "gbk"], "gb18030"),
    **dict.fromkeys(["euc-kr", "ks_c_5601-1987"], "cp949"),
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-1": "cp1252",
}
_MAX_DEFECTS = 50
_MAX_STRUCTURED_HEADER = 20_000  # longer values are kept raw: the header parser is slow on them
_MAX_HTML_FOR_TEXT = 500_000  # html.parser reads ~2 MB/s; the full HTML stays in `html`


def message_id_of(value: str | None) -> str | None:
    """The Message-ID without its angle brackets and whitespace ("<a@b>" → "a@b"), None if empty."""
    if not value:
        return None
    angled = _ANGLED.search(value)
    text = angled.group(1) if angled else (value.split() or [""])[0]
    return "".join(text.split()) or None


def message_identity(raw: bytes) -> str:
    """What identifies this message within an account: "mid:<Message-ID>", else "sha256:<hex>".

    Reads the headers only; never raises (bytes that are no mail get the hash form).
    """
    try:
        end = _HEADER_END.search(raw)
        head = raw[: end.end()] if end else raw
        found = BytesHeaderParser(policy=_PARSING).parsebytes(head)
        for name, value in found.raw_items():
            if name.lower() == "message-id":
                message_id = message_id_of(_readable(_unfold(value)))
                if message_id:
                    return f"mid:{message_id}"
                break
    except Exception:  # noqa: S110 - any failure leaves the hash, which always works
        pass
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_mail(raw: bytes) -> ParsedMail:
    """The message in `raw`, parsed best effort; `Unparseable` when it cannot become a message."""
    if not raw.strip():
        raise Unparseable("empty message")
    try:
        message = BytesParser(policy=_PARSING).parsebytes(raw)
        return _parsed(message)
    except Unparseable:
        raise
    except Exception as error:
        raise Unparseable(f"the message cannot be parsed: {type(error).__name__}: {error}") from error


def _parsed(message: Message) -> ParsedMail:
    raw_headers = [(name, _readable(_unfold(value))) for name, value in message.raw_items()]
    if not raw_headers:
        raise Unparseable("not an email: no header found")
    by_name: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        key = name.strip().lower()
        if key not in by_name:
            headers[name.strip()] = _header_value(name, value)
        by_name.setdefault(key, []).append(value)

    def addresses(name: str) -> list[Address]:
        return _addresses(by_name.get(name, []))

    senders, reply_to = addresses("from"), addresses("reply-to")
    if not senders and not reply_to:
        raise Unparseable("no sender address (From)")
    body = _Body()
    body.read(message)
    subject = _decoded_words(_first(by_name, "subject") or "").strip()
    return ParsedMail(
        message_id=message_id_of(_first(by_name, "message-id")),
        in_reply_to=_ids(by_name.get("in-reply-to", [])),
        references=_ids(by_name.get("references", [])),
        subject=subject or None,
        sender=senders[0] if senders else None,
        reply_to=reply_to,
        to=addresses("to"),
        cc=addresses("cc"),
        date=_date(_first(by_name, "date")),
        text=body.text(),
        html=sanitize_html(_without_head(body.html)).strip() if body.html is not None else None,
        attachments=body.attachments,
        headers=headers,
        defects=body.defects,
    )


# Headers


def _unfold(value: str) -> str:
    return _FOLD.sub("", value)


def _readable(value: str) -> str:
    """`value` with its raw 8-bit bytes (surrogate escapes) read as UTF-8, else as Windows-1252."""
    if not _SURROGATES.search(value):
        return value
    return _decoded(value.encode("utf-8", "surrogateescape"), None)


def _header_value(name: str, value: str) -> str:
    """The header's value as the email package reads it (encoded-words decoded), else as given."""
    if len(value) > _MAX_STRUCTURED_HEADER:
        return value
    try:
        return _unfold(str(_PARSING.header_factory(name, value)))
    except Exception:
        return value


def _decoded_words(text: str) -> str:
    """`text` with its RFC 2047 encoded-words decoded."""
    if "=?" not in text:
        return text
    return _header_value("x-text", text)


def _first(by_name: dict[str, list[str]], name: str) -> str | None:
    values = by_name.get(name)
    return values[0] if values else None


def _addresses(values: list[str]) -> list[Address]:
    found: list[Address] = []
    for name, address in getaddresses(values):
        address = address.strip()
        if "@" not in address:
            continue
        local, _, domain = address.rpartition("@")
        found.append(Address(address=f"{local}@{domain.lower()}", name=_decoded_words(name).strip() or None))
    return found


def _ids(values: list[str]) -> list[str]:
    ids: list[str] = []
    for value in values:
        tokens = _ANGLED.findall(value) or value.replace(",", " ").split()
        for token in tokens:
            message_id = message_id_of(f"<{token}>")
            if message_id and message_id not in ids:
                ids.append(message_id)
    return ids


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=UTC)  # "-0000": UTC, origin unknown


# Bodies


def _decoded(content: bytes, charset: str | None) -> str:
    """`content` as text: in its declared charset, else UTF-8, else Windows-1252, else Latin-1."""
    candidates = []
    if charset:
        label = charset.strip().strip('"').lower()
        candidates += [_WIDER_CHARSET.get(label, label), label]
    for candidate in [*candidates, "utf-8", "cp1252"]:
        try:
            codecs.lookup(candidate)
            return content.decode(candidate)
        except (LookupError, UnicodeError, ValueError):
            continue
    return content.decode("latin-1")


def _part_text(part: Message) -> str:
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes):
        return ""
    text = _decoded(content, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Body:
    """Walks the MIME tree once: the first plain and HTML bodies, everything else as attachments."""

    def __init__(self) -> None:
        self.plain: str | None = None
        self.html: str | None = None
        self.attachments: list[ParsedAttachment] = []
        self.defects: list[str] = []

    def text(self) -> str:
        if self.plain and self.plain.strip():
            return self.plain.strip()
        if self.html:
            return html_text(self.html[:_MAX_HTML_FOR_TEXT])
        return ""

    def read(self, message: Message) -> None:
        for part, parent in self._leaves(message):
            self._note_defects(part)
            self._read_leaf(part, parent)

    def _leaves(self, message: Message) -> Iterator[tuple[Message, str | None]]:
        """The parts that are not multiparts, in order, each with its parent's content type.

        A nested message is a leaf: its text belongs to it, not to this message's body.
        """
        stack: list[tuple[Message, str | None, bool]] = [(message, None, False)]
        while stack:
            part, parent, salvaged = stack.pop()
            if part.get_content_maintype() != "multipart":
                yield part, parent
                continue
            self._note_defects(part)
            payload = part.get_payload()
            if isinstance(payload, list):
                children = _messages(payload)
            else:
                children = [] if salvaged else self._salvage(payload)
                if not children:  # no boundary to be found: read the whole body as text
                    yield _as_plain_text(part), parent
                    continue
                salvaged = True
            kind = part.get_content_type()
            stack.extend((child, kind, salvaged) for child in reversed(children))

    def _salvage(self, body: object) -> list[Message]:
        """The parts of a multipart whose declared boundary is nowhere in its body, if any boundary is."""
        if not isinstance(body, str):
            return []
        guessed = _GUESSED_BOUNDARY.search(body)
        if not guessed:
            return []
        self.defects.append(f"boundary not found; parts read with the boundary {guessed.group(1)!r}")
        head = f'Content-Type: multipart/mixed; boundary="{guessed.group(1)}"\r\n\r\n'
        reparsed = BytesParser(policy=_PARSING).parsebytes(
            head.encode("utf-8", "surrogateescape") + body.encode("utf-8", "surrogateescape")
        )
        payload = reparsed.get_payload()
        return _messages(payload) if isinstance(payload, list) else []

    def _note_defects(self, part: Message) -> None:
        for defect in part.defects:
            if len(self.defects) < _MAX_DEFECTS:
                detail = str(defect)
                self.defects.append(f"{type(defect).__name__}: {detail}" if detail else type(defect).__name__)

    def _read_leaf(self, part: Message, parent: str | None) -> None:
        kind = part.get_content_type()
        maintype, subtype = kind.split("/", 1)
        disposition = part.get_content_disposition()
        filename = _filename(part)
        if maintype == "text" and disposition != "attachment" and filename is None:
            if subtype == "plain" and self.plain is None:
                self.plain = _part_text(part)
                return
            if subtype == "html" and self.html is None:
                self.html = _part_text(part)
                return
            if parent == "multipart/alternative":
                return  # another rendering of a body already read
        if maintype == "message":
            content = _message_bytes(part)
            filename = filename or _nested_filename(part)
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
        content_id = message_id_of(_raw_header(part, "content-id"))
        self.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=kind,
                content=content,
                content_id=content_id,
                inline=disposition == "inline"
                or (content_id is not None and (disposition is None or parent == "multipart/related")),
            )
        )


def _messages(payload: list[Message | str]) -> list[Message]:
    return [child for child in payload if isinstance(child, Message)]


def _as_plain_text(part: Message) -> Message:
    """A multipart without parts, to be read as one text/plain part (its charset kept)."""
    plain = EmailMessage(policy=_PARSING)
    plain.set_payload(part.get_payload())
    plain["Content-Type"] = "text/plain"
    charset = part.get_param("charset")
    if isinstance(charset, str):
        plain.set_param("charset", charset)
    return plain


def _raw_header(part: Message, name: str) -> str | None:
    value = next((value for key, value in part.raw_items() if key.lower() == name), None)
    return _readable(_unfold(value)) if value is not None else None


def _filename(part: Message) -> str | None:
    try:
        filename = part.get_filename()
    except Exception:
        return None
    if not filename:
        return None
    cleaned = "".join(c for c in _decoded_words(_readable(filename)) if c.isprintable()).strip()
    return cleaned or None


def _nested_filename(part: Message) -> str:
    nested = part.get_payload(0) if part.is_multipart() else None
    subject = _decoded_words(_raw_header(nested, "subject") or "") if isinstance(nested, Message) else ""
    subject = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", subject).strip()
    return f"{subject or 'message'}.eml"


def _message_bytes(part: Message) -> bytes:
    """The nested message as bytes (regenerated: the parser keeps no copy of the original)."""
    nested = part.get_payload(0) if part.is_multipart() else None
    if isinstance(nested, Message):
        try:
            return nested.as_bytes(policy=_REGENERATING)
        except Exception:
            return str(nested).encode("utf-8", "surrogateescape")
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


# Text from HTML

_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "fieldset"}
    | {"figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr"}
    | {"li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th"}
    | {"thead", "tr", "ul"}
)
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_HEAD_START = re.compile(r"<head[\s>]", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>|(?=<body[\s>])", re.IGNORECASE)  # a <head> need not be closed


def _without_head(html: str) -> str:
    """`html` without its <head>: the sanitizer would keep the <title> as body text."""
    start = _HEAD_START.search(html)
    end = _HEAD_END.search(html, start.start()) if start else None
    return html[: start.start()] + html[end.end() :] if start and end else html


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "body":
            self.hidden = 0  # a <head> need not be closed
        elif tag == "br" or tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data.replace("\n", " "))


def html_text(html: str) -> str:
    """The text a reader sees in `html`: blocks and <br> on their own lines, spaces collapsed."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # noqa: S110 - keep the text read before the parser gave up
        pass
    lines = [" ".join(line.split()) for line in "".join(extractor.chunks).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
