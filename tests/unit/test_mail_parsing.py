from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from email_corpus import CORPUS, PDF, PNG, CorpusMail, cc_people, corpus_mail, large_attachment
from inbox.email.automatic import automatic_message_reason
from inbox.email.parsing import (
    Address,
    ParsedMail,
    Unparseable,
    message_id_of,
    message_identity,
    parse_mail,
)

STORED = [mail for mail in CORPUS if mail.outcome == "stored"]
QUARANTINED = [mail for mail in CORPUS if mail.outcome == "quarantined"]


def _parsed(name: str) -> ParsedMail:
    return parse_mail(corpus_mail(name).raw)


@pytest.mark.parametrize("mail", STORED, ids=lambda mail: mail.name)
def test_a_mail_that_can_be_stored_parses_with_what_it_says(mail: CorpusMail) -> None:
    parsed = parse_mail(mail.raw)

    assert parsed.contact is not None
    assert parsed.message_id == mail.message_id
    assert len(parsed.attachments) == mail.attachments
    assert len(parsed.cc) == mail.cc_count
    if mail.subject is not None:
        assert parsed.subject == mail.subject
    if mail.text_contains is not None:
        assert mail.text_contains in parsed.text
    assert all("\r" not in value and "\n" not in value for value in parsed.headers.values())


@pytest.mark.parametrize("mail", QUARANTINED, ids=lambda mail: mail.name)
def test_a_mail_that_cannot_be_stored_is_unparseable_with_a_reason(mail: CorpusMail) -> None:
    with pytest.raises(Unparseable) as raised:
        parse_mail(mail.raw)

    assert raised.value.reason.strip()
    if mail.reason_contains is not None:
        assert mail.reason_contains in raised.value.reason


def test_the_corpus_covers_both_outcomes_and_has_unique_names() -> None:
    names = [mail.name for mail in CORPUS]
    assert len(names) == len(set(names))
    assert len(STORED) >= 20
    assert len(QUARANTINED) >= 3


# Headers, addresses, threading


def test_a_plain_mail_gives_its_sender_recipients_date_and_text() -> None:
    parsed = _parsed("plain-text")

    assert parsed.sender == Address("ana@customer.example", "Ana Silva")  # domain lower-cased
    assert parsed.to == [Address("support@shop.example", "Support")]
    assert parsed.date == datetime(2025, 3, 4, 9, 15, tzinfo=UTC)
    assert parsed.date is not None
    assert parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.text == "Hello,\nwhere is my order 1234?\n\nAna"
    assert parsed.html is None
    assert parsed.reply_to == []
    assert parsed.in_reply_to == parsed.references == []


def test_the_contact_is_the_reply_to_address_rather_than_from() -> None:
    parsed = _parsed("reply-to-differs")

    assert parsed.sender == Address("noreply@platform.example", "Shop Platform")
    assert parsed.contact == Address("Bea@customer.example", "Bea Costa")  # only the domain lower-cased


def test_a_reply_names_the_messages_it_answers_without_brackets_or_comments() -> None:
    parsed = _parsed("reply-with-references")

    assert parsed.in_reply_to == ["order-1234@shop.example"]
    assert parsed.references == ["first@shop.example", "order-1234@shop.example"]
    assert parsed.headers["References"] == "<first@shop.example> <order-1234@shop.example>"


def test_a_hundred_cc_recipients_all_come_through_with_their_names() -> None:
    parsed = _parsed("cc-100")

    assert [cc.address for cc in parsed.cc] == cc_people()
    assert parsed.cc[0].name == "Doe, Jane 0"
    assert parsed.cc[1].name == "Zoë Ünal 1"


def test_an_auto_reply_keeps_the_headers_the_loop_protection_reads() -> None:
    parsed = _parsed("auto-reply")

    assert parsed.headers["Auto-Submitted"] == "auto-replied"
    assert automatic_message_reason(parsed.headers, parsed.sender.address if parsed.sender else None) == (
        "Auto-Submitted: auto-replied"
    )
    assert automatic_message_reason(_parsed("plain-text").headers, "ana@customer.example") is None


def test_headers_with_raw_8bit_bytes_become_readable_text() -> None:
    parsed = _parsed("eight-bit-headers")

    assert parsed.sender == Address("jose@customer.example", "José Muñoz")  # UTF-8 bytes
    assert parsed.subject == "Résumé attached"  # Latin-1 bytes
    assert parsed.headers["Subject"] == "Résumé attached"


def test_encoded_word_names_are_decoded() -> None:
    assert _parsed("latin-1").sender == Address("andre@customer.example", "André Müller")


