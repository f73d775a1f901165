from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.accounts.models import Channel, Provider
from inbox.routing.events import (
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    MessageType,
    ProviderError,
    QueuedEvent,
    Reaction,
    Reply,
)
from inbox.whatsapp import MalformedPayload
from inbox.whatsapp.meta_payload import (
    MetaChange,
    account_errors,
    changes,
    messages_of,
    statuses_of,
    template_status_of,
)
from whatsapp_payloads import (
    CUSTOMER_NAME,
    CUSTOMER_WA_ID,
    DISPLAY_PHONE_NUMBER,
    ENTRY_TIME,
    MEDIA_SHA256,
    PHONE_NUMBER_ID,
    WABA_ID,
    JsonObject,
    meta_audio,
    meta_body,
    meta_button_reply,
    meta_change,
    meta_contact,
    meta_contact_card,
    meta_contacts,
    meta_document,
    meta_entry,
    meta_envelope,
    meta_error,
    meta_image,
    meta_list_reply,
    meta_location,
    meta_media,
    meta_message,
    meta_payload,
    meta_reaction,
    meta_status,
    meta_sticker,
    meta_template_button,
    meta_template_status,
    meta_text,
    meta_unsupported,
    meta_video,
    wamid,
)

ACCOUNT_ID = "acc-meta-paris"
RECEIVED_AT = datetime(2025, 2, 12, 0, 44, 2, tzinfo=UTC)
SENT_AT = datetime(2025, 2, 12, 0, 43, 44, tzinfo=UTC)  # the builders' TIMESTAMP


def read_messages(payload: Any) -> list[InboundMessage]:
    return [
        message
        for change in changes(payload)
        for message in messages_of(change, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)
    ]


def read_one(message: JsonObject, **payload: Any) -> InboundMessage:
    [read] = read_messages(meta_payload(messages=[message], **payload))
    return read


def only_change(payload: JsonObject) -> MetaChange:
    [change] = changes(payload)
    return change


# --- Messages: what every message carries --------------------------------------------------------


def test_a_text_message_becomes_a_whatsapp_message_of_the_account() -> None:
    # Given a contact's text, as Meta posts it
    message = meta_text("Bonjour, ma commande est-elle partie ?", id="wamid.TEXT1")

    # When it is read for the account that holds the business number
    read = read_one(message)

    # Then it is a Meta WhatsApp message keyed by its wamid, from the contact in E.164
    assert read.account_id == ACCOUNT_ID
    assert read.channel is Channel.WHATSAPP
    assert read.provider is Provider.META_CLOUD
    assert read.provider_message_id == "wamid.TEXT1"
    assert read.contact.address == "+" + CUSTOMER_WA_ID
    assert read.contact.name == CUSTOMER_NAME
    assert read.contact.provider_id == CUSTOMER_WA_ID
    assert read.type is MessageType.TEXT
    assert read.text == "Bonjour, ma commande est-elle partie ?"
    # and the raw object is the message itself, nothing dropped
    assert read.raw == message
    assert read.received_at == RECEIVED_AT


def test_the_timestamp_string_becomes_an_aware_utc_time() -> None:
    read = read_one(meta_text(timestamp="1739321024"))

    assert read.sent_at == SENT_AT
    assert read.sent_at.utcoffset() is not None
    assert read.sent_at.tzinfo == UTC


@pytest.mark.parametrize("timestamp", [None, "", "soon", "99999999999999999999"])
def test_a_message_without_a_usable_timestamp_counts_as_sent_when_received(timestamp: str | None) -> None:
    read = read_one(meta_text(timestamp=timestamp))

    assert read.sent_at == RECEIVED_AT


def test_text_that_meta_escapes_as_unicode_sequences_arrives_as_written() -> None:
    # Given a body Meta escapes (`é` travels as \u00e9 on the wire)
    raw_body = meta_body(meta_payload(messages=[meta_text("Crème brûlée : très bien, merci 👍")]))
    assert b"\\u00e9" in raw_body
    assert "é".encode() not in raw_body

    # When the webhook parses the bytes and reads them
    [read] = read_messages(json.loads(raw_body))

    # Then the text is the text itself
    assert read.text == "Crème brûlée : très bien, merci 👍"
    assert "é" in (read.text or "")


