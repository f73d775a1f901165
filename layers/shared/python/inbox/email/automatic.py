"""Automatic messages (RFC 3834): which incoming messages must get no automatic reply, and why.

`automatic_message_reason` is the loop protection of auto-replies: bounces, list mail, bulk mail,
other robots' auto-replies, no-reply senders and our own messages are never answered. The
auto-reply decision (`inbox.routing.auto_reply`) asks it first; the email channel can ask it on its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from email.utils import parseaddr

_NO_REPLY = re.compile(r"(^|-)(no-?reply|do-?not-?reply|dont-?reply)(-|$)")
_SUPPRESSING = {"all": "All", "oof": "OOF", "autoreply": "AutoReply"}
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def _header_name(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _address_kind(address: str) -> str | None:
    """What makes `address` an address not to answer (`mailer-daemon`, `no-reply` …), or None."""
    mailbox = parseaddr(address)[1] or address
    local = mailbox.rsplit("@", 1)[0].strip().strip('"').lower()
    local = local.split("+", 1)[0]  # subaddress: noreply+bounces@ is still noreply
    if local in ("mailer-daemon", "postmaster"):
        return local
    if local.startswith("owner-") and len(local) > len("owner-"):
        return "a list owner (owner-*)"
    if local.endswith("-request") and len(local) > len("-request"):
        return "a list request address (*-request)"
    if _NO_REPLY.search("-".join(re.split(r"[-_.]", local))):
        return "a no-reply address"
    return None


def own_domains(address: str) -> tuple[str, ...]:
    """The domains of the Message-IDs an account writes (its address's): mail whose Message-ID is
    on one of them is ours, come back."""
    return (address.rsplit("@", 1)[1].lower(),) if "@" in address else ()


def automatic_message_reason(
    headers: Mapping[str, str], sender: str | None, *, own_domains: Collection[str] = ()
) -> str | None:
    """Why this message must get no automatic reply (RFC 3834 and PROTOCOLS.md), or None.

    `headers` are the message's headers by name (any case); WhatsApp passes `{}`. `sender` is the
    sender's address (`a@b` or `Name <a@b>`; a phone number never matches). `own_domains` are the
    domains of the Message-IDs we generate. The reason is short and human-readable, for the
    routing record, e.g. "Auto-Submitted: auto-replied", "List-Id present", "our own message".
    """
    by_name: dict[str, list[tuple[str, str]]] = {}
    for name, value in headers.items():
        by_name.setdefault(name.strip().lower(), []).append((name.strip(), value or ""))

    def values(name: str) -> list[str]:
        return [value for _, value in by_name.get(name, [])]

    for value in values("auto-submitted"):
        keyword = value.split(";", 1)[0].strip().lower()
        if keyword != "no":
            return f"Auto-Submitted: {keyword}" if keyword else "Auto-Submitted present"
    # A report (RFC 6522): a bounce (delivery-status, RFC 3464) or a read receipt (RFC 8098).
    for value in values("content-type"):
        if value.strip().lower().startswith("multipart/report"):
            found = re.search(r"report-type\s*=\s*\"?([\w-]+)", value, re.I)
            return f"a report ({found.group(1).lower() if found else 'multipart/report'})"
    if values("x-failed-recipients"):
        return "a bounce (X-Failed-Recipients)"
    return_paths = values("return-path")
    for value in return_paths:
        # The null reverse-path: bounces and other automatic mail, where a reply could only bounce.
        if re.fullmatch(r"(<\s*>)?", value.strip()):
            return "empty return path"
    if sender and (kind := _address_kind(sender)):
        return f"sender is {kind}"
    # Replies go to the Return-Path: an automatic one there is as bad as an automatic sender.
    for value in return_paths:
        if kind := _address_kind(value.strip().strip("<>")):
            return f"return path is {kind}"
    for key, entries in by_name.items():
        if key.startswith("list-"):
            return f"{_header_name(entries[0][0])} present"
    for value in values("precedence"):
        if value.strip().lower() in _BULK_PRECEDENCE:
            return f"Precedence: {value.strip().lower()}"
    for value in values("x-auto-response-suppress"):
        for token in re.split(r"[\s,;]+", value.strip().lower()):
            if token in _SUPPRESSING:
                return f"X-Auto-Response-Suppress: {_SUPPRESSING[token]}"
    domains = {d.strip().rstrip(".").lower() for d in own_domains if d.strip()}
    for value in values("message-id"):
        _, at, domain = value.strip().strip("<>").rpartition("@")
        if at and domain.strip().rstrip(".").lower() in domains:
            return "our own message"
    return None
