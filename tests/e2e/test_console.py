"""The admin console at /console/ of `inbox dev`, driven in Debian's headless Chromium as an admin
uses it: an IMAP account on a local Dovecot set up through the page only (a failed connection test,
then a passing one, business hours with a lunch break and a holiday, an auto-reply, two assignment
rules, a signature), a label and a template with its preview; then the API shows what the page
wrote. Also: an API error lands next to the field it names (or in the form's message when it names
none), an account is paused, resumed and deleted from its page, the page speaks French or English as
the browser asks, the token of the sign-in link leaves the address bar at once, and deployed the
page signs in through the hosted UI with PKCE. Screenshots go to build/console-screenshots/."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Route, expect, sync_playwright

from dovecot import LocalDovecot, new_mailbox
from mail_peers import SmtpInbox
from stack_process import ROOT, user_environment

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "console-screenshots"
# The stack is shared with the other e2e tests: what this file creates carries its own suffix.
RUN = secrets.token_hex(2)
# A refused IMAP login is answered after Dovecot's auth failure delay (a couple of seconds).
CHECK_SECONDS = 20

expect.set_options(timeout=10_000)


def inbox_token(signing_key_file: Path, user: str, *, admin: bool) -> str:
    """A token from `inbox token`, as the README has a user get one."""
    script = Path(sys.executable).with_name("inbox")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "inbox.cli"]
    minted = subprocess.run(
        [*command, "token", "--user", user, *(["--admin"] if admin else [])],
        cwd=ROOT,
        env=user_environment(INBOX_DEV_SIGNING_KEY_FILE=str(signing_key_file)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert minted.returncode == 0, minted.stderr
    return minted.stdout.strip()


@pytest.fixture(scope="module")
def admin_token(signing_key_file: Path) -> str:
    return inbox_token(signing_key_file, "console-admin", admin=True)


@pytest.fixture(scope="module")
def api(stack_url: str, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=15
    ) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """A browser tab on the console, in one language, with what went wrong in the page kept."""

    def __init__(self, browser: Browser, url: str, locale: str) -> None:
        self.context = browser.new_context(locale=locale, viewport={"width": 1360, "height": 900})
        self.page = self.context.new_page()
        self.url = url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console_message)

    def _console_message(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer as "Failed to load resource": the tests provoke some.
        if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def open(self, token: str | None) -> Page:
        # From elsewhere: a new fragment on the same page would not load it again.
        self.page.goto("about:blank")
        self.page.goto(f"{self.url}/console/" + (f"#access_token={token}" if token else ""))
        return self.page

    def tab(self, name: str) -> Page:
        self.page.get_by_role("tab", name=name, exact=True).click()
        return self.page

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def english(browser: Browser, stack_url: str) -> Iterator[Console]:
    console = Console(browser, stack_url, "en-US")
    yield console
    console.close()
    assert console.errors == []


def region(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=name, exact=True)


def saved(page: Page, message: str) -> None:
    """The live region says `message` (every save announces itself there)."""
    expect(page.get_by_role("status")).to_have_text(message)


def create_imap_account(page: Page, dovecot: LocalDovecot, smtp: SmtpInbox, name: str) -> str:
    """Through the "Add an email account" dialog: a wrong password first, then the right one;
    the mailbox's address."""
    mailbox = new_mailbox(dovecot, "console")
    smtp.users[mailbox.username.encode()] = mailbox.password.encode()
    page.get_by_role("button", name="Add an email account").click()
    dialog = page.get_by_role("dialog", name="Add an email account")
    expect(dialog.get_by_role("radio", name=re.compile("^Gmail"))).to_be_checked()
    expect(dialog.get_by_role("button", name="Sign in with Google")).to_be_visible()
    dialog.get_by_role("radio", name=re.compile("^IMAP")).check()
    dialog.get_by_label("Account name", exact=True).fill(name)
    dialog.get_by_label("Email address", exact=True).fill(mailbox.username)
    dialog.get_by_label("Sender name", exact=True).fill("Équipe Support")
    dialog.get_by_label("IMAP server", exact=True).fill(dovecot.host)
    dialog.get_by_label("IMAP security", exact=True).select_option("none")
    dialog.get_by_label("IMAP port", exact=True).fill(str(dovecot.port))
    dialog.get_by_label("SMTP server", exact=True).fill("127.0.0.1")
    dialog.get_by_label("SMTP security", exact=True).select_option("none")
    dialog.get_by_label("SMTP port", exact=True).fill(str(smtp.port))
    expect(dialog.get_by_label("User name", exact=True)).to_have_value(mailbox.username)
    dialog.get_by_label("Password", exact=True).fill("not-the-password")

    dialog.get_by_role("button", name="Test the connection").click()
    results = dialog.get_by_role("list", name="Connection test results")
    imap = results.get_by_role("listitem").filter(has_text="IMAP (incoming mail)")
    expect(imap).to_contain_text("Failed", timeout=CHECK_SECONDS * 1000)
    expect(imap).to_contain_text("(auth)")
    expect(dialog.get_by_text("2 checks failed.")).to_be_visible()

    dialog.get_by_label("Password", exact=True).fill(mailbox.password)
    dialog.get_by_role("button", name="Test the connection").click()
    expect(dialog.get_by_text("All checks passed.")).to_be_visible(timeout=CHECK_SECONDS * 1000)
    for check in ("IMAP (incoming mail)", "SMTP (outgoing mail)"):
        expect(results.get_by_role("listitem").filter(has_text=check)).to_contain_text("Passed")
    dialog.screenshot(path=str(SCREENSHOTS / "add-email-account.png"))

    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    return mailbox.username


