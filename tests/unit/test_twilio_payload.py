from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from inbox.accounts.models import Channel, Provider
from inbox.routing.events import (
    DeliveryStatus,
    Location,
    Media,
    MessageType,
    ProviderError,
    QueuedEvent,
    Reply,
)
from inbox.whatsapp import MalformedPayload
from inbox.whatsapp.twilio_payload import (
    business_number,
    is_status_callback,
    message_of,
    sender_number,
    status_of,
)
from whatsapp_payloads import (
    CUSTOMER_NAME,
    CUSTOMER_NUMBER,
    TWILIO_NUMBER,
    FormParams,
    twilio_button,
    twilio_form,
    twilio_inbound,
    twilio_location,
    twilio_media,
    twilio_media_url,
    twilio_status,
)

ACCOUNT_ID = "acc-twilio-lyon"
RECEIVED_AT = datetime(2025, 2, 12, 9, 30, 5, tzinfo=UTC)


def read(params: FormParams) -> FormParams:
    """The parameters as the webhook gets them: through the form-encoded body."""
    return dict(parse_qsl(twilio_form(params).decode(), keep_blank_values=True))


# --- Inbound messages ----------------------------------------------------------------------------


def test_a_text_becomes_a_twilio_whatsapp_message_from_the_contact() -> None:
    # Given Twilio's inbound webhook for a text
    params = read(
        twilio_inbound(MessageSid="SM11111111111111111111111111111111", Body="Ma commande est arrivée ?")
    )

    # When it is read
    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    # Then it is keyed by the MessageSid, from the contact's E.164 number, with their profile
    assert message.account_id == ACCOUNT_ID
    assert message.channel is Channel.WHATSAPP
    assert message.provider is Provider.TWILIO
    assert message.provider_message_id == "SM11111111111111111111111111111111"
    assert message.contact.address == CUSTOMER_NUMBER
    assert message.contact.name == CUSTOMER_NAME
    assert message.contact.provider_id == CUSTOMER_NUMBER.removeprefix("+")
    assert message.type is MessageType.TEXT
    assert message.text == "Ma commande est arrivée ?"
    assert message.media == []
    # Twilio sends no sender time: the message counts as sent when received
    assert message.sent_at == RECEIVED_AT
    assert message.received_at == RECEIVED_AT
    assert message.raw == params


def test_two_media_items_arrive_as_urls_typed_by_the_first() -> None:
    # Given a photo and a PDF sent together, with a caption
    photo, invoice = twilio_media_url(), twilio_media_url()
    params = read(
        twilio_inbound(**twilio_media((photo, "image/jpeg"), (invoice, "application/pdf")), Body="Voici")
    )

    # When it is read
    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    # Then both media are kept in order, the type is the first's, and the body is the caption text
    assert message.media == [
        Media(url=photo, mime_type="image/jpeg"),
        Media(url=invoice, mime_type="application/pdf"),
    ]
    assert message.type is MessageType.IMAGE
    assert message.text == "Voici"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("image/jpeg", MessageType.IMAGE),
        ("image/webp", MessageType.IMAGE),
        ("video/mp4", MessageType.VIDEO),
        ("audio/ogg", MessageType.AUDIO),
        ("application/pdf", MessageType.DOCUMENT),
        ("text/vcard", MessageType.DOCUMENT),
    ],
)
def test_the_media_type_follows_the_content_type(content_type: str, expected: MessageType) -> None:
    params = twilio_inbound(**twilio_media((twilio_media_url(), content_type)), Body="")

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.type is expected
    assert message.text is None


@pytest.mark.parametrize("num_media", ["1", "many", ""])
def test_a_media_count_without_media_urls_yields_no_media(num_media: str) -> None:
    params = twilio_inbound(NumMedia=num_media, Body="Bonjour")

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert (message.type, message.media) == (MessageType.TEXT, [])


def test_a_shared_location_gives_coordinates_label_and_address() -> None:
    params = read(
        twilio_inbound(
            **twilio_location("45.7640", "4.8357", address="Place Bellecour, Lyon", label="Bellecour")
        )
    )

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.type is MessageType.LOCATION
    assert message.location == Location(
        latitude=45.764, longitude=4.8357, name="Bellecour", address="Place Bellecour, Lyon"
    )
    assert message.text is None


def test_unreadable_coordinates_are_not_a_location() -> None:
    params = twilio_inbound(Latitude="north", Longitude="4.8357", Body="Je suis là")

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert (message.type, message.location) == (MessageType.TEXT, None)


def test_a_button_tap_gives_its_payload_and_text() -> None:
    params = read(twilio_inbound(**twilio_button("confirm-delivery", "Oui, confirmer")))

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.type is MessageType.BUTTON
    assert message.reply == Reply(id="confirm-delivery", title="Oui, confirmer")
    assert message.text == "Oui, confirmer"


def test_a_list_choice_gives_its_id_and_title() -> None:
    params = twilio_inbound(
        ListId="slot-tue-am", ListTitle="Mardi matin", Body="Mardi matin", MessageType="interactive"
    )

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.type is MessageType.INTERACTIVE
    assert message.reply == Reply(id="slot-tue-am", title="Mardi matin")
    assert message.text == "Mardi matin"


def test_a_reply_names_the_message_it_answers() -> None:
    params = twilio_inbound(OriginalRepliedMessageSid="MM5cc44eecf7dab0d48d4529d0fa4af44d", Body="Oui")

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.reply_to_provider_id == "MM5cc44eecf7dab0d48d4529d0fa4af44d"


