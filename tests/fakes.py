"""In-memory stand-ins for store seams, where a test is about an order of effects rather than about
DynamoDB: every call is appended to one `journal`, so a test reads what happened, in order.

The moto tests stay the proof that the real stores behave; these only make ordering rules (a
cursor saved after its hand-over, never before) readable in a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox.accounts.models import Account
from inbox.email.mailbox import Batch, Limits
from inbox.email.sync_state import MailboxSync, SyncError
from inbox.errors import Conflict, NotFound
from inbox.store.mailbox_sync import LeaseLost


@dataclass
class Journal:
    entries: list[str] = field(default_factory=list)

    def write(self, entry: str) -> None:
        self.entries.append(entry)


class FakeMailboxSync:
    """`store.mailbox_sync.MailboxSyncStore`'s lease, cursor and poll record, in memory."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.holder: str | None = None
        self.saved: dict[str, Any] | None = None
        self.state = MailboxSync()
        self.steal_lease_after_saves: int | None = None

    def acquire_lease(self, account_id: str, holder: str, *, seconds: float) -> bool:
        if self.holder is not None:
            return False
        self.holder = holder
        return True

    def release_lease(self, account_id: str, holder: str) -> None:
        if self.holder == holder:
            self.holder = None
            self.journal.write("lease released")

    def cursor(self, account_id: str) -> dict[str, Any] | None:
        return self.saved

    def save_cursor(self, account_id: str, cursor: dict[str, Any], *, holder: str) -> None:
        if self.holder != holder:
            raise LeaseLost(account_id)
        self.saved = cursor
        self.journal.write(f"cursor {cursor['at']}")
        if self.steal_lease_after_saves is not None:
            self.steal_lease_after_saves -= 1
            if self.steal_lease_after_saves == 0:
                self.holder = "another poll"

    def sync(self, account_id: str) -> MailboxSync:
        return self.state

    def record_poll(self, account_id: str, at: datetime, *, error: SyncError | None) -> None:
        self.state = self.state.model_copy(update={"last_polled_at": at, "last_error": error})
        self.journal.write(f"recorded {error.code if error else 'success'}")


class FakeAccounts:
    """`store.accounts.AccountStore`'s reads and versioned replace, in memory."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = {a.id: (a, 1) for a in accounts}

    def get(self, account_id: str, *, include_deleted: bool = False) -> Account:
        return self.read(account_id)[0]

    def read(self, account_id: str) -> tuple[Account, int]:
        if account_id not in self.accounts:
            raise NotFound(f"No account with id {account_id!r}.", code="account_not_found")
        return self.accounts[account_id]

    def replace(self, before: Account, after: Account, *, version: int) -> Account:
        if self.accounts[before.id][1] != version:
            raise Conflict("stale", code="conflict")
        self.accounts[before.id] = (after, version + 1)
        return after


class FakeVault:
    """`store.credentials.CredentialVault.load`: the credentials stored now (a test may change them)."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def load(self, account_id: str, model: type[Any]) -> Any:
        return self.credentials


Step = Batch | BaseException | Callable[[], None]


class ScriptedSource:
    """A mailbox source yielding the given batches; an exception in the script is raised there, a
    function is called there (what happens meanwhile: it may raise)."""

    def __init__(self, journal: Journal, script: Sequence[Step]) -> None:
        self.journal = journal
        self.script = script

    def batches(self, cursor: dict[str, Any] | None, limits: Limits) -> Iterator[Batch]:
        self.journal.write(f"fetch from {cursor['at'] if cursor else 'start'}")
        for step in self.script:
            if isinstance(step, BaseException):
                raise step
            if callable(step):
                step()
                continue
            yield step