def set_business_hours(page: Page) -> None:
    """Paris time, weekdays 09:00 to 12:30 and 14:00 to 18:00, the weekend closed, Christmas off and
    France's public holidays."""
    hours = region(page, "Business hours")
    hours.get_by_label("Time zone", exact=True).select_option("Europe/Paris")
    hours.get_by_label("Monday, interval 1, opens", exact=True).fill("09:00")
    hours.get_by_label("Monday, interval 1, closes", exact=True).fill("12:30")
    hours.get_by_role("button", name="Add an interval on Monday").click()
    hours.get_by_label("Monday, interval 2, opens", exact=True).fill("14:00")
    hours.get_by_label("Monday, interval 2, closes", exact=True).fill("18:00")
    hours.get_by_role("button", name="Copy Monday to the other weekdays").click()
    expect(hours.get_by_label("Friday, interval 2, closes", exact=True)).to_have_value("18:00")
    for day in ("Saturday", "Sunday"):
        hours.get_by_role("button", name=f"Remove interval 1 of {day}").click()
        expect(hours.get_by_role("group", name=day, exact=True)).to_contain_text("Closed")
    hours.get_by_role("button", name="+ Add a date").click()
    hours.get_by_label("Date", exact=True).fill("2026-12-25")
    hours.get_by_label("Name", exact=True).fill("Noël")
    hours.get_by_label("A country's public holidays", exact=True).select_option("FR")
    hours.get_by_role("button", name="Save business hours").click()
    saved(page, "Business hours saved.")


def set_auto_reply(page: Page) -> None:
    auto_reply = region(page, "Auto-reply")
    auto_reply.get_by_label("Turn the auto-reply on", exact=True).check()
    auto_reply.get_by_role("button", name="+ Add a trigger").click()
    expect(auto_reply.get_by_label("Trigger", exact=True)).to_have_value("outside_business_hours")
    auto_reply.get_by_label("Message", exact=True).fill("Bonjour, nous sommes fermés : réponse dès 9 h.")
    auto_reply.get_by_label("Time between two replies to the same contact (minutes)").fill("720")
    auto_reply.get_by_role("button", name="Save auto-reply").click()
    saved(page, "Auto-reply saved.")


def add_assignment_rules(page: Page) -> None:
    """The customer's sales rep first, then the user named in the customer's `account_manager`
    field, else unassigned."""
    rules = region(page, "Assignment rules")
    rules.get_by_role("button", name="+ Add a rule").click()
    rules.get_by_role("button", name="+ Add a rule").click()
    second = rules.get_by_role("listitem").filter(has_text="Rule 2")
    second.get_by_label("Rule type", exact=True).select_option("customer_custom_field")
    second.get_by_label("Custom field", exact=True).fill("account_manager")
    second.get_by_label("When it finds no one", exact=True).select_option("unassigned")
    rules.get_by_role("button", name="Save rules").click()
    saved(page, "Assignment rules saved.")


