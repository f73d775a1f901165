"""Domain errors. Raised by the domain and the data access; mapped to HTTP in `inbox.api.errors`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldProblem:
    field: str
    message: str


@dataclass
class InboxError(Exception):
    """Base of every error a caller can act on; `code` is stable, `message` is for people."""

    message: str
    code: str = "error"
    details: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class NotFound(InboxError):
    """The resource does not exist, or the caller may not see it (the two look the same)."""


class Conflict(InboxError):
    """The change clashes with the current state: a duplicate name, a concurrent update."""


class Invalid(InboxError):
    """Input that passed the schema but breaks a rule of the domain."""


class Unauthenticated(InboxError):
    """No caller identity on the request."""


class Forbidden(InboxError):
    """The caller is known but not allowed to do this."""


class BadRequest(InboxError):
    """A request that cannot be acted on as made (a forged or expired OAuth state)."""


class NotConfigured(InboxError):
    """The deployment lacks a setting the request needs (an OAuth app): the deployer's to fix."""


class Unavailable(InboxError):
    """A part of the product could not take the request just now (a queue): try again (503)."""
