"""What sending a message can end as, whatever the channel: the sender (`inbox.delivery.sender`)
maps each to the message's record; every channel's send function (`inbox.channels`) returns a
`SendResult` or raises one of the others.

- `SendResult`: the provider accepted it (not yet delivered); its id names it in status reports.
- `SendRefused`: refused for good (closed window, invalid number …): retrying changes nothing.
- `CredentialsRejected`: the account's credentials are refused: the account goes to `error`.
- `SendLater`: throttled, provider down, no answer: try again (after `retry_after` when known).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message; its id is what its status reports will name."""

    provider_message_id: str


class SendRefused(Exception):
    """The provider refused this message for good (closed window, invalid number …)."""

    def __init__(
        self, code: str, message: str, *, window_closed: bool = False, title: str | None = None
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.window_closed = window_closed
        self.title = title


class CredentialsRejected(Exception):
    """The provider refused the account's credentials; `reason` is for the admin (no secret in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendLater(Exception):
    """Not sent, and worth trying again: after `retry_after` seconds when the provider said so."""

    def __init__(self, retry_after: float | None = None, *, why: str = "") -> None:
        super().__init__(why or "try again later")
        self.retry_after = retry_after