@given(st.text(min_size=1))
def test_any_text_survives_the_wire(body: str) -> None:
    [read] = read_messages(json.loads(meta_body(meta_payload(messages=[meta_text(body)]))))

    assert read.text == body


def test_a_reply_names_the_message_it_answers_and_an_ad_referral_stays_in_raw() -> None:
    referral = {
        "source_url": "https://fb.me/3cr4Wqqkv",
        "source_id": "120210930010000000",
        "source_type": "ad",
        "headline": "Soldes d'hiver",
        "body": "Jusqu'à -50 %",
        "media_type": "image",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-ZABI",
    }
    message = meta_text(
        "Ça m'intéresse", context={"from": "15550783881", "id": "wamid.OURS1"}, referral=referral
    )

    read = read_one(message)

    assert read.reply_to_provider_id == "wamid.OURS1"
    assert read.raw["referral"] == referral


def test_a_queued_message_reads_back_the_same() -> None:
    read = read_one(meta_image())

    assert QueuedEvent.model_validate_json(QueuedEvent(event=read).model_dump_json()).event == read


# --- Messages: each type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected_type", "expected_media"),
    [
        (
            meta_image(caption="Le colis abîmé", media_id="111"),
            MessageType.IMAGE,
            Media(
                provider_media_id="111", mime_type="image/jpeg", sha256=MEDIA_SHA256, caption="Le colis abîmé"
            ),
        ),
        (
            meta_document(filename="facture-2025-014.pdf", media_id="222", caption="La facture"),
            MessageType.DOCUMENT,
            Media(
                provider_media_id="222",
                mime_type="application/pdf",
                sha256=MEDIA_SHA256,
                caption="La facture",
                filename="facture-2025-014.pdf",
            ),
        ),
        (
            meta_audio(voice=True, media_id="333"),
            MessageType.AUDIO,
            Media(
                provider_media_id="333", mime_type="audio/ogg; codecs=opus", sha256=MEDIA_SHA256, voice=True
            ),
        ),
        (
            meta_video(media_id="444"),
            MessageType.VIDEO,
            Media(provider_media_id="444", mime_type="video/mp4", sha256=MEDIA_SHA256),
        ),
        (
            meta_sticker(media_id="555"),
            MessageType.STICKER,
            Media(provider_media_id="555", mime_type="image/webp", sha256=MEDIA_SHA256),
        ),
    ],
    ids=["image", "document", "audio", "video", "sticker"],
)
def test_media_arrive_as_an_id_to_download_with_their_type_and_caption(
    message: JsonObject, expected_type: MessageType, expected_media: Media
) -> None:
    read = read_one(message)

    assert read.type is expected_type
    assert read.media == [expected_media]
    # the caption is also the message's text, as a Twilio body is
    assert read.text == expected_media.caption


