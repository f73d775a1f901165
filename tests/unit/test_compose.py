"""Outgoing email: every email we send is composed once, and reads back as the contract says."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from inbox.email.compose import Answered, NoRecipient, Outgoing, compose, new_message_id, reply_subject
from inbox.email.parsing import html_text
from inbox.signatures import sanitize_html

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LOGO = "data:image/png;base64," + base64.b64encode(PNG).decode()
SIGNATURE = sanitize_html(
    "<p>Élodie Martin<br><b>Support</b> · Café Shop</p>"
    f'<img src="{LOGO}" alt="logo"><img src="https://cdn.example/banner.png" alt="banner">'
)
SIGNATURE_TEXT = html_text(SIGNATURE)


def _answered(**overrides: Any) -> Answered:
    fields: dict[str, Any] = {
        "message_id": "parent@customer.example",
        "references": ["root@customer.example", "middle@shop.example"],
        "subject": "Re: RE: Order 1234",
        "reply_to": [],
        "sender": ("Zoë Customer", "zoe@customer.example"),
    }
    return Answered(**{**fields, **overrides})


def _compose(**overrides: Any) -> Outgoing:
    arguments: dict[str, Any] = {
        "from_address": "help@Shop.Example",
        "from_name": "Équipe Café",
        "text": "Hello Zoë,\n\nyour order ships today.",
        "html": None,
        "signature_html": SIGNATURE,
        "answered": _answered(),
        "now": NOW,
    }
    return compose(**{**arguments, **overrides})


def _read_back(outgoing: Outgoing) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(outgoing.message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def _bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    return _lines(plain.get_content()), _lines(html.get_content())


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n")


# Headers


def test_a_reply_carries_the_headers_of_the_contract() -> None:
    # Given a customer's message with a thread behind it
    # When an agent's reply is composed
    outgoing = _compose()

    # Then it reads back with every header a reply needs
    message = _read_back(outgoing)
    assert message["From"].addresses[0].display_name == "Équipe Café"
    assert message["From"].addresses[0].addr_spec == "help@Shop.Example"
    assert str(message["To"]) == "Zoë Customer <zoe@customer.example>"
    assert outgoing.to == "zoe@customer.example"
    assert message["Subject"] == "Re: Order 1234"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Message-ID"] == f"<{outgoing.message_id}>"
    assert outgoing.message_id.endswith("@shop.example")
    assert message["In-Reply-To"] == "<parent@customer.example>"
    assert message["References"].split() == [
        "<root@customer.example>",
        "<middle@shop.example>",
        "<parent@customer.example>",
    ]
    assert message["MIME-Version"] == "1.0"
    assert "Auto-Submitted" not in message
    assert "X-Auto-Response-Suppress" not in message


def test_a_reply_goes_to_the_reply_to_address_when_there_is_one() -> None:
    answered = _answered(reply_to=[("Orders desk", "orders@customer.example")])

    message = _read_back(outgoing := _compose(answered=answered))

    assert str(message["To"]) == "Orders desk <orders@customer.example>"
    assert outgoing.to == "orders@customer.example"


def test_every_email_gets_its_own_message_id_on_the_account_domain() -> None:
    ids = {_compose().message_id for _ in range(50)}

    assert len(ids) == 50
    assert all(message_id.endswith("@shop.example") for message_id in ids)
    assert new_message_id("Shop.Example").endswith("@shop.example")
    assert "<" not in new_message_id("shop.example")


def test_an_automatic_reply_says_so() -> None:
    message = _read_back(_compose(automatic=True, answered=_answered(subject="Order 1234")))

    assert message["Subject"] == "Auto: Order 1234"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] == "<parent@customer.example>"


@pytest.mark.parametrize(
    ("subject", "automatic", "expected"),
    [
        ("Re: RE: Order 1234", False, "Re: Order 1234"),
        ("Order 1234", False, "Re: Order 1234"),
        ("AW: Réf : re[2]: Order", False, "Re: Order"),
        ("Fwd: Order", False, "Re: Fwd: Order"),
        ("Regarding the order", False, "Re: Regarding the order"),
        ("Order 1234", True, "Auto: Order 1234"),
        ("Auto: Re: Order 1234", True, "Auto: Order 1234"),
        ("", False, "Re: (no subject)"),
        (None, True, "Auto: (no subject)"),
        ("Order\r\n 1234", False, "Re: Order 1234"),
    ],
)
def test_a_reply_subject_has_one_prefix(subject: str | None, automatic: bool, expected: str) -> None:
    assert reply_subject(subject, automatic=automatic) == expected


def test_a_long_thread_keeps_its_first_and_last_ten_references() -> None:
    # Given a thread of 30 messages, one of them with a very long Message-ID
    references = [f"m{i}.{'x' * (90 if i == 25 else 8)}@customer.example" for i in range(30)]

    outgoing = _compose(answered=_answered(references=references))

    # Then References holds the root, the last ten, and the parent last, folded into short lines
    message = _read_back(outgoing)
    assert message["References"].split() == [
        f"<{reference}>" for reference in [references[0], *references[-9:], "parent@customer.example"]
    ]
    head = outgoing.message.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


def test_an_answered_message_without_ids_gives_no_threading_headers() -> None:
    message = _read_back(_compose(answered=_answered(message_id=None, references=[])))

    assert "In-Reply-To" not in message
    assert "References" not in message


def test_the_parent_id_is_not_repeated_in_references() -> None:
    answered = _answered(references=["root@customer.example", "parent@customer.example"])

    message = _read_back(_compose(answered=answered))

    assert message["References"].split() == ["<root@customer.example>", "<parent@customer.example>"]


# Recipients


@pytest.mark.parametrize("robot", ["noreply@x.example", "mailer-daemon@x", "list-request@x"])
def test_an_automatic_reply_never_goes_to_a_robot_or_a_list(robot: str) -> None:
    for answered in [_answered(sender=(None, robot)), _answered(reply_to=[("List", robot)])]:
        with pytest.raises(NoRecipient, match=robot):
            _compose(automatic=True, answered=answered)


def test_an_agent_may_answer_a_no_reply_address() -> None:
    outgoing = _compose(answered=_answered(sender=(None, "noreply@x.example")))

    assert outgoing.to == "noreply@x.example"


def test_an_answered_message_without_an_address_has_no_recipient() -> None:
    with pytest.raises(NoRecipient):
        _compose(answered=_answered(sender=None, reply_to=[]))


def test_a_new_conversation_goes_to_the_given_address_with_the_given_subject() -> None:
    outgoing = _compose(answered=None, to="Zoë <zoe@customer.example>", subject="Your invoice")

    message = _read_back(outgoing)
    assert outgoing.to == "zoe@customer.example"
    assert str(message["To"]) == "Zoë <zoe@customer.example>"
    assert message["Subject"] == "Your invoice"
    assert "In-Reply-To" not in message
    assert "References" not in message


@pytest.mark.parametrize(
    ("to", "subject"), [(None, "Your invoice"), ("zoe@customer.example", None), ("zoe@customer.example", " ")]
)
def test_a_new_conversation_needs_an_address_and_a_subject(to: str | None, subject: str | None) -> None:
    with pytest.raises(ValueError, match="new conversation"):
        _compose(answered=None, to=to, subject=subject)


def test_the_date_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        _compose(now=datetime(2025, 3, 14, 9, 26))  # naive


# Body and signature


def test_the_body_is_plain_text_then_html() -> None:
    message = _read_back(_compose(signature_html=None))

    assert message.get_content_type() == "multipart/alternative"
    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert _lines(plain.get_content()).rstrip() == "Hello Zoë,\n\nyour order ships today."


def test_html_is_made_from_the_text_escaped_with_paragraphs_and_line_breaks() -> None:
    text = "Dear <Zoë> & co,\nline two\n\n\nnext paragraph"

    _, html = _bodies(_read_back(_compose(text=text, signature_html=None)))

    assert html.strip() == "<p>Dear &lt;Zoë&gt; &amp; co,<br>\nline two</p>\n<p>next paragraph</p>"


def test_the_signature_is_appended_once_to_each_part() -> None:
    plain, html = _bodies(_read_back(_compose()))

    assert plain.rstrip().endswith(f"your order ships today.\n\n-- \n{SIGNATURE_TEXT}")
    assert plain.count("Élodie Martin") == 1
    assert html.count('class="signature"') == 1
    assert html.count("Élodie Martin") == 1
    assert html.index("your order ships today.") < html.index('class="signature"')


def test_a_body_that_already_ends_with_the_signature_does_not_get_it_again() -> None:
    # Given a draft where the agent's editor already put the signature (its spacing rewrapped)
    text = "Hello Zoë,\n\nyour order ships today.\n\n-- \n" + SIGNATURE_TEXT.replace("\n", "   \n  ") + "\n\n"

    plain, html = _bodies(_read_back(_compose(text=text)))

    # Then each part shows it once, the HTML in its formatted form
    assert plain.count("Élodie Martin") == 1
    assert plain.count("-- \n") == 1
    assert html.count("Élodie Martin") == 1
    assert html.count('class="signature"') == 1
    assert "-- " not in html_text(html)


def test_html_that_already_contains_the_signature_does_not_get_it_again() -> None:
    html_body = f"<p>Hello Zoë</p>{SIGNATURE}"

    plain, html = _bodies(_read_back(_compose(text="Hello Zoë", html=html_body)))

    assert html.count("Élodie Martin") == 1
    assert plain.count("Élodie Martin") == 1


def test_the_signature_goes_inside_the_body_of_an_html_document() -> None:
    _, html = _bodies(_read_back(_compose(html="<html><body><p>Hi</p></body></html>")))

    assert html.index('class="signature"') < html.index("</body>")


def test_an_inline_signature_image_becomes_a_related_part_named_by_its_cid() -> None:
    message = _read_back(_compose())

    # Then: alternative [plain, related [html, image]]
    plain, related = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, image = list(related.iter_parts())
    assert html_part.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image.get_content() == PNG
    content_id = image["Content-ID"].strip("<>")
    assert content_id.endswith("@shop.example")
    html = _lines(html_part.get_content())
    assert f'src="cid:{content_id}"' in html
    assert "data:image" not in html
    assert 'src="https://cdn.example/banner.png"' in html


def test_the_same_inline_image_twice_is_one_part() -> None:
    signature = sanitize_html(f'<img src="{LOGO}"><img src="{LOGO}">')

    message = _read_back(_compose(signature_html=signature))

    images = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert len(images) == 1
    _, html = _bodies(message)
    assert html.count(f"cid:{images[0]['Content-ID'].strip('<>')}") == 2


def test_non_ascii_and_long_lines_are_encoded_for_any_mail_server() -> None:
    long_line = "ü" + "a" * 2000
    outgoing = _compose(text=f"Grüße\n{long_line}", signature_html=None)

    raw = outgoing.message.as_bytes()
    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = _read_back(outgoing)
    for part in message.iter_parts():
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    plain, html = _bodies(message)
    assert long_line in plain.splitlines()
    assert long_line in html


def test_a_long_ascii_line_survives_too() -> None:
    long_line = "word " * 400

    plain, _ = _bodies(_read_back(_compose(text=long_line, signature_html=None)))

    assert plain.rstrip() == long_line.rstrip()
