"""Whom the product trusts over TLS: the system's certificate authorities, plus the PEM bundle named
by `INBOX_CA_BUNDLE` when set (a company's internal CA for an on-premises IMAP server, a local
stand-in's). Every provider client (IMAP, SMTP, the HTTP APIs) verifies certificates and host
names with this one context; TLS is never unverified.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


def client_context() -> ssl.SSLContext:
    """The verifying client context for the bundle the settings name now (built once per bundle:
    loading the system's authorities takes milliseconds)."""
    from inbox.settings import settings

    return _context(settings().ca_bundle)


@lru_cache(maxsize=4)
def _context(ca_bundle: str | None) -> ssl.SSLContext:
    import ssl

    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context
