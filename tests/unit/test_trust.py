"""The TLS trust every provider client uses: the system's authorities plus INBOX_CA_BUNDLE."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from inbox.trust import client_context


def _self_signed(directory: Path) -> Path:
    certificate, key = directory / "ca.pem", directory / "ca.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Inbox Test CA",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate


def _subjects(context: ssl.SSLContext) -> list[str]:
    certificates: list[dict[str, Any]] = context.get_ca_certs()
    return [
        value
        for cert in certificates
        for rdn in cert.get("subject", ())
        for name, value in rdn
        if name == "commonName"
    ]


def test_the_extra_bundle_is_trusted_besides_the_system_and_verification_stays_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOX_CA_BUNDLE", raising=False)
    plain = client_context()
    assert "Inbox Test CA" not in _subjects(plain)

    monkeypatch.setenv("INBOX_CA_BUNDLE", str(_self_signed(tmp_path)))
    extended = client_context()
    assert "Inbox Test CA" in _subjects(extended)
    for context in (plain, extended):
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname is True