def test_a_media_url_meta_adds_is_kept() -> None:
    message = meta_image(url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=111")

    assert (
        read_one(message).media[0].url == "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=111"
    )


def test_a_location_keeps_its_coordinates_name_and_address() -> None:
    read = read_one(meta_location(48.8584, 2.2945, name="Tour Eiffel", address="Champ de Mars, Paris"))

    assert read.type is MessageType.LOCATION
    assert read.location == Location(
        latitude=48.8584, longitude=2.2945, name="Tour Eiffel", address="Champ de Mars, Paris"
    )


def test_a_location_without_coordinates_is_kept_without_a_location() -> None:
    read = read_one(meta_message("location", {"name": "Chez moi"}))

    assert read.type is MessageType.LOCATION
    assert read.location is None


def test_shared_contact_cards_are_kept_as_given() -> None:
    cards = [
        meta_contact_card("Jean Dupont", "+33 6 98 76 54 32"),
        meta_contact_card("Léa Petit", "+33 7 11 22 33 44"),
    ]

    read = read_one(meta_contacts(cards))

    assert read.type is MessageType.CONTACTS
    assert read.contacts == cards


def test_a_tap_on_our_reply_button_gives_its_id_and_title() -> None:
    read = read_one(meta_button_reply("confirm-delivery", "Oui, confirmer"))

    assert read.type is MessageType.INTERACTIVE
    assert read.reply == Reply(id="confirm-delivery", title="Oui, confirmer")
    assert read.text == "Oui, confirmer"


def test_a_choice_in_our_list_gives_its_id_title_and_description() -> None:
    read = read_one(meta_list_reply("slot-tue-am", "Mardi matin", "Entre 8 h et 12 h"))

    assert read.type is MessageType.INTERACTIVE
    assert read.reply == Reply(id="slot-tue-am", title="Mardi matin", description="Entre 8 h et 12 h")
    assert read.text == "Mardi matin"


def test_a_flow_answer_stays_interactive_with_its_raw_response() -> None:
    flow = {
        "type": "nfm_reply",
        "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"ok": true}'},
    }

    read = read_one(meta_message("interactive", flow))

    assert read.type is MessageType.INTERACTIVE
    assert read.reply is None
    assert read.text == "Sent"
    assert read.raw["interactive"] == flow


def test_a_template_quick_reply_gives_its_payload_and_text() -> None:
    read = read_one(meta_template_button(payload="STOP_PROMOS", text="Stop promotions"))

    assert read.type is MessageType.BUTTON
    assert read.reply == Reply(id="STOP_PROMOS", title="Stop promotions")
    assert read.text == "Stop promotions"


def test_a_reaction_names_the_message_and_the_emoji() -> None:
    read = read_one(meta_reaction("wamid.OURS2", "❤️"))

    assert read.type is MessageType.REACTION
    assert read.reaction == Reaction(message_id="wamid.OURS2", emoji="❤️")


@pytest.mark.parametrize(
    "content", [{"message_id": "wamid.OURS2"}, {"message_id": "wamid.OURS2", "emoji": ""}]
)
def test_a_removed_reaction_has_no_emoji(content: JsonObject) -> None:
    read = read_one(meta_message("reaction", content))

    assert read.reaction == Reaction(message_id="wamid.OURS2", emoji=None)


def test_an_unsupported_message_keeps_meta_s_errors() -> None:
    message = meta_unsupported("poll", code=131051, title="Message type unknown")

    read = read_one(message)

    assert read.type is MessageType.UNSUPPORTED
    assert read.errors == message["errors"]
    assert read.errors[0]["code"] == 131051


def test_errors_meta_puts_inside_the_content_are_kept_too() -> None:
    error = meta_error(131051, "Message type unknown", details="Message type is currently not supported.")

    read = read_one(meta_message("unsupported", {"type": "poll", "errors": [error]}))

    assert (read.type, read.errors) == (MessageType.UNSUPPORTED, [error])


@pytest.mark.parametrize(
    "message",
    [
        meta_message("order", {"catalog_id": "123", "product_items": [{"product_retailer_id": "SKU-1"}]}),
        meta_message(
            "system", {"body": "User changed number", "type": "user_changed_number", "wa_id": "33700000000"}
        ),
        meta_message("request_welcome"),
        meta_message("hologram", {"depth": 3}),
        meta_message("unknown", errors=[meta_error(131051, "Message type unknown")]),
    ],
    ids=["order", "system", "request_welcome", "future", "unknown"],
)
def test_a_type_this_version_does_not_know_is_kept_raw(message: JsonObject) -> None:
    read = read_one(message)

    assert read.type is MessageType.UNKNOWN
    assert read.raw == message
    assert read.errors == message.get("errors", [])


def test_a_message_without_a_type_is_unknown() -> None:
    message = meta_text()
    del message["type"]

    assert read_one(message).type is MessageType.UNKNOWN


# --- Messages: who wrote -------------------------------------------------------------------------


def test_each_sender_gets_the_profile_name_of_their_own_contact() -> None:
    # Given one change with two contacts writing, listed in the other order than their messages
    ana, bruno = "33611111111", "33622222222"
    payload = meta_payload(
        messages=[
            meta_text("Bonjour", sender=bruno),
            meta_text("Hello", sender=ana),
            meta_text("Re", sender=bruno),
        ],
        contacts=[meta_contact(ana, "Ana"), meta_contact(bruno, "Bruno")],
    )

    # When the messages are read
    read = read_messages(payload)

    # Then each carries the name of its own sender
    assert [(m.contact.address, m.contact.name) for m in read] == [
        ("+33622222222", "Bruno"),
        ("+33611111111", "Ana"),
        ("+33622222222", "Bruno"),
    ]


def test_the_only_contact_names_the_sender_even_when_its_wa_id_differs() -> None:
    # Meta's wa_id is not always the digits of `from` (Brazil's ninth digit, for one)
    payload = meta_payload(
        messages=[meta_text(sender="5511987654321")], contacts=[meta_contact("551187654321", "João")]
    )

    [read] = read_messages(payload)

    assert read.contact.address == "+5511987654321"
    assert read.contact.name == "João"
    assert read.contact.provider_id == "551187654321"


def test_a_sender_without_contact_has_no_name() -> None:
    [read] = read_messages(meta_payload(messages=[meta_text()], contacts=[]))

    assert read.contact.name is None
    assert read.contact.provider_id == CUSTOMER_WA_ID


def test_a_user_hiding_their_number_behind_a_username_is_addressed_by_business_scoped_id() -> None:
    # Given a 2026 user with a username: no `from`, a BSUID instead
    message = meta_text(sender=None, from_user_id="FR.13491208655302741918")
    contact = meta_contact("", "Chloé", user_id="FR.13491208655302741918", username="@chloe.m")
    del contact["wa_id"]

    [read] = read_messages(meta_payload(messages=[message], contacts=[contact]))

    assert read.contact.address == "FR.13491208655302741918"
    assert read.contact.user_id == "FR.13491208655302741918"
    assert read.contact.username == "@chloe.m"
    assert read.contact.name == "Chloé"
    assert read.contact.provider_id is None


def test_a_user_known_by_number_and_business_scoped_id_keeps_both() -> None:
    message = meta_text(from_user_id="FR.1349")
    contact = meta_contact(CUSTOMER_WA_ID, CUSTOMER_NAME, user_id="FR.1349", username="@chloe.m")

    [read] = read_messages(meta_payload(messages=[message], contacts=[contact]))

    assert read.contact.address == "+" + CUSTOMER_WA_ID
    assert read.contact.user_id == "FR.1349"
    assert read.contact.username == "@chloe.m"


def test_items_that_cannot_be_keyed_or_routed_are_skipped_and_the_rest_kept() -> None:
    # Given, among good messages, one without id, one without any sender, and a stray string
    without_id = meta_text("sans id")
    del without_id["id"]
    nobody = meta_text("personne", sender=None)
    payload = meta_payload(messages=[meta_text("un", id="wamid.1"), without_id, nobody])
    payload["entry"][0]["changes"][0]["value"]["messages"] += ["?", meta_text("deux", id="wamid.2")]

    # When read, nothing raises and the good ones are kept in order
    assert [m.provider_message_id for m in read_messages(payload)] == ["wamid.1", "wamid.2"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    kind=st.sampled_from(
        [
            "text",
            "image",
            "document",
            "audio",
            "video",
            "sticker",
            "location",
            "contacts",
            "interactive",
            "button",
            "reaction",
            "unsupported",
            "order",
        ]
    ),
    content=JSON,
    timestamp=JSON,
    context=JSON,
    errors=JSON,
)
def test_an_odd_message_never_raises_and_is_kept(
    kind: str, content: Any, timestamp: Any, context: Any, errors: Any
) -> None:
    message = {
        "from": CUSTOMER_WA_ID,
        "id": "wamid.ODD",
        "type": kind,
        kind: content,
        "timestamp": timestamp,
        "context": context,
        "errors": errors,
    }

    [read] = read_messages(meta_payload(messages=[message]))

    assert read.raw == message
    assert read.provider_message_id == "wamid.ODD"


# --- Batches -------------------------------------------------------------------------------------


def test_a_batch_of_entries_and_changes_keeps_meta_s_order() -> None:
    # Given 2 entries (two WABAs) of 2 changes (two numbers each) of 3 messages, plus statuses
    def change(waba: int, number: int) -> JsonObject:
        return meta_change(
            f"PN{waba}{number}",
            messages=[meta_text(f"{waba}.{number}.{n}", id=f"wamid.{waba}.{number}.{n}") for n in range(3)],
            statuses=[meta_status(f"wamid.out.{waba}.{number}.{n}", "read") for n in range(2)],
        )

    payload = meta_envelope(
        [
            meta_entry(change(1, 1), change(1, 2), waba_id="WABA1"),
            meta_entry(change(2, 1), change(2, 2), waba_id="WABA2"),
        ]
    )

    # When every change is read in turn
    found = changes(payload)
    messages = [m for c in found for m in messages_of(c, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)]
    statuses = [s for c in found for s in statuses_of(c, account_id=ACCOUNT_ID)]

    # Then entries, changes, messages and statuses come in the order Meta sent them
    assert [(c.waba_id, c.phone_number_id) for c in found] == [
        ("WABA1", "PN11"),
        ("WABA1", "PN12"),
        ("WABA2", "PN21"),
        ("WABA2", "PN22"),
    ]
    order = [(w, n, i) for w in (1, 2) for n in (1, 2) for i in range(3)]
    assert [m.provider_message_id for m in messages] == [f"wamid.{w}.{n}.{i}" for w, n, i in order]
    assert [m.text for m in messages] == [f"{w}.{n}.{i}" for w, n, i in order]
    assert [s.provider_message_id for s in statuses] == [
        f"wamid.out.{w}.{n}.{i}" for w in (1, 2) for n in (1, 2) for i in range(2)
    ]


def test_a_change_names_its_business_number() -> None:
    change = only_change(meta_payload(messages=[meta_text()]))

    assert change.waba_id == WABA_ID
    assert change.field == "messages"
    assert change.phone_number_id == PHONE_NUMBER_ID
    assert change.display_phone_number == DISPLAY_PHONE_NUMBER
    assert change.entry_time is None


def test_a_change_with_only_statuses_has_no_messages_and_the_reverse() -> None:
    statuses_only = only_change(meta_payload(statuses=[meta_status(wamid())]))
    messages_only = only_change(meta_payload(messages=[meta_text()]))

    assert messages_of(statuses_only, account_id=ACCOUNT_ID, received_at=RECEIVED_AT) == []
    assert statuses_of(messages_only, account_id=ACCOUNT_ID) == []


# --- Statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta_status_name", "expected"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("played", DeliveryStatus.READ),
        ("failed", DeliveryStatus.FAILED),
    ],
)
def test_a_status_of_our_message_maps_to_a_delivery_status(
    meta_status_name: str, expected: DeliveryStatus
) -> None:
    status = meta_status("wamid.OUT1", meta_status_name, recipient_id=CUSTOMER_WA_ID, timestamp="1739321024")

    [event] = statuses_of(only_change(meta_payload(statuses=[status])), account_id=ACCOUNT_ID)

    assert event.account_id == ACCOUNT_ID
    assert event.provider is Provider.META_CLOUD
    assert event.provider_message_id == "wamid.OUT1"
    assert event.status is expected
    assert event.occurred_at == SENT_AT
    assert event.recipient == "+" + CUSTOMER_WA_ID
    assert event.raw == status


