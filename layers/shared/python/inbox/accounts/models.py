"""Accounts: one mailbox or one WhatsApp number, with its provider settings and status.

`config` is validated per provider (the models below); `credentials` are write-only: they go to
Secrets Manager and an account only says `has_credentials`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
)

from inbox.errors import FieldProblem, Invalid
from inbox.model import Model
from inbox.records import Tombstoned

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Provider(StrEnum):
    GMAIL = "gmail"
    OFFICE365 = "office365"
    IMAP = "imap"
    META_CLOUD = "meta_cloud"
    TWILIO = "twilio"


class Channel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"


CHANNEL_OF = {
    Provider.GMAIL: Channel.EMAIL,
    Provider.OFFICE365: Channel.EMAIL,
    Provider.IMAP: Channel.EMAIL,
    Provider.META_CLOUD: Channel.WHATSAPP,
    Provider.TWILIO: Channel.WHATSAPP,
}


class AccountStatus(StrEnum):
    ACTIVE = "active"
    ERROR = "error"
    PAUSED = "paused"


def _email(value: str) -> str:
    """The address, normalized, if its syntax is valid. On-premises mail servers use domains that are
    not globally deliverable (`acme.local`, `corp.internal`, a bare host name): accepted too."""
    # Imported when first used: the webhook and the router read accounts but never validate them.
    from email_validator import EmailNotValidError, validate_email

    _allow_special_use_domains()
    try:
        return validate_email(value, check_deliverability=False, globally_deliverable=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from error


@cache
def _allow_special_use_domains() -> None:
    # email-validator refuses special-use domains (`.local`, `.test`...) whatever the options; emptying
    # its list is the way its documentation gives to allow them (this process's only use of it).
    import email_validator

    email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()


def _e164(value: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise ValueError("not a phone number in international form (+ and country code)") from error
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _hostname(value: str) -> str:
    host = value.strip().rstrip(".").lower()
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or not all(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", x) for x in labels)
    ):
        raise ValueError("not a valid host name")
    return host


EmailAddress = Annotated[
    str, AfterValidator(_email), Field(json_schema_extra={"format": "email"}, examples=["support@acme.local"])
]
PhoneNumber = Annotated[str, AfterValidator(_e164), Field(examples=["+33612345678"])]
Hostname = Annotated[str, AfterValidator(_hostname), Field(examples=["imap.example.com"])]
Port = Annotated[int, Field(ge=1, le=65535)]
MetaId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,32}$")]
TwilioAccountSid = Annotated[str, StringConstraints(pattern=r"^AC[0-9a-fA-F]{32}$")]
TwilioServiceSid = Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# An account's address before it is parsed for its channel (an email address or an E.164 number).
AddressText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]


def _without_null(schema: dict[str, Any]) -> None:
    branches = [s for s in schema.pop("anyOf", []) if s != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    if schema.get("default", ...) is None:
        del schema["default"]


# `Omittable[X] = None`: a partial update's field that may be left out but not set to null. The API
# document shows no null; the update refuses an explicit one, naming the field.
Omittable = Annotated[T | None, Field(json_schema_extra=_without_null)]


def _distinct(folders: list[str]) -> list[str]:
    if len(set(folders)) != len(folders):
        raise ValueError("lists a folder twice")
    return folders


# The IMAP folders polled, and how many days back the first poll imports (CONTRACT.md, "Sync").
Folders = Annotated[list[ShortText], Field(min_length=1, max_length=20), AfterValidator(_distinct)]
BackfillDays = Annotated[int, Field(ge=0, le=90)]


class _Strict(Model):
    model_config = ConfigDict(extra="forbid")


class ImapConfig(_Strict):
    imap_host: Hostname
    imap_port: Port = 993
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_host: Hostname
    smtp_port: Port = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    username: ShortText
    folders: Folders = ["INBOX"]
    backfill_days: BackfillDays = 7


class GmailConfig(_Strict):
    """Set by the Google OAuth flow."""

    backfill_days: BackfillDays = 7


class Office365Config(_Strict):
    tenant: ShortText | None = None
    backfill_days: BackfillDays = 7


class MetaCloudConfig(_Strict):
    waba_id: MetaId
    phone_number_id: MetaId
    business_name: ShortText | None = None


class TwilioConfig(_Strict):
    account_sid: TwilioAccountSid
    messaging_service_sid: TwilioServiceSid | None = None
    business_name: ShortText | None = None


class ImapCredentials(_Strict):
    password: SecretStr = Field(min_length=1)


class GmailCredentials(_Strict):
    refresh_token: SecretStr = Field(min_length=1)
    # The last access token and when it expires, kept so polls and sends share one refresh
    # (`inbox.oauth.tokens`); set by the product, not by the admin.
    access_token: SecretStr | None = None
    access_token_expires_at: datetime | None = None


class Office365Credentials(_Strict):
    token_cache: SecretStr = Field(min_length=1)


class MetaCloudCredentials(_Strict):
    access_token: SecretStr = Field(min_length=1)


class TwilioCredentials(_Strict):
    auth_token: SecretStr = Field(min_length=1)


AccountConfig = ImapConfig | GmailConfig | Office365Config | MetaCloudConfig | TwilioConfig
AccountCredentials = (
    ImapCredentials | GmailCredentials | Office365Credentials | MetaCloudCredentials | TwilioCredentials
)

CONFIG_MODEL: dict[Provider, type[AccountConfig]] = {
    Provider.IMAP: ImapConfig,
    Provider.GMAIL: GmailConfig,
    Provider.OFFICE365: Office365Config,
    Provider.META_CLOUD: MetaCloudConfig,
    Provider.TWILIO: TwilioConfig,
}
CREDENTIALS_MODEL: dict[Provider, type[AccountCredentials]] = {
    Provider.IMAP: ImapCredentials,
    Provider.GMAIL: GmailCredentials,
    Provider.OFFICE365: Office365Credentials,
    Provider.META_CLOUD: MetaCloudCredentials,
    Provider.TWILIO: TwilioCredentials,
}


def parse_config(provider: Provider, config: dict[str, Any]) -> AccountConfig:
    """The provider's config model, or `Invalid` naming each bad field as `config.<field>`."""
    return _parse(CONFIG_MODEL[provider], config, "config")