def create_signature(page: Page, account_name: str) -> None:
    """HTML with a script in it: the preview shows what the API kept, the script gone."""
    signatures = region(page, f"Signatures · {account_name}")
    signatures.get_by_role("button", name="New signature").click()
    signatures.get_by_label("Signature name", exact=True).fill("Support")
    signatures.get_by_label("Signature (HTML)", exact=True).fill(
        '<p><b>L\'équipe Support</b><br><a href="https://example.com">example.com</a></p>'
        "<script>alert(1)</script>"
    )
    expect(signatures.get_by_label("The account's default signature")).to_be_checked()
    signatures.get_by_role("button", name="Save signature").click()
    saved(page, "Signature saved.")
    preview = signatures.frame_locator("iframe[title=Preview]")
    expect(preview.get_by_text("L'équipe Support")).to_be_visible()
    expect(signatures.get_by_text("The server removed what is not allowed")).to_be_visible()


def create_label(page: Page, name: str) -> None:
    page.get_by_role("button", name="Create a label").click()
    editor = region(page, "New label")
    editor.get_by_label("Name", exact=True).fill(name)
    editor.get_by_label("Description", exact=True).fill("À traiter dans l'heure")
    editor.get_by_label("Colour", exact=True).fill("#e53935")
    editor.get_by_role("button", name="Save label").click()
    saved(page, f"Label “{name}” created.")
    expect(region(page, "Labels").get_by_text(name, exact=True)).to_be_visible()


def create_template(page: Page, account: str, name: str) -> None:
    """Typed with two variables inserted from the catalogue; the preview, live then rendered by
    the API once saved, fills them with the examples."""
    page.get_by_role("button", name="Create a message template").click()
    editor = region(page, "New message template")
    editor.get_by_label("Account", exact=True).select_option(label=account)
    editor.get_by_label("Name", exact=True).fill(name)
    editor.get_by_label("Type", exact=True).select_option("start")
    editor.get_by_label("Labels", exact=True).fill("Devis")
    content = editor.get_by_label("Content", exact=True)
    content.fill("Bonjour ")
    editor.get_by_role("button", name="Insert {{customer_name}}").click()
    content.press("End")
    content.press_sequentially(", votre devis ")
    editor.get_by_role("button", name="Insert {{quote_number}}").click()
    content.press("End")
    content.press_sequentially(" est prêt.")
    expect(content).to_have_value("Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt.")
    editor.get_by_label("Example for customer_name", exact=True).fill("Marie Dupont")
    preview = editor.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Bonjour Marie Dupont, votre devis {{quote_number}} est prêt.")
    expect(preview).to_contain_text("Not filled: quote_number")
    editor.get_by_label("Example for quote_number", exact=True).fill("Q-2026-0142")
    expect(preview).to_contain_text("live, not saved")
    editor.get_by_role("button", name="Save template").click()
    saved(page, f"Template “{name}” saved.")
    expect(preview).to_contain_text("rendered by the server")
    expect(preview).to_contain_text("Bonjour Marie Dupont, votre devis Q-2026-0142 est prêt.")
    expect(editor.get_by_text("No review")).to_be_visible()


def only(items: list[dict[str, Any]], **wanted: Any) -> dict[str, Any]:
    [found] = [item for item in items if all(item.get(k) == v for k, v in wanted.items())]
    return found