def test_a_failure_outside_the_24_hour_window_carries_error_131047() -> None:
    # Given Meta's failed status for free text sent after the window closed
    error = meta_error(
        131047,
        "Re-engagement message",
        details="Message failed to send because more than 24 hours have passed since the customer last "
        "replied.",
    )
    status = meta_status("wamid.OUT2", "failed", errors=[error])

    # When it is read
    [event] = statuses_of(only_change(meta_payload(statuses=[status])), account_id=ACCOUNT_ID)

    # Then the code is a string to match on, and the details explain (the message only repeats the title)
    assert event.status is DeliveryStatus.FAILED
    assert event.error == ProviderError(
        code="131047",
        title="Re-engagement message",
        message="Message failed to send because more than 24 hours have passed since the customer last "
        "replied.",
    )


def test_an_error_message_that_says_more_than_its_title_is_kept() -> None:
    error = meta_error(
        131026,
        "Message undeliverable",
        message="Receiver is incapable of receiving this message",
        details=None,
    )

    [event] = statuses_of(
        only_change(meta_payload(statuses=[meta_status(wamid(), "failed", errors=[error])])),
        account_id=ACCOUNT_ID,
    )

    assert event.error == ProviderError(
        code="131026",
        title="Message undeliverable",
        message="Receiver is incapable of receiving this message",
    )


