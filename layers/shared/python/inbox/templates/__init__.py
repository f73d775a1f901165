"""Message templates: written once with `{{variables}}`, used by agents and auto-replies.

- `models`: `Template`, its approval state, and who may use which template (`check_usable`).
- `lifecycle`: created, edited, resubmitted, rendered, deleted.
- `approval`: the provider's review of a WhatsApp template (submitted, then followed to a verdict).
- `lint`: what a WhatsApp template must look like before it is submitted.
- `rendering`: `{{variable}}` placeholders filled (templates, auto-replies and signatures).
- `variables`: the catalogue of variables and the context a conversation gives them.

Nothing is imported here: each importer loads only the module it uses.
"""
