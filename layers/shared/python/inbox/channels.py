"""The channel dispatch: `Provider` → the adapter that sends a message, checks the connection,
reviews templates and reads new mail (`mailbox_source`) for that provider. The only place
that switches on the provider; sending (`inbox.delivery.sender`), Test connection
(`inbox.accounts.checks`) and template approval (`inbox.templates.approval`) go through it.

Each adapter imports its channel's modules when one of its methods is called: importing this
module loads no provider code, so a handler pays only for the channel it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from inbox.accounts.models import Provider

if TYPE_CHECKING:
    from inbox.accounts.check_report import Check
    from inbox.accounts.models import Account, AccountConfig, AccountCredentials
    from inbox.delivery.outcomes import SendResult
    from inbox.email.compose import Outgoing
    from inbox.email.mailbox import MailboxSource
    from inbox.store.credentials import CredentialVault
    from inbox.templates.models import Template
    from inbox.whatsapp.template_message import TemplateMessage
    from inbox.whatsapp.template_review import Review
    from inbox.whatsapp.template_submission import Submission

M = TypeVar("M")

__all__ = ["Adapter", "NotSupported", "adapter", "send", "send_message"]


class NotSupported(TypeError):
    """The provider has no such operation (an email account asked to review a template …)."""


class Adapter:
    """What the product does at one provider. An operation the provider does not have raises
    `NotSupported`."""

    provider: Provider
    # How messages for the admin name the provider ("Meta rejected the template …").
    label: str

    def send(
        self,
        account: Account,
        credentials: AccountCredentials,
        *,
        to: str,
        text: str,
        graph_url: str,
        twilio_api_url: str,
        timeout: float | None = None,
        status_callback: str | None = None,
        template: TemplateMessage | None = None,
    ) -> SendResult:
        """Send `text` to `to` from the account (outcomes: `inbox.delivery.outcomes`)."""
        raise NotSupported(f"{self.provider} accounts do not send on WhatsApp with these credentials")

    def status_callback(self, public_url: str, account_id: str) -> str | None:
        """Where the provider should report a sent message's statuses, if it is told per message."""
        return None

    def check(
        self,
        config: AccountConfig,
        credentials: AccountCredentials,
        *,
        twilio_api_url: str,
        meta_graph_url: str,
        timeout: float,
    ) -> list[Check]:
        """Test connection: every check that applies to the provider."""
        raise NotSupported(f"{self.provider} accounts have no connection check")

    def submit_template(self, template: Template, account: Account, vault: CredentialVault) -> Submission:
        """Submit the template for the provider's review (failures: `inbox.whatsapp.template_review`)."""
        raise NotSupported(f"{self.provider} templates are not reviewed")

    def template_reviewer(self, account: Account, vault: CredentialVault) -> Callable[[str], Review]:
        """How to ask the provider about one template (credentials loaded once)."""
        raise NotSupported(f"{self.provider} templates are not reviewed")

    def mailbox_source(self, account: Account, credentials: AccountCredentials) -> MailboxSource:
        """Where the email poller reads the account's new mail (`inbox.email.mailbox`)."""
        raise NotSupported(f"{self.provider} accounts are not polled")

    def send_email(
        self,
        account: Account,
        credentials: AccountCredentials,
        outgoing: Outgoing,
        *,
        check_sent: bool = False,
    ) -> SendResult:
        """Send a composed email (outcomes: `inbox.delivery.outcomes`); with `check_sent`, first
        look for it among the sent messages (a delivery that died may have sent it)."""
        raise NotSupported(f"{self.provider} accounts do not send email yet")


class MetaCloud(Adapter):
    provider, label = Provider.META_CLOUD, "Meta"

    def send(
        self,
        account: Account,
        credentials: AccountCredentials,
        *,
        to: str,
        text: str,
        graph_url: str,
        twilio_api_url: str,
        timeout: float | None = None,
        status_callback: str | None = None,
        template: TemplateMessage | None = None,
    ) -> SendResult:
        from inbox.accounts.models import MetaCloudCredentials
        from inbox.whatsapp import sending

        if not isinstance(credentials, MetaCloudCredentials):
            raise NotSupported(f"{self.provider} accounts do not send on WhatsApp with these credentials")
        extra = {} if timeout is None else {"timeout": timeout}
        return sending.send_meta(
            account, credentials, to=to, text=text, graph_url=graph_url, template=template, **extra
        )

    def check(
        self,
        config: AccountConfig,
        credentials: AccountCredentials,
        *,
        twilio_api_url: str,
        meta_graph_url: str,
        timeout: float,
    ) -> list[Check]:
        from inbox.accounts.models import MetaCloudConfig, MetaCloudCredentials
        from inbox.whatsapp.checks import check_meta

        return [
            check_meta(
                _expect(config, MetaCloudConfig),
                _expect(credentials, MetaCloudCredentials),
                graph_url=meta_graph_url,
                timeout=timeout,
            )
        ]

    def submit_template(self, template: Template, account: Account, vault: CredentialVault) -> Submission:
        from inbox.whatsapp.template_submission import submit_to_meta

        return submit_to_meta(template, account, vault)

    def template_reviewer(self, account: Account, vault: CredentialVault) -> Callable[[str], Review]:
        from inbox.whatsapp.template_submission import meta_reviewer

        return meta_reviewer(account, vault)


