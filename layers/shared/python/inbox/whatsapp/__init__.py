"""WhatsApp: what Meta's Cloud API and Twilio post to our webhooks, turned into the normalized
events of `inbox.routing.events` (`meta_payload`, `twilio_payload`), and the webhooks themselves; the one
client of each provider API (`meta_graph`, `twilio_api`, over `provider_http`) and what callers
make of its failures (`sending`, `template_review`, `meta_signup`, `checks`); what each provider is
sent for a template's review (`template_submission`)."""

from __future__ import annotations


class MalformedPayload(ValueError):
    """The request is not a WhatsApp webhook at all (wrong `object`, `entry` not a list, a change
    without a value, a Twilio request without MessageSid or From). Odd *messages* never raise: they
    are kept, as `MessageType.UNKNOWN` when their type is unknown."""