def test_statuses_we_do_not_track_are_skipped() -> None:
    statuses: list[Any] = [
        meta_status("wamid.A", "deleted"),
        meta_status("wamid.B", "delivered"),
        meta_status("wamid.C", "warning"),
        meta_status("wamid.D", "read", timestamp=None),
        {"status": "read", "timestamp": "1739321024"},
        "sent",
    ]

    events = statuses_of(only_change(meta_payload(statuses=statuses)), account_id=ACCOUNT_ID)

    assert [(e.provider_message_id, e.status) for e in events] == [("wamid.B", DeliveryStatus.DELIVERED)]


def test_a_status_for_a_user_known_only_by_business_scoped_id_names_that_id() -> None:
    status = meta_status(
        "wamid.OUT3", "delivered", recipient_id=None, recipient_user_id="FR.13491208655302741918"
    )

    [event] = statuses_of(only_change(meta_payload(statuses=[status])), account_id=ACCOUNT_ID)

    assert event.recipient == "FR.13491208655302741918"


# --- Template status -----------------------------------------------------------------------------


def test_a_rejected_template_gives_meta_s_explanation_and_recommendation() -> None:
    # Given Meta's rejection of a template (its id an integer), in an entry with a time
    change = meta_template_status(
        "REJECTED",
        template_id=1689556908129835,
        name="abandoned_cart",
        language="fr",
        reason="INVALID_FORMAT",
        rejection_info={
            "reason": "The content is the same as the content in another rejected template.",
            "recommendation": "You need to change the content of your template.",
        },
    )
    payload = meta_envelope([meta_entry(change, waba_id=WABA_ID, time=ENTRY_TIME)])

    # When it is read
    event = template_status_of(only_change(payload), received_at=RECEIVED_AT)

    # Then
    assert event is not None
    assert event.provider is Provider.META_CLOUD
    assert event.waba_id == WABA_ID
    assert event.provider_template_id == "1689556908129835"
    assert event.name == "abandoned_cart"
    assert event.language == "fr"
    assert event.event == "REJECTED"
    assert event.reason == (
        "The content is the same as the content in another rejected template. "
        "You need to change the content of your template."
    )
    assert event.occurred_at == datetime.fromtimestamp(ENTRY_TIME, tz=UTC)
    assert event.raw == change["value"]


