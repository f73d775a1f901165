"""`/v1/accounts`: accounts, their status, connection tests and settings (admins)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox.accounts import lifecycle
from inbox.accounts.check_report import Check, CheckError, ConnectionReport
from inbox.accounts.checks import run_checks
from inbox.accounts.models import (
    CREDENTIALS_MODEL,
    Account,
    AccountConfig,
    AccountCreate,
    AccountCredentials,
    AccountUpdate,
    Channel,
    ConnectionSettings,
    Provider,
    parse_config,
    parse_credentials,
)
from inbox.api.auth import Admin
from inbox.api.errors import responses
from inbox.business_hours import BusinessHours
from inbox.directory import require_users
from inbox.email.sync_state import MailboxSync
from inbox.routing.assignment_rules import AssignmentRules, check_assignment_rules
from inbox.routing.auto_reply import AutoReplySettings
from inbox.settings import settings
from inbox.signatures import Signature, SignatureFields, SignatureUpdate
from inbox.store.account_settings import AccountSettingsStore, AuthorizedUsers
from inbox.store.accounts import AccountStore
from inbox.store.credentials import CredentialVault, MissingCredentials
from inbox.store.mailbox_sync import MailboxSyncStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from inbox.store.signatures import SignatureStore
from inbox.store.users import UserStore

router = Router()
ACCOUNTS = ["Accounts"]


class AccountView(Account):
    """An account as the API shows it: email accounts with their read-only `sync`."""

    sync: MailboxSync | None = None


def _view(account: Account) -> AccountView:
    sync = MailboxSyncStore().sync(account.id) if account.channel is Channel.EMAIL else None
    return AccountView.model_validate({**account.model_dump(), "sync": sync})


def _views(page: Page[Account]) -> Page[AccountView]:
    email = [a.id for a in page.items if a.channel is Channel.EMAIL]
    syncs = MailboxSyncStore().syncs(email) if email else {}
    return Page[AccountView](
        items=[AccountView.model_validate({**a.model_dump(), "sync": syncs.get(a.id)}) for a in page.items],
        next_cursor=page.next_cursor,
    )


SETTINGS = ["Account settings"]
SIGNATURES = ["Signatures"]


@router.get("/accounts", tags=ACCOUNTS, responses=responses())
def list_accounts(
    _: Admin,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AccountView]:
    return _views(AccountStore().page(cursor=cursor, limit=limit))


@router.post(
    "/accounts",
    tags=ACCOUNTS,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, conflict=True),
)
def create_account(_: Admin, account: AccountCreate) -> AccountView:
    return _view(lifecycle.create_account(account, accounts=AccountStore(), vault=CredentialVault()))


@router.get("/accounts/<account_id>", tags=ACCOUNTS, responses=responses(not_found=True))
def get_account(_: Admin, account_id: str) -> AccountView:
    return _view(AccountStore().get(account_id))


@router.patch(
    "/accounts/<account_id>", tags=ACCOUNTS, responses=responses(body=True, not_found=True, conflict=True)
)
def update_account(_: Admin, account_id: str, changes: AccountUpdate) -> AccountView:
    return _view(
        lifecycle.update_account(account_id, changes, accounts=AccountStore(), vault=CredentialVault())
    )


@router.delete(
    "/accounts/<account_id>",
    tags=ACCOUNTS,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_account(_: Admin, account_id: str) -> Response[None]:
    lifecycle.delete_account(account_id, accounts=AccountStore(), vault=CredentialVault())
    return Response(status_code=HTTPStatus.NO_CONTENT)


@router.post(
    "/accounts/<account_id>/pause", tags=ACCOUNTS, responses=responses(not_found=True, conflict=True)
)
def pause_account(_: Admin, account_id: str) -> AccountView:
    return _view(lifecycle.pause(account_id, accounts=AccountStore()))


@router.post(
    "/accounts/<account_id>/resume", tags=ACCOUNTS, responses=responses(not_found=True, conflict=True)
)
def resume_account(_: Admin, account_id: str) -> AccountView:
    return _view(lifecycle.resume(account_id, accounts=AccountStore()))


@router.post("/accounts/test-connection", tags=ACCOUNTS, responses=responses(body=True))
def check_unsaved_connection(_: Admin, connection: ConnectionSettings) -> ConnectionReport:
    """Check settings before saving them: IMAP and SMTP separately, or the provider's API."""
    provider = connection.provider
    config = parse_config(provider, connection.config)
    credentials = parse_credentials(provider, lifecycle.reveal(connection.credentials))
    return _run(provider, config, credentials)


