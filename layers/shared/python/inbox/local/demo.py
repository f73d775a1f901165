"""`inbox dev --demo`: demo data loaded through the API, as an admin would enter it."""

from __future__ import annotations

import os
import secrets

import httpx

from inbox.local import tokens

LABELS = [
    {"name": "Urgent", "color": "#E53935", "description": "Needs an answer today"},
    {"name": "Quote", "color": "#1E88E5", "description": "A quote was asked for or sent"},
    {"name": "Order", "color": "#43A047"},
    {"name": "Complaint", "color": "#FB8C00"},
]


def configure_environment() -> None:
    """Give the demo the provider secrets webhooks need, unless the shell already has them."""
    for name in ("INBOX_META_APP_SECRET", "INBOX_META_VERIFY_TOKEN"):
        if not os.environ.get(name):
            os.environ[name] = secrets.token_hex(16)
        print(f"{name}={os.environ[name]}", flush=True)


def load(base_url: str) -> None:
    headers = {"Authorization": f"Bearer {tokens.mint('demo-admin', admin=True)}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for label in LABELS:
            client.post("/v1/labels", json=label).raise_for_status()
