"""The HTTP session google-auth and msal send their requests through: it verifies certificates with
the product's one TLS context (`inbox.trust`: the system's authorities plus INBOX_CA_BUNDLE), so
the token endpoints of a company's proxy or of a local stand-in are trusted exactly like the IMAP
server, and never without verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

# Every token call gets this long (connect, then read); google-auth and msal pass it on.
TIMEOUT_SECONDS = 15.0


def trusted_session() -> requests.Session:
    """A requests session whose https connections verify with `inbox.trust.client_context()`."""
    import requests
    from requests.adapters import HTTPAdapter

    from inbox.trust import client_context

    context = client_context()

    class _TrustingAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = context
            super().init_poolmanager(*args, **kwargs)

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["ssl_context"] = context
            return super().proxy_manager_for(*args, **kwargs)

    session = requests.Session()
    session.mount("https://", _TrustingAdapter())
    return session