@pytest.mark.parametrize("reason", ["NONE", None])
def test_an_approved_template_has_no_reason(reason: str | None) -> None:
    payload = meta_envelope([meta_entry(meta_template_status("APPROVED", reason=reason), time=ENTRY_TIME)])

    event = template_status_of(only_change(payload), received_at=RECEIVED_AT)

    assert event is not None
    assert (event.event, event.reason) == ("APPROVED", None)


def test_a_rejection_without_details_gives_meta_s_reason_code() -> None:
    payload = meta_envelope([meta_entry(meta_template_status("REJECTED", reason="INCORRECT_CATEGORY"))])

    event = template_status_of(only_change(payload), received_at=RECEIVED_AT)

    assert event is not None
    assert event.reason == "INCORRECT_CATEGORY"


def test_a_paused_template_says_why_from_other_info() -> None:
    change = meta_template_status(
        "PAUSED",
        reason="NONE",
        other_info={
            "title": "FIRST_PAUSE",
            "description": "Your template was paused for 3 hours due to low quality.",
        },
    )

    event = template_status_of(only_change(meta_envelope([meta_entry(change)])), received_at=RECEIVED_AT)

    assert event is not None
    assert event.reason == "Your template was paused for 3 hours due to low quality."


def test_a_template_update_without_entry_time_happened_when_received() -> None:
    payload = meta_envelope([meta_entry(meta_template_status("APPROVED"))])

    event = template_status_of(only_change(payload), received_at=RECEIVED_AT)

    assert event is not None
    assert event.occurred_at == RECEIVED_AT


def test_a_template_update_concerns_the_waba_and_holds_no_messages() -> None:
    change = only_change(meta_envelope([meta_entry(meta_template_status("APPROVED"))]))

    assert change.phone_number_id is None
    assert messages_of(change, account_id=ACCOUNT_ID, received_at=RECEIVED_AT) == []
    assert statuses_of(change, account_id=ACCOUNT_ID) == []