def test_an_admin_sets_up_an_imap_account_a_label_and_a_template_through_the_console(
    english: Console,
    admin_token: str,
    api: httpx.Client,
    dovecot: LocalDovecot,
    smtp_inbox: SmtpInbox,
) -> None:
    account_name = f"Support {RUN}"
    label_name = f"Urgent {RUN}"
    template_name = f"Devis prêt {RUN}"
    page = english.open(admin_token)
    expect(page.get_by_role("tab", name="Accounts")).to_have_attribute("aria-selected", "true")
    assert "access_token" not in page.url

    address = create_imap_account(page, dovecot, smtp_inbox, account_name)
    set_business_hours(page)
    set_auto_reply(page)
    add_assignment_rules(page)
    create_signature(page, account_name)
    english.screenshot("account-detail")

    page.get_by_role("button", name="← All accounts").click()
    row = page.get_by_role("row").filter(has_text=account_name)
    expect(row).to_contain_text("Active")
    english.screenshot("accounts")

    create_label(english.tab("Labels"), label_name)
    english.screenshot("labels")
    create_template(english.tab("Templates"), f"{account_name} · {address}", template_name)
    english.screenshot("template-editor")
    page.get_by_role("button", name="← All templates").click()
    expect(page.get_by_role("row").filter(has_text=template_name)).to_contain_text("No review")
    english.screenshot("templates")
    english.tab("Signatures").get_by_label("Email account", exact=True).select_option(
        label=f"{account_name} · {address}"
    )
    expect(page.get_by_text("Default", exact=True)).to_be_visible()
    english.screenshot("signatures")

    # What the page wrote, read back through the API.
    account = only(api.get("/v1/accounts").json()["items"], name=account_name)
    assert (account["provider"], account["address"], account["status"]) == ("imap", address, "active")
    assert account["sender_name"] == "Équipe Support"
    assert account["has_credentials"] is True
    assert account["config"]["imap_port"] == dovecot.port
    assert account["config"]["smtp_port"] == smtp_inbox.port
    base = f"/v1/accounts/{account['id']}"
    hours = api.get(f"{base}/business-hours").json()
    week = [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
    assert hours["timezone"] == "Europe/Paris"
    assert hours["days"] == {
        **dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), week),
        "saturday": [],
        "sunday": [],
    }
    assert hours["holidays"] == [{"date": "2026-12-25", "name": "Noël"}]
    assert hours["holiday_country"] == "FR"
    assert api.get(f"{base}/auto-reply").json() == {
        "enabled": True,
        "rules": [
            {"trigger": "outside_business_hours", "message": "Bonjour, nous sommes fermés : réponse dès 9 h."}
        ],
        "cooldown_minutes": 720,
    }
    rules = api.get(f"{base}/assignment-rules").json()["rules"]
    assert [(r["type"], r["params"], r["fallback"]["action"]) for r in rules] == [
        ("customer_sales_rep", {}, "next_rule"),
        ("customer_custom_field", {"field": "account_manager"}, "unassigned"),
    ]
    [signature] = api.get(f"{base}/signatures").json()["items"]
    assert signature["name"] == "Support"
    assert signature["default_for_account"] is True
    assert "<b>L'équipe Support</b>" in signature["html"]
    assert "script" not in signature["html"]
    label = only(api.get("/v1/labels").json()["items"], name=label_name)
    assert (label["description"], label["color"]) == ("À traiter dans l'heure", "#E53935")
    template = only(
        api.get("/v1/templates", params={"account_id": account["id"]}).json()["items"], name=template_name
    )
    assert template["content"] == "Bonjour {{customer_name}}, votre devis {{quote_number}} est prêt."
    assert (template["type"], template["labels"]) == ("start", ["Devis"])
    assert template["examples"] == {"customer_name": "Marie Dupont", "quote_number": "Q-2026-0142"}
    assert template["approval"]["status"] == "not_required"


