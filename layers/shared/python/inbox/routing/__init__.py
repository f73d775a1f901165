"""Routing: what comes in from the channels, and what the product does with it.

- `events`: the normalized inbound events (messages, delivery statuses, template reviews).
- `queue`: the inbound queue (FIFO) the channels put those events on.
- `consumer`: each event of the inbound queue handed to its effect, by the settings as they are now.
- `router`: a message's effects (conversation, assignment, auto-reply), each exactly once.
- `assignment_rules`: an account's assignment rules as saved, and their validation.
- `assignment`: the assignment decision for one new conversation, by those rules.
- `auto_reply`: an account's auto-reply settings, and whether a given message gets one.

Nothing is imported here: each importer loads only the module it uses.
"""