class Twilio(Adapter):
    provider, label = Provider.TWILIO, "Twilio"

    def send(
        self,
        account: Account,
        credentials: AccountCredentials,
        *,
        to: str,
        text: str,
        graph_url: str,
        twilio_api_url: str,
        timeout: float | None = None,
        status_callback: str | None = None,
        template: TemplateMessage | None = None,
    ) -> SendResult:
        from inbox.accounts.models import TwilioCredentials
        from inbox.whatsapp import sending

        if not isinstance(credentials, TwilioCredentials):
            raise NotSupported(f"{self.provider} accounts do not send on WhatsApp with these credentials")
        extra = {} if timeout is None else {"timeout": timeout}
        return sending.send_twilio(
            account,
            credentials,
            to=to,
            text=text,
            api_url=twilio_api_url,
            status_callback=status_callback,
            template=template,
            **extra,
        )

    def status_callback(self, public_url: str, account_id: str) -> str | None:
        from inbox.whatsapp.sending import twilio_status_callback

        return twilio_status_callback(public_url, account_id)

    def check(
        self,
        config: AccountConfig,
        credentials: AccountCredentials,
        *,
        twilio_api_url: str,
        meta_graph_url: str,
        timeout: float,
    ) -> list[Check]:
        from inbox.accounts.models import TwilioConfig, TwilioCredentials
        from inbox.whatsapp.checks import check_twilio

        return [
            check_twilio(
                _expect(config, TwilioConfig),
                _expect(credentials, TwilioCredentials),
                api_url=twilio_api_url,
                timeout=timeout,
            )
        ]

    def submit_template(self, template: Template, account: Account, vault: CredentialVault) -> Submission:
        from inbox.whatsapp.template_submission import submit_to_twilio

        return submit_to_twilio(template, account, vault)

    def template_reviewer(self, account: Account, vault: CredentialVault) -> Callable[[str], Review]:
        from inbox.whatsapp.template_submission import twilio_reviewer

        return twilio_reviewer(account, vault)


class Imap(Adapter):
    provider, label = Provider.IMAP, "IMAP"

    def check(
        self,
        config: AccountConfig,
        credentials: AccountCredentials,
        *,
        twilio_api_url: str,
        meta_graph_url: str,
        timeout: float,
    ) -> list[Check]:
        from inbox.accounts.models import ImapConfig, ImapCredentials
        from inbox.email.checks import check_mailbox

        return check_mailbox(
            _expect(config, ImapConfig), _expect(credentials, ImapCredentials), timeout=timeout
        )

    def mailbox_source(self, account: Account, credentials: AccountCredentials) -> MailboxSource:
        from inbox.accounts.models import ImapConfig, ImapCredentials, parse_config
        from inbox.email.imap_source import ImapSource

        config = _expect(parse_config(account.provider, account.config), ImapConfig)
        password = _expect(credentials, ImapCredentials).password.get_secret_value()
        return ImapSource(config, password)

    def send_email(
        self,
        account: Account,
        credentials: AccountCredentials,
        outgoing: Outgoing,
        *,
        check_sent: bool = False,
    ) -> SendResult:
        from inbox.accounts.check_report import PeerError
        from inbox.accounts.models import ImapConfig, ImapCredentials, parse_config
        from inbox.delivery.outcomes import SendLater, SendResult
        from inbox.email.sending import already_in_sent, file_in_sent, send_smtp
        from inbox.observability import logger

        config = _expect(parse_config(account.provider, account.config), ImapConfig)
        password = _expect(credentials, ImapCredentials).password.get_secret_value()
        if check_sent:
            try:
                if already_in_sent(config, password, outgoing.message_id):
                    logger.info(
                        "Already sent by a delivery that died: not sent again",
                        extra={"account_id": account.id},
                    )
                    return SendResult(provider_message_id=outgoing.message_id)
            except PeerError as failure:
                raise SendLater(why=f"could not look in Sent first: {failure.error.message}") from failure
        result = send_smtp(
            config, password, outgoing.message, sender=account.address, recipients=[outgoing.to]
        )
        try:
            # So the team's mail client shows it; the message went out either way.
            file_in_sent(config, password, outgoing.message)
        except PeerError as failure:
            logger.warning(
                "Sent, but not filed in Sent", extra={"account_id": account.id, "code": failure.error.code}
            )
        return result


