"""Accounts: one mailbox or one WhatsApp number, with its provider settings and status.

- `models`: `Account`, its config validated per provider, and write-only credentials.
- `lifecycle`: created, changed, paused and resumed, put in `error`, reconnected, deleted.
- `checks`: Test connection: the account's adapter's checks (`run_checks`, via `inbox.channels`).
- `check_report`: what Test connection answers, and the words for what went wrong reaching a peer.

Nothing is imported here: each importer loads only the module it uses.
"""
