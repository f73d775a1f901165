"""Delivery: messages going out to contacts (auto-replies now, agents' replies later).

- `queue`: the outbound queue: requests naming a stored message to deliver.
- `sender`: one message claimed, sent at most once through its channel, its outcome recorded on it.

Nothing is imported here: each importer loads only the module it uses.
"""
