"""A throwaway certificate authority for loopback https stand-ins (the sandbox's, the tests'):
MSAL accepts only https authorities, and the product trusts the CA through INBOX_CA_BUNDLE exactly
as a company trusts its internal one. Local-only code (not in the Lambda layer)."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalCA:
    """A CA, its PEM file (what INBOX_CA_BUNDLE names), and a server context for 127.0.0.1."""

    bundle: Path
    server_context: ssl.SSLContext


def local_ca(directory: Path | None = None) -> LocalCA:
    """A new CA whose certificate is written under `directory` (a new temporary one by default),
    and a server context with a certificate it issued for 127.0.0.1 and localhost."""
    import trustme

    ca = trustme.CA(organization_name="inbox local stand-ins")
    folder = directory or Path(tempfile.mkdtemp(prefix="inbox-ca-"))
    bundle = folder / "stand-ins-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return LocalCA(bundle=bundle, server_context=context)