def test_a_header_only_mail_has_empty_text() -> None:
    parsed = _parsed("header-only")

    assert (parsed.text, parsed.html, parsed.attachments) == ("", None, [])


def test_a_reply_to_without_from_still_gives_a_contact() -> None:
    parsed = parse_mail(b"Reply-To: Ana <ana@customer.example>\r\nSubject: hi\r\n\r\nBody\r\n")

    assert parsed.sender is None
    assert parsed.contact == Address("ana@customer.example", "Ana")


def test_an_unparseable_date_is_none_and_a_malformed_header_does_not_fail() -> None:
    raw = (
        b"From: ana@customer.example\r\nDate: the day before yesterday\r\n"
        b'To: <<broken@@\r\nContent-Type: text/plain; charset="\r\n\r\nBody\r\n'
    )

    parsed = parse_mail(raw)

    assert parsed.date is None
    assert parsed.text == "Body"
    assert parsed.headers["Date"] == "the day before yesterday"


# Charsets and transfer encodings


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("quoted-printable", "Un café et une crème brûlée, s'il vous plaît, avec une soft line break."),
        ("base64-text", "Grüße aus München!"),
        ("eight-bit-no-charset", "naïve façade"),
        ("eight-bit-cp1252-no-charset", "café for €5"),
        ("latin-1", "Un café crème, à emporter."),
        ("shift-jis", "日本語のテキストです。"),
        ("iso-2022-jp", "ご注文ありがとうございます。"),
        ("unknown-charset", "Déjà vu."),
    ],
)
def test_text_is_decoded_from_its_charset(name: str, text: str) -> None:
    assert _parsed(name).text == text


@pytest.mark.parametrize(("name", "subject"), [("latin-1", "Café crème"), ("shift-jis", "日本語の件名")])
def test_encoded_word_subjects_are_decoded(name: str, subject: str) -> None:
    assert _parsed(name).subject == subject


# Structure: alternatives, attachments, nesting, broken MIME


def test_an_alternative_gives_the_plain_text_and_the_sanitized_html() -> None:
    parsed = _parsed("multipart-alternative")

    assert parsed.text == "The plain rendering."
    assert parsed.html == "<p>The <b>HTML</b> rendering.</p>"
    assert parsed.attachments == []


def test_attachments_keep_their_decoded_filenames_types_and_bytes() -> None:
    parsed = _parsed("multipart-mixed-pdf")

    pdf, csv = parsed.attachments
    assert (pdf.filename, pdf.content_type, pdf.content, pdf.inline) == (
        "invoice.pdf",
        "application/pdf",
        PDF,
        False,
    )
    assert (csv.filename, csv.content_type, csv.content) == ("façture été.csv", "text/csv", b"a;b\n1;2\n")
    assert "a;b" not in parsed.text  # a text attachment is not the body


def test_encoded_word_and_rfc2231_filenames_are_decoded() -> None:
    raw = (
        b"From: ana@customer.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nBody\r\n"
        b'--b\r\nContent-Type: application/pdf; name="=?utf-8?b?ZsOgY3R1cmUucGRm?="\r\n\r\nx\r\n'
        b"--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=iso-8859-1''r%E9sum%E9.pdf\r\n\r\nx\r\n--b--\r\n"
    )

    assert [a.filename for a in parse_mail(raw).attachments] == ["fàcture.pdf", "résumé.pdf"]


def test_text_from_html_survives_an_unclosed_head_and_keeps_line_breaks() -> None:
    raw = (
        b"From: a@customer.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><title>Hidden</title><body><div>Line&nbsp;one</div>two<br/>three &lt;4&gt;</body>\r\n"
    )

    parsed = parse_mail(raw)

    assert parsed.text == "Line one\ntwo\nthree <4>"
    assert parsed.html is not None
    assert "Hidden" not in parsed.html


def test_a_nested_message_is_one_attachment_and_not_part_of_the_body() -> None:
    parsed = _parsed("nested-rfc822")

    (nested,) = parsed.attachments
    assert nested.content_type == "message/rfc822"
    assert nested.filename == "Original offer.eml"
    assert b"The inner secret text of the forwarded offer." in nested.content
    assert parse_mail(nested.content).subject == "Original offer"
    assert "inner secret" not in parsed.text


def test_an_html_only_mail_is_sanitized_and_its_text_derived_from_it() -> None:
    parsed = _parsed("html-only-script-cid")

    assert parsed.html is not None
    assert "<script" not in parsed.html
    assert "stolen" not in parsed.html
    assert "Ignored title" not in parsed.html
    assert "<b>there</b>" in parsed.html
    assert parsed.text == "Spring sale\n\nHello there,\nprices are down & up."