@router.post("/accounts/<account_id>/test-connection", tags=ACCOUNTS, responses=responses(not_found=True))
def check_saved_connection(_: Admin, account_id: str) -> ConnectionReport:
    account = AccountStore().get(account_id)
    config = parse_config(account.provider, account.config)
    try:
        credentials = CredentialVault().load(account_id, CREDENTIALS_MODEL[account.provider])
    except MissingCredentials:
        missing = CheckError(code="auth", message="No credentials are stored for this account: reconnect it.")
        return ConnectionReport(ok=False, checks=[Check(name="credentials", ok=False, error=missing)])
    return _run(account.provider, config, credentials)


def _run(provider: Provider, config: AccountConfig, credentials: AccountCredentials) -> ConnectionReport:
    current = settings()
    return run_checks(
        provider,
        config,
        credentials,
        twilio_api_url=current.twilio_api_url,
        meta_graph_url=current.meta_graph_url,
    )


@router.get("/accounts/<account_id>/authorized-users", tags=SETTINGS, responses=responses(not_found=True))
def get_authorized_users(_: Admin, account_id: str) -> AuthorizedUsers:
    return AccountSettingsStore().read(account_id, AuthorizedUsers)


@router.put(
    "/accounts/<account_id>/authorized-users", tags=SETTINGS, responses=responses(body=True, not_found=True)
)
def put_authorized_users(_: Admin, account_id: str, authorized: AuthorizedUsers) -> AuthorizedUsers:
    authorized = AuthorizedUsers(user_ids=list(dict.fromkeys(authorized.user_ids)))
    require_users(UserStore(), authorized.user_ids, "user_ids")
    return AccountSettingsStore().write(account_id, authorized)


@router.get("/accounts/<account_id>/business-hours", tags=SETTINGS, responses=responses(not_found=True))
def get_business_hours(_: Admin, account_id: str) -> BusinessHours:
    return AccountSettingsStore().read(account_id, BusinessHours)


@router.put(
    "/accounts/<account_id>/business-hours", tags=SETTINGS, responses=responses(body=True, not_found=True)
)
def put_business_hours(_: Admin, account_id: str, hours: BusinessHours) -> BusinessHours:
    return AccountSettingsStore().write(account_id, hours)


@router.get("/accounts/<account_id>/auto-reply", tags=SETTINGS, responses=responses(not_found=True))
def get_auto_reply(_: Admin, account_id: str) -> AutoReplySettings:
    return AccountSettingsStore().read(account_id, AutoReplySettings)


@router.put(
    "/accounts/<account_id>/auto-reply", tags=SETTINGS, responses=responses(body=True, not_found=True)
)
def put_auto_reply(_: Admin, account_id: str, auto_reply: AutoReplySettings) -> AutoReplySettings:
    return AccountSettingsStore().write(account_id, auto_reply)


@router.get("/accounts/<account_id>/assignment-rules", tags=SETTINGS, responses=responses(not_found=True))
def get_assignment_rules(_: Admin, account_id: str) -> AssignmentRules:
    return AccountSettingsStore().read(account_id, AssignmentRules)


@router.put(
    "/accounts/<account_id>/assignment-rules", tags=SETTINGS, responses=responses(body=True, not_found=True)
)
def put_assignment_rules(_: Admin, account_id: str, rules: AssignmentRules) -> AssignmentRules:
    return AccountSettingsStore().write(account_id, check_assignment_rules(rules, UserStore()))


@router.get("/accounts/<account_id>/signatures", tags=SIGNATURES, responses=responses(not_found=True))
def list_signatures(_: Admin, account_id: str) -> Page[Signature]:
    AccountStore().get(account_id)
    return Page[Signature](items=SignatureStore().for_account(account_id))


@router.post(
    "/accounts/<account_id>/signatures",
    tags=SIGNATURES,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, not_found=True, conflict=True),
)
def create_signature(_: Admin, account_id: str, signature: SignatureFields) -> Signature:
    require_users(UserStore(), signature.user_ids, "user_ids")
    return SignatureStore().create(account_id, signature)


@router.get(
    "/accounts/<account_id>/signatures/<signature_id>", tags=SIGNATURES, responses=responses(not_found=True)
)
def get_signature(_: Admin, account_id: str, signature_id: str) -> Signature:
    return SignatureStore().get(account_id, signature_id)


@router.patch(
    "/accounts/<account_id>/signatures/<signature_id>",
    tags=SIGNATURES,
    responses=responses(body=True, not_found=True, conflict=True),
)
def update_signature(_: Admin, account_id: str, signature_id: str, changes: SignatureUpdate) -> Signature:
    if changes.user_ids:
        require_users(UserStore(), changes.user_ids, "user_ids")
    return SignatureStore().update(account_id, signature_id, changes)


@router.delete(
    "/accounts/<account_id>/signatures/<signature_id>",
    tags=SIGNATURES,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_signature(_: Admin, account_id: str, signature_id: str) -> Response[None]:
    SignatureStore().delete(account_id, signature_id)
    return Response(status_code=HTTPStatus.NO_CONTENT)