class OAuthMailbox(Adapter):
    """Gmail and Office 365: connected through their OAuth flows (`inbox.oauth`), read and sent
    through their HTTP APIs with the account's access token (`inbox.oauth.tokens`, which loads
    the credentials itself: it may have to refresh and save them)."""

    def __init__(self, provider: Provider, label: str, service: str) -> None:
        self.provider, self.label, self.service = provider, label, service

    def check(
        self,
        config: AccountConfig,
        credentials: AccountCredentials,
        *,
        twilio_api_url: str,
        meta_graph_url: str,
        timeout: float,
    ) -> list[Check]:
        from inbox.accounts.check_report import Check, CheckError

        message = (
            f"{self.label} accounts connect by signing in with {self.service} (OAuth); the account's "
            "status and its sync show whether the mailbox works."
        )
        return [Check(name="oauth", ok=False, error=CheckError(code="protocol", message=message))]

    def mailbox_source(self, account: Account, credentials: AccountCredentials) -> MailboxSource:
        from inbox.oauth.tokens import AccountTokens
        from inbox.settings import settings

        tokens = AccountTokens(account)
        if self.provider is Provider.GMAIL:
            from inbox.email.gmail_source import GmailSource

            return GmailSource(tokens, api_url=settings().gmail_api_url)
        from inbox.email.graph_source import GraphSource

        return GraphSource(tokens, graph_url=settings().microsoft_graph_url)

    def send_email(
        self,
        account: Account,
        credentials: AccountCredentials,
        outgoing: Outgoing,
        *,
        check_sent: bool = False,
    ) -> SendResult:
        from inbox.email.api_sending import send_with_tokens
        from inbox.oauth.tokens import AccountTokens

        return send_with_tokens(account, outgoing, AccountTokens(account), check_sent=check_sent)


_ADAPTERS: dict[Provider, Adapter] = {
    Provider.META_CLOUD: MetaCloud(),
    Provider.TWILIO: Twilio(),
    Provider.IMAP: Imap(),
    Provider.GMAIL: OAuthMailbox(Provider.GMAIL, "Gmail", "Google"),
    Provider.OFFICE365: OAuthMailbox(Provider.OFFICE365, "Office 365", "Microsoft"),
}


def adapter(provider: Provider) -> Adapter:
    """The adapter for the provider."""
    return _ADAPTERS[provider]


def send_message(
    account: Account,
    credentials: AccountCredentials,
    *,
    to: str,
    text: str,
    graph_url: str,
    twilio_api_url: str,
    timeout: float | None = None,
    status_callback: str | None = None,
    template: TemplateMessage | None = None,
) -> SendResult:
    """Send `text` (or the `template`) to `to` from the account, at the providers' given addresses."""
    return adapter(account.provider).send(
        account,
        credentials,
        to=to,
        text=text,
        graph_url=graph_url,
        twilio_api_url=twilio_api_url,
        timeout=timeout,
        status_callback=status_callback,
        template=template,
    )


def send(
    account: Account,
    credentials: AccountCredentials,
    *,
    to: str,
    text: str,
    template: TemplateMessage | None = None,
) -> SendResult:
    """Send `text` (or the `template`) to `to` from the account, at the providers the settings
    name (statuses reported to our webhook when the provider is told per message and the product
    has a public URL)."""
    from inbox.settings import settings

    current = settings()
    channel = adapter(account.provider)
    callback = channel.status_callback(current.public_url, account.id) if current.public_url else None
    return channel.send(
        account,
        credentials,
        to=to,
        text=text,
        graph_url=current.meta_graph_url,
        twilio_api_url=current.twilio_api_url,
        status_callback=callback,
        template=template,
    )


def _expect(value: object, model: type[M]) -> M:
    if not isinstance(value, model):
        raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
    return value
