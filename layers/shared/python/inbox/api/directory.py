"""`/v1/users` and `/v1/customers`: the team and customer directory (admins)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox.accounts.models import PhoneNumber
from inbox.api.auth import Admin
from inbox.api.errors import responses
from inbox.directory import Customer, CustomerFields, User, UserCreate, UserFields, require_users
from inbox.store.customers import CustomerStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from inbox.store.users import UserStore

router = Router()
USERS = ["Users"]
CUSTOMERS = ["Customers"]
Cursor = Annotated[str | None, Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/users", tags=USERS, responses=responses())
def list_users(_: Admin, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[User]:
    return UserStore().page(cursor=cursor, limit=limit)


@router.post(
    "/users",
    tags=USERS,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, conflict=True),
)
def create_user(_: Admin, user: UserCreate) -> User:
    return UserStore().create(user)


@router.get("/users/<user_id>", tags=USERS, responses=responses(not_found=True))
def get_user(_: Admin, user_id: str) -> User:
    return UserStore().get(user_id)


@router.put("/users/<user_id>", tags=USERS, responses=responses(body=True, not_found=True, conflict=True))
def replace_user(_: Admin, user_id: str, user: UserFields) -> User:
    return UserStore().replace(user_id, user)


@router.delete(
    "/users/<user_id>",
    tags=USERS,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_user(_: Admin, user_id: str) -> Response[None]:
    UserStore().delete(user_id)
    return Response(status_code=HTTPStatus.NO_CONTENT)


@router.get("/customers", tags=CUSTOMERS, responses=responses())
def list_customers(
    _: Admin,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    email: Annotated[str | None, Query(description="only the customers with this address")] = None,
    phone: Annotated[
        PhoneNumber | None, Query(description="only the customers with this E.164 number")
    ] = None,
) -> Page[Customer]:
    store = CustomerStore()
    if email is not None:
        return Page[Customer](items=store.find_by_email(email))
    if phone is not None:
        return Page[Customer](items=store.find_by_phone(phone))
    return store.page(cursor=cursor, limit=limit)


@router.post(
    "/customers",
    tags=CUSTOMERS,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, conflict=True),
)
def create_customer(_: Admin, customer: CustomerFields) -> Customer:
    _check_sales_rep(customer)
    return CustomerStore().create(customer)


@router.get("/customers/<customer_id>", tags=CUSTOMERS, responses=responses(not_found=True))
def get_customer(_: Admin, customer_id: str) -> Customer:
    return CustomerStore().get(customer_id)


@router.put(
    "/customers/<customer_id>", tags=CUSTOMERS, responses=responses(body=True, not_found=True, conflict=True)
)
def replace_customer(_: Admin, customer_id: str, customer: CustomerFields) -> Customer:
    _check_sales_rep(customer)
    return CustomerStore().replace(customer_id, customer)


@router.delete(
    "/customers/<customer_id>",
    tags=CUSTOMERS,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_customer(_: Admin, customer_id: str) -> Response[None]:
    CustomerStore().delete(customer_id)
    return Response(status_code=HTTPStatus.NO_CONTENT)


def _check_sales_rep(customer: CustomerFields) -> None:
    if customer.sales_rep_id is not None:
        require_users(UserStore(), [customer.sales_rep_id], "sales_rep_id")