def test_an_api_error_is_shown_next_to_the_field_it_names(
    english: Console, admin_token: str, api: httpx.Client
) -> None:
    created = api.post(
        "/v1/accounts",
        json={
            "provider": "imap",
            "name": f"Ventes {RUN}",
            "address": f"ventes-{RUN}@example.com",
            "config": {
                "imap_host": "127.0.0.1",
                "imap_security": "none",
                "smtp_host": "127.0.0.1",
                "smtp_security": "none",
                "username": "ventes",
            },
            "credentials": {"password": "secret"},
        },
    )
    assert created.status_code == 201, created.text
    page = english.open(admin_token)

    # A label name already taken (409, detail on `name`), then none at all (422 on `name`).
    english.tab("Labels")
    for attempt in (f"Devis {RUN}", f"devis {RUN}"):
        page.get_by_role("button", name="Create a label").click()
        editor = region(page, "New label")
        editor.get_by_label("Name", exact=True).fill(attempt)
        editor.get_by_role("button", name="Save label").click()
    name = region(page, "New label").get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("already used by another label"))
    expect(region(page, "New label").get_by_role("alert")).to_have_text("Correct the fields marked below.")
    name.fill("")
    region(page, "New label").get_by_role("button", name="Save label").click()
    expect(name).to_have_accessible_description(re.compile("at least 1 character"))
    english.screenshot("label-error")

    # Overlapping intervals: the API names `days.monday[1]`, the page marks that interval.
    english.tab("Accounts")
    page.get_by_role("button", name=f"Ventes {RUN}").click()
    hours = region(page, "Business hours")
    hours.get_by_label("Monday, interval 1, opens", exact=True).fill("09:00")
    hours.get_by_label("Monday, interval 1, closes", exact=True).fill("12:30")
    hours.get_by_role("button", name="Add an interval on Monday").click()
    hours.get_by_label("Monday, interval 2, opens", exact=True).fill("12:00")
    hours.get_by_label("Monday, interval 2, closes", exact=True).fill("18:00")
    hours.get_by_role("button", name="Save business hours").click()
    second = hours.get_by_label("Monday, interval 2, opens", exact=True)
    expect(second).to_have_attribute("aria-invalid", "true")
    expect(second).to_have_accessible_description(re.compile("12:00-18:00 overlaps 09:00-12:30"))
    expect(hours.get_by_label("Monday, interval 1, opens", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )
    # And one the API names by its field inside the interval: an end that is no time.
    hours.get_by_label("Monday, interval 2, opens", exact=True).fill("14:00")
    hours.get_by_label("Monday, interval 2, closes", exact=True).fill("25:00")
    hours.get_by_role("button", name="Save business hours").click()
    end = hours.get_by_label("Monday, interval 2, closes", exact=True)
    expect(end).to_have_accessible_description(re.compile("must be a time written HH:MM"))
    expect(second).not_to_have_attribute("aria-invalid", "true")
    english.screenshot("business-hours-error")

    # Meta's format rules, checked by the API before any submission, land on the content.
    whatsapp = api.post(
        "/v1/accounts",
        json={
            "provider": "twilio",
            "name": f"WhatsApp {RUN}",
            "address": f"+336{secrets.randbelow(10**8):08d}",
            "config": {"account_sid": "AC" + secrets.token_hex(16)},
            "credentials": {"auth_token": "token"},
        },
    )
    assert whatsapp.status_code == 201, whatsapp.text
    english.tab("Templates").get_by_role("button", name="Create a message template").click()
    editor = region(page, "New message template")
    editor.get_by_label("Account", exact=True).select_option(
        label=f"WhatsApp {RUN} · {whatsapp.json()['address']}"
    )
    editor.get_by_label("Name", exact=True).fill("Relance")
    editor.get_by_label("Language", exact=True).fill("fr")
    editor.get_by_label("Category", exact=True).select_option("utility")
    editor.get_by_label("Content", exact=True).fill("{{customer_name}} votre devis")
    editor.get_by_role("button", name="Save template").click()
    content = editor.get_by_label("Content", exact=True)
    expect(content).to_have_accessible_description(
        re.compile("variable_at_start: starts with {{customer_name}}")
    )
    expect(editor.get_by_label("Name", exact=True)).not_to_have_attribute("aria-invalid", "true")
    english.screenshot("template-lint-error")


def test_an_account_is_paused_resumed_and_deleted_from_its_page_and_a_label_recoloured(
    english: Console, admin_token: str, api: httpx.Client
) -> None:
    name = f"Achats {RUN}"
    created = api.post(
        "/v1/accounts",
        json={
            "provider": "imap",
            "name": name,
            "address": f"achats-{RUN}@example.com",
            "config": {"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1", "username": "achats"},
            "credentials": {"password": "secret"},
        },
    )
    assert created.status_code == 201, created.text
    label = api.post("/v1/labels", json={"name": f"Relance {RUN}", "color": "#9E9E9E"}).json()
    page = english.open(admin_token)
    page.get_by_role("button", name=name, exact=True).click()
    summary = page.locator(".account-summary")
    summary.get_by_role("button", name="Pause").click()
    saved(page, "Account paused.")
    expect(summary.get_by_text("Paused", exact=True)).to_be_visible()
    summary.get_by_role("button", name="Resume").click()
    saved(page, "Account resumed.")
    expect(summary.get_by_text("Active", exact=True)).to_be_visible()

    summary.get_by_role("button", name="Delete").click()
    confirmation = page.get_by_role("dialog", name="Please confirm")
    expect(confirmation).to_contain_text(f"Delete the account “{name}”?")
    confirmation.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    summary.get_by_role("button", name="Delete").click()
    confirmation.get_by_role("button", name="Delete").click()
    saved(page, f"Account “{name}” deleted.")
    expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    assert api.get(f"/v1/accounts/{created.json()['id']}").status_code == 404

    english.tab("Labels").get_by_role("button", name=f"Edit “Relance {RUN}”").click()
    editor = region(page, f"Edit “Relance {RUN}”")
    editor.get_by_label("Colour", exact=True).fill("#1e88e5")
    editor.get_by_role("button", name="Save label").click()
    saved(page, f"Label “Relance {RUN}” saved.")
    assert api.get(f"/v1/labels/{label['id']}").json()["color"] == "#1E88E5"


def test_an_error_naming_no_field_is_said_by_the_form_and_meta_signup_needs_the_network(
    english: Console, admin_token: str
) -> None:
    page = english.open(admin_token)
    # This stack has no Google OAuth app: the start route's 503 names no field.
    page.get_by_role("button", name="Add an email account").click()
    dialog = page.get_by_role("dialog", name="Add an email account")
    dialog.get_by_role("button", name="Sign in with Google").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Google sign-in is not configured")
    page.keyboard.press("Escape")

    # Meta's SDK is fetched only when its dialog opens; here it cannot be.
    fetched: list[str] = []

    def unreachable(route: Route) -> None:
        fetched.append(route.request.url)
        route.abort()

    page.route("https://connect.facebook.net/**", unreachable)
    page.get_by_role("button", name="Add a WhatsApp number").click()
    dialog = page.get_by_role("dialog", name="Add a WhatsApp number")
    expect(dialog.get_by_text("Meta's sign-up needs network access")).to_be_visible()
    expect(dialog.get_by_role("button", name="Continue with Facebook")).to_be_disabled()
    assert fetched == ["https://connect.facebook.net/en_US/sdk.js"]
    english.screenshot("add-whatsapp-number")
    dialog.get_by_role("radio", name=re.compile("^WhatsApp · Twilio")).check()
    for label in ("WhatsApp number", "Account SID", "Auth Token"):
        expect(dialog.get_by_label(label, exact=True)).to_be_visible()


@pytest.mark.parametrize(
    ("locale", "lang", "tabs", "add_email", "imap_fields"),
    [
        (
            "fr-FR",
            "fr",
            ["Comptes", "Modèles", "Étiquettes", "Signatures"],
            "Ajouter un email",
            [
                "Adresse email",
                "Serveur IMAP",
                "Port IMAP",
                "Serveur SMTP",
                "Nom d'utilisateur",
                "Mot de passe",
            ],
        ),
        (
            "en-US",
            "en",
            ["Accounts", "Templates", "Labels", "Signatures"],
            "Add an email account",
            ["Email address", "IMAP server", "IMAP port", "SMTP server", "User name", "Password"],
        ),
    ],
)
def test_the_console_speaks_the_browsers_language_and_its_tabs_follow_the_arrow_keys(
    browser: Browser,
    stack_url: str,
    admin_token: str,
    locale: str,
    lang: str,
    tabs: list[str],
    add_email: str,
    imap_fields: list[str],
) -> None:
    console = Console(browser, stack_url, locale)
    try:
        page = console.open(admin_token)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("tab")).to_have_text(tabs)
        assert "access_token" not in page.url
        assert "access_token" not in page.evaluate("location.href")
        page.get_by_role("button", name=add_email).click()
        dialog = page.get_by_role("dialog", name=add_email)
        dialog.get_by_role("radio", name=re.compile("^IMAP")).check()
        for label in imap_fields:
            expect(dialog.get_by_label(label, exact=True)).to_be_visible()
        if lang == "fr":
            console.screenshot("add-email-account-fr")
        page.keyboard.press("Escape")
        # The dialog's close event (which removes it and gives the focus back to its opener) runs
        # a task after it hides: wait for both, or it takes the focus from the tab below.
        expect(dialog).to_have_count(0)
        expect(page.get_by_role("button", name=add_email)).to_be_focused()

        first = page.get_by_role("tab", name=tabs[0])
        first.focus()
        page.keyboard.press("ArrowDown")
        expect(page.get_by_role("tab", name=tabs[1])).to_be_focused()
        expect(page.get_by_role("tab", name=tabs[1])).to_have_attribute("aria-selected", "true")
        expect(first).to_have_attribute("aria-selected", "false")
        page.keyboard.press("End")
        expect(page.get_by_role("tab", name=tabs[3])).to_have_attribute("aria-selected", "true")
        page.keyboard.press("ArrowDown")  # wraps round to the first
        expect(first).to_have_attribute("aria-selected", "true")
    finally:
        console.close()
    assert console.errors == []


