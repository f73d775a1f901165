"""Accounts: one mailbox or one WhatsApp number, with its provider settings and status.

- `models`: `Account`, its config validated per provider, and write-only credentials.
- `lifecycle`: created, changed, paused and resumed, put in `error`, reconnected, deleted.
- `checks`: Test connection: the checks picked by provider (`run_checks`).
- `check_report`: what Test connection answers, and the words for what went wrong reaching a peer.

Nothing is imported here: each importer loads only the module it uses.
"""