def test_a_message_with_nothing_we_know_is_kept_raw_as_unknown() -> None:
    params = twilio_inbound(Body="", MessageType="unsupported")

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.type is MessageType.UNKNOWN
    assert message.text is None
    assert message.raw == params


def test_parameters_twilio_adds_later_are_kept_raw() -> None:
    params = twilio_inbound(ReferralCtwaClid="ARAkLkA8rmlFeiCk", ChannelMetadata='{"type":"whatsapp"}')

    message = message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)

    assert message.raw["ReferralCtwaClid"] == "ARAkLkA8rmlFeiCk"
    assert message.type is MessageType.TEXT


def test_a_contact_without_profile_has_no_name() -> None:
    message = message_of(
        twilio_inbound(ProfileName=None, WaId=None), account_id=ACCOUNT_ID, received_at=RECEIVED_AT
    )

    assert (message.contact.name, message.contact.provider_id) == (None, None)


def test_a_queued_twilio_message_reads_back_the_same() -> None:
    message = message_of(
        twilio_inbound(**twilio_media((twilio_media_url(), "image/png"))),
        account_id=ACCOUNT_ID,
        received_at=RECEIVED_AT,
    )

    assert QueuedEvent.model_validate_json(QueuedEvent(event=message).model_dump_json()).event == message


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_a_request_without_message_sid_or_sender_is_malformed(missing: str) -> None:
    params = twilio_inbound(**{missing: None})

    with pytest.raises(MalformedPayload, match=missing):
        message_of(params, account_id=ACCOUNT_ID, received_at=RECEIVED_AT)


def test_an_empty_message_sid_is_missing() -> None:
    with pytest.raises(MalformedPayload):
        message_of(twilio_inbound(MessageSid=""), account_id=ACCOUNT_ID, received_at=RECEIVED_AT)


# --- Numbers -------------------------------------------------------------------------------------


def test_numbers_lose_their_whatsapp_prefix() -> None:
    params = twilio_inbound()

    assert sender_number(params) == CUSTOMER_NUMBER
    assert business_number(params) == TWILIO_NUMBER


def test_a_plus_decoded_as_a_space_is_restored() -> None:
    # `whatsapp:+336…` posted unencoded and parsed as a form: the `+` became a space
    params = twilio_inbound(From="whatsapp: 33612345678")

    assert sender_number(params) == "+33612345678"


def test_a_number_without_prefix_is_taken_as_is() -> None:
    assert sender_number(twilio_inbound(From="+33612345678")) == "+33612345678"


def test_a_missing_number_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="To"):
        business_number(twilio_inbound(To=None))


# --- Status callbacks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("twilio_status_name", "expected"),
    [
        ("accepted", DeliveryStatus.QUEUED),
        ("scheduled", DeliveryStatus.QUEUED),
        ("queued", DeliveryStatus.QUEUED),
        ("sending", DeliveryStatus.QUEUED),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("failed", DeliveryStatus.FAILED),
        ("undelivered", DeliveryStatus.FAILED),
        ("canceled", DeliveryStatus.FAILED),
    ],
)
def test_a_status_callback_maps_to_a_delivery_status(
    twilio_status_name: str, expected: DeliveryStatus
) -> None:
    # Given Twilio's callback on a message we sent to the contact
    params = read(twilio_status(twilio_status_name, message_sid="SM22222222222222222222222222222222"))

    # When it is read
    event = status_of(params, account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT)

    # Then
    assert event is not None
    assert event.account_id == ACCOUNT_ID
    assert event.provider is Provider.TWILIO
    assert event.provider_message_id == "SM22222222222222222222222222222222"
    assert event.status is expected
    assert event.occurred_at == RECEIVED_AT
    assert event.recipient == CUSTOMER_NUMBER
    assert event.error is None
    assert event.raw == params


def test_an_undelivered_message_carries_twilio_s_error_code() -> None:
    # Given an undelivered callback with error 63016 (free text outside the 24-hour window)
    params = twilio_status("undelivered", ErrorCode="63016")

    # When it is read
    event = status_of(params, account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT)

    # Then
    assert event is not None
    assert event.status is DeliveryStatus.FAILED
    assert event.error == ProviderError(code="63016")


def test_an_error_message_is_kept_when_twilio_gives_one() -> None:
    params = twilio_status("failed", ErrorCode="63024", ErrorMessage="Invalid message recipient")

    event = status_of(params, account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT)

    assert event is not None
    assert event.error == ProviderError(code="63024", message="Invalid message recipient")


@pytest.mark.parametrize("status", ["received", "receiving", "partially_delivered", "", None])
def test_a_status_we_do_not_track_gives_nothing(status: str | None) -> None:
    assert (
        status_of(twilio_status(MessageStatus=status), account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT) is None
    )


def test_a_status_callback_without_message_sid_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="MessageSid"):
        status_of(twilio_status(MessageSid=None), account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT)


def test_a_status_callback_without_recipient_has_none() -> None:
    event = status_of(twilio_status("sent", To=None), account_id=ACCOUNT_ID, occurred_at=RECEIVED_AT)

    assert event is not None
    assert event.recipient is None


def test_a_status_callback_tells_itself_apart_from_an_inbound_message() -> None:
    assert is_status_callback(twilio_status("delivered"))
    assert is_status_callback(twilio_status("failed", ErrorCode="63016"))
    assert not is_status_callback(twilio_inbound())
    assert not is_status_callback(twilio_inbound(MessageStatus="received"))