def test_without_a_token_the_page_says_how_to_sign_in_and_an_agent_is_told_it_is_for_admins(
    english: Console, admin_token: str, signing_key_file: Path
) -> None:
    page = english.open(None)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("inbox dev", exact=False).first).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)

    page = english.open(admin_token[:-2] + ("xx" if not admin_token.endswith("xx") else "yy"))
    expect(page.get_by_role("heading", name="Session ended")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)

    page = english.open(inbox_token(signing_key_file, "console-agent", admin=False))
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    english.screenshot("not-an-admin")


def test_deployed_the_console_signs_in_through_the_hosted_ui_with_pkce(
    browser: Browser, stack_url: str, admin_token: str
) -> None:
    """config.json names a hosted UI (here a stand-in routed inside the browser): the page goes to
    its authorize URL with an S256 challenge, exchanges the code it brings back with the matching
    verifier, calls the API with the access token, and cleans ?code= from the address."""
    hosted = "https://auth.example.test"
    console_url = f"{stack_url}/console/"
    seen: dict[str, dict[str, list[str]]] = {}
    # The stack's own policy names no hosted UI locally; the deployed one names its domain.
    context = browser.new_context(locale="en-US", bypass_csp=True)
    page = context.new_page()

    def config(route: Route) -> None:
        route.fulfill(
            json={
                "sign_in": {
                    "authorize_url": f"{hosted}/oauth2/authorize",
                    "token_url": f"{hosted}/oauth2/token",
                    "logout_url": f"{hosted}/logout",
                    "client_id": "console-client",
                    "scopes": ["openid", "email", "profile"],
                }
            }
        )

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = query
        back = f"{console_url}?{urlencode({'code': 'the-code', 'state': query['state'][0]})}"
        route.fulfill(status=302, headers={"location": back})

    def token(route: Route) -> None:
        seen["token"] = parse_qs(route.request.post_data or "")
        route.fulfill(
            json={
                "access_token": admin_token,
                "refresh_token": "r",
                "expires_in": 3600,
                "token_type": "Bearer",
            },
            headers={"access-control-allow-origin": stack_url},
        )

    page.route(f"{console_url}config.json", config)
    page.route(f"{hosted}/oauth2/authorize?*", authorize)
    page.route(f"{hosted}/oauth2/token", token)
    try:
        page.goto(console_url)
        expect(page.get_by_role("tab", name="Accounts")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("button", name="Add an email account")).to_be_visible()
        assert urlsplit(page.url).query == ""
        assert page.evaluate("sessionStorage.length") == 0

        asked, exchanged = seen["authorize"], seen["token"]
        assert {k: v[0] for k, v in asked.items() if k not in ("state", "code_challenge")} == {
            "client_id": "console-client",
            "response_type": "code",
            "redirect_uri": console_url,
            "scope": "openid email profile",
            "code_challenge_method": "S256",
        }
        verifier = exchanged["code_verifier"][0]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        assert asked["code_challenge"] == [challenge.decode()]
        assert {k: v[0] for k, v in exchanged.items() if k != "code_verifier"} == {
            "grant_type": "authorization_code",
            "client_id": "console-client",
            "code": "the-code",
            "redirect_uri": console_url,
        }
    finally:
        context.close()
