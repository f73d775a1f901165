"""Email signatures: sanitized HTML appended to outgoing email.

A signature is the account's default, or belongs to given users on that account; a user's own
signature wins over the default (`signature_for`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import nh3
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator

from inbox.accounts.models import Omittable
from inbox.directory import UserId
from inbox.model import Model

# What a signature may contain: formatting, links, images, simple tables.
TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ATTRIBUTES = {
    "*": {"style", "title", "align", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "td": {"width", "colspan", "rowspan", "valign"},
    "th": {"width", "colspan", "rowspan", "valign"},
}
# Inline styles are kept for look only: nothing that positions, hides, overlays or loads content.
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-transform",
    "line-height",
    "letter-spacing",
    "vertical-align",
    "white-space",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-radius",
    "width",
    "height",
    "max-width",
    "max-height",
}
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
INLINE_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+", re.IGNORECASE)
MAX_HTML = 100_000  # inline images make signatures large; beyond this it is not a signature


def _allowed_url(tag: str, attribute: str, value: str) -> str | None:
    """Links: http, https, mailto, tel. Images: https, or inline PNG/JPEG/GIF/WebP data."""
    if attribute == "style" and re.search(r"url\s*\(|expression\s*\(|@import", value, re.IGNORECASE):
        return None
    if (tag, attribute) == ("a", "href"):
        return value if value.strip().lower().startswith(LINK_SCHEMES) else None
    if (tag, attribute) == ("img", "src"):
        text = value.strip()
        return text if text.lower().startswith("https:") or INLINE_IMAGE.fullmatch(text) else None
    return value


def sanitize_html(html: str) -> str:
    """The signature HTML with anything that could run, load, hide or mislead taken out."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel", "data"},
        attribute_filter=_allowed_url,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


SignatureHtml = Annotated[str, StringConstraints(max_length=MAX_HTML), AfterValidator(sanitize_html)]
SignatureName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SignatureFields(Model):
    model_config = ConfigDict(extra="forbid")

    name: SignatureName
    html: SignatureHtml = Field(description="sanitized on the way in: formatting, links, images")
    default_for_account: bool = Field(default=False, strict=True)  # `0` is not a boolean
    user_ids: list[UserId] = Field(default_factory=list, max_length=200)

    @field_validator("user_ids")
    @classmethod
    def _distinct(cls, user_ids: list[str]) -> list[str]:
        return list(dict.fromkeys(user_ids))


class SignatureUpdate(Model):
    model_config = ConfigDict(extra="forbid")

    name: Omittable[SignatureName] = None
    html: Omittable[SignatureHtml] = None
    default_for_account: Omittable[Annotated[bool, Field(strict=True)]] = None
    user_ids: Omittable[Annotated[list[UserId], Field(max_length=200)]] = None


class Signature(SignatureFields):
    id: str
    account_id: str
    created_at: datetime
    updated_at: datetime


def choose_signature(signatures: list[Signature], user_id: str | None) -> Signature | None:
    """The signature of a message sent by `user_id` (None: an automatic message): the user's own,
    else the account's default, else none."""
    if user_id is not None:
        own = next((s for s in signatures if user_id in s.user_ids), None)
        if own is not None:
            return own
    return next((s for s in signatures if s.default_for_account), None)