def parse_credentials(provider: Provider, credentials: dict[str, Any]) -> AccountCredentials:
    """The provider's credentials model (values hidden in repr and logs), or `Invalid`."""
    return _parse(CREDENTIALS_MODEL[provider], credentials, "credentials")


def parse_address(provider: Provider, address: str) -> str:
    """The account's address: an email address for email providers, an E.164 number for WhatsApp."""
    parse = _email if CHANNEL_OF[provider] is Channel.EMAIL else _e164
    try:
        return parse(address)
    except ValueError as error:
        raise Invalid(
            f"address: {error}", code="validation_error", details=[FieldProblem("address", str(error))]
        ) from error


def _parse(model: type[M], data: dict[str, Any], prefix: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = [
            FieldProblem(".".join([prefix, *(str(p) for p in e["loc"])]), _problem(e)) for e in error.errors()
        ]
        raise Invalid(
            "; ".join(f"{d.field}: {d.message}" for d in details), code="validation_error", details=details
        ) from None


def _problem(error: Any) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a setting of this provider"
    return str(error["msg"]).removeprefix("Value error, ")


class Account(Tombstoned):
    """An account as the API returns it (credentials never included)."""

    id: str
    channel: Channel
    provider: Provider
    name: str
    address: str
    sender_name: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    config: dict[str, Any]
    has_credentials: bool = False
    created_at: datetime
    updated_at: datetime

    def meta_config(self) -> MetaCloudConfig:
        """The typed config of a `meta_cloud` account (`TypeError` for another provider)."""
        return _typed_config(self, Provider.META_CLOUD, MetaCloudConfig)

    def twilio_config(self) -> TwilioConfig:
        """The typed config of a `twilio` account (`TypeError` for another provider)."""
        return _typed_config(self, Provider.TWILIO, TwilioConfig)

    @property
    def business_name(self) -> str | None:
        """The business name a WhatsApp account presents (email accounts have none)."""
        if self.provider is Provider.META_CLOUD:
            return self.meta_config().business_name or None
        if self.provider is Provider.TWILIO:
            return self.twilio_config().business_name or None
        return None


C = TypeVar("C", MetaCloudConfig, TwilioConfig)


def _typed_config(account: Account, provider: Provider, model: type[C]) -> C:
    if account.provider is not provider:
        raise TypeError(f"a {account.provider} account has no {provider} config")
    return model.model_validate(account.config)


class AccountCreate(Model):
    model_config = ConfigDict(extra="forbid")

    provider: Provider
    channel: Channel | None = Field(default=None, description="implied by the provider; checked when given")
    name: ShortText
    address: AddressText
    sender_name: ShortText | None = None
    config: dict[str, Any] = Field(default_factory=dict, description="per provider, see CONTRACT.md")
    credentials: dict[str, SecretStr] | None = Field(default=None, description="write-only")


class AccountUpdate(Model):
    """A partial update: fields given change; `config` is merged into the current one;
    `credentials` replace the stored ones (absent: kept)."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[ShortText] = None
    address: Omittable[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    ] = None
    sender_name: ShortText | None = None
    config: Omittable[dict[str, Any]] = None
    credentials: dict[str, SecretStr] | None = None


class ConnectionSettings(Model):
    """Unsaved settings to test before creating an account."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    address: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