def test_an_inline_image_is_an_attachment_flagged_inline_with_its_content_id() -> None:
    (logo,) = _parsed("html-only-script-cid").attachments

    assert (logo.content_type, logo.content_id, logo.inline, logo.content) == (
        "image/png",
        "logo@corpus.example",
        True,
        PNG,
    )


def test_a_missing_closing_boundary_still_gives_text_and_attachment() -> None:
    parsed = _parsed("broken-boundary-unclosed")

    assert parsed.text == "The text before the missing closing boundary."
    assert parsed.attachments[0].filename == "cut.pdf"
    assert parsed.attachments[0].content == PDF
    assert any("CloseBoundaryNotFound" in defect for defect in parsed.defects)


def test_a_wrong_boundary_still_gives_the_text_without_mime_headers() -> None:
    parsed = _parsed("broken-boundary-wrong")

    assert parsed.text == "The body behind the wrong boundary."
    assert parsed.html == "<p>The body behind the wrong boundary.</p>"
    assert any("StartBoundaryNotFound" in defect for defect in parsed.defects)


def test_a_multipart_without_any_boundary_is_read_as_text() -> None:
    raw = b"From: a@customer.example\r\nContent-Type: multipart/mixed\r\n\r\nJust text.\r\n"

    assert parse_mail(raw).text == "Just text."


def test_a_10_mb_attachment_comes_through_whole_and_fast() -> None:
    raw = corpus_mail("large-attachment").raw

    started = time.perf_counter()
    parsed = parse_mail(raw)
    elapsed = time.perf_counter() - started

    (big,) = parsed.attachments
    assert (big.filename, big.content_type) == ("big.bin", "application/octet-stream")
    assert big.content == large_attachment()
    assert elapsed < 2.0  # about 0.35 s; a quadratic step would take minutes


# Identity


def test_message_id_of_strips_brackets_and_whitespace() -> None:
    assert message_id_of("<a@b>") == message_id_of(" a@b ") == "a@b"
    assert message_id_of("<a@b> (comment)") == "a@b"
    assert message_id_of("<>") is None
    assert message_id_of("  ") is None
    assert message_id_of(None) is None


@pytest.mark.parametrize("mail", [mail for mail in CORPUS if mail.message_id], ids=lambda mail: mail.name)
def test_the_identity_of_a_mail_with_a_message_id_is_that_id(mail: CorpusMail) -> None:
    assert message_identity(mail.raw) == f"mid:{mail.message_id}"


def test_two_copies_with_one_message_id_have_one_identity() -> None:
    first, second = corpus_mail("duplicate-message-id-1"), corpus_mail("duplicate-message-id-2")

    assert first.raw != second.raw
    assert message_identity(first.raw) == message_identity(second.raw) == "mid:duplicate@corpus.example"


@pytest.mark.parametrize("name", ["missing-message-id", "garbage-bytes", "text-without-headers", "empty"])
def test_a_mail_without_a_message_id_is_identified_by_its_hash(name: str) -> None:
    raw = corpus_mail(name).raw

    identity = message_identity(raw)

    assert identity.startswith("sha256:")
    assert len(identity) == len("sha256:") + 64
    assert message_identity(raw + b"x") != identity


def test_a_quarantined_mail_with_a_message_id_is_still_identified_by_it() -> None:
    assert message_identity(corpus_mail("no-from").raw) == "mid:no-from@corpus.example"


def test_an_empty_message_id_header_counts_as_none() -> None:
    raw = b"From: a@customer.example\r\nMessage-ID: <>\r\n\r\nBody\r\n"

    assert parse_mail(raw).message_id is None
    assert message_identity(raw).startswith("sha256:")


def test_damaged_mail_never_raises_anything_but_unparseable() -> None:
    generator = random.Random(1)
    reasons: list[str] = []
    for mail in CORPUS:
        if mail.name == "large-attachment":
            continue
        for _ in range(10):
            damaged = bytearray(mail.raw[: generator.randrange(len(mail.raw) + 1)])
            for _ in range(generator.randrange(8) if damaged else 0):
                damaged[generator.randrange(len(damaged))] = generator.randrange(256)
            message_identity(bytes(damaged))
            try:
                parse_mail(bytes(damaged))
            except Unparseable as unparseable:
                reasons.append(unparseable.reason)
    assert reasons  # truncated to nothing, or cut in the From header
    assert all(reason.strip() for reason in reasons)