def test_other_changes_are_not_template_updates() -> None:
    assert (
        template_status_of(only_change(meta_payload(messages=[meta_text()])), received_at=RECEIVED_AT) is None
    )


def test_a_template_update_without_template_id_gives_nothing() -> None:
    change = meta_template_status("APPROVED")
    del change["value"]["message_template_id"]

    assert (
        template_status_of(only_change(meta_envelope([meta_entry(change)])), received_at=RECEIVED_AT) is None
    )


# --- Account errors ------------------------------------------------------------------------------


def test_account_level_errors_are_exposed_for_logging() -> None:
    error = {"code": 131000, "title": "Something went wrong", "error_data": {"details": "Try again later"}}
    change = only_change(meta_envelope([meta_entry(meta_change(errors=[error]))]))

    assert account_errors(change) == [error]
    assert account_errors(only_change(meta_payload(messages=[meta_text()]))) == []


# --- Malformed payloads --------------------------------------------------------------------------


def without(mapping: JsonObject, key: str) -> JsonObject:
    return {k: v for k, v in mapping.items() if k != key}


GOOD = meta_payload(messages=[meta_text()])
GOOD_ENTRY = GOOD["entry"][0]
GOOD_CHANGE = GOOD_ENTRY["changes"][0]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(["not", "an", "object"], id="not-an-object"),
        pytest.param(without(GOOD, "object"), id="object-missing"),
        pytest.param({**GOOD, "object": "page"}, id="object-wrong"),
        pytest.param({**GOOD, "entry": GOOD_ENTRY}, id="entry-not-a-list"),
        pytest.param(without(GOOD, "entry"), id="entry-missing"),
        pytest.param({**GOOD, "entry": ["WABA"]}, id="entry-not-an-object"),
        pytest.param({**GOOD, "entry": [without(GOOD_ENTRY, "id")]}, id="entry-without-id"),
        pytest.param({**GOOD, "entry": [{**GOOD_ENTRY, "changes": GOOD_CHANGE}]}, id="changes-not-a-list"),
        pytest.param(
            {**GOOD, "entry": [{**GOOD_ENTRY, "changes": [without(GOOD_CHANGE, "value")]}]},
            id="change-without-value",
        ),
        pytest.param(
            {**GOOD, "entry": [{**GOOD_ENTRY, "changes": [{**GOOD_CHANGE, "value": "x"}]}]},
            id="value-not-an-object",
        ),
        pytest.param(
            {**GOOD, "entry": [{**GOOD_ENTRY, "changes": [without(GOOD_CHANGE, "field")]}]},
            id="change-without-field",
        ),
    ],
)
def test_a_payload_that_is_not_a_whatsapp_webhook_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        changes(payload)


def test_malformed_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="object"):
        changes({"object": "instagram", "entry": []})


def test_messages_that_are_not_a_list_are_malformed() -> None:
    change = MetaChange(waba_id=WABA_ID, field="messages", value={"messages": {"id": "wamid.1"}})

    with pytest.raises(MalformedPayload):
        messages_of(change, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)


def test_an_empty_batch_has_no_changes() -> None:
    assert changes(meta_envelope([])) == []


def test_numeric_ids_in_test_payloads_are_read_as_strings() -> None:
    # Meta's dashboard "test" button sends entry id 0; numbers may come where strings are usual
    payload = meta_payload(messages=[meta_text()])
    payload["entry"][0]["id"] = 0
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = 123456123

    [change] = changes(payload)

    assert (change.waba_id, change.phone_number_id) == ("0", "123456123")


def test_every_builder_message_type_is_read_without_loss() -> None:
    messages = [
        meta_text(),
        meta_image(),
        meta_document(),
        meta_audio(),
        meta_video(),
        meta_sticker(),
        meta_location(),
        meta_contacts(),
        meta_button_reply(),
        meta_list_reply(),
        meta_template_button(),
        meta_reaction("wamid.X"),
        meta_unsupported(),
        meta_media("image", caption=None),
    ]

    read = read_messages(meta_payload(messages=messages))

    assert [m.raw for m in read] == messages
    assert MessageType.UNKNOWN not in {m.type for m in read}
