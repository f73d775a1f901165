"""`/v1/labels`: admins manage the labels agents put on conversations."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inbox.api.auth import Admin
from inbox.api.errors import responses
from inbox.labels import Label, LabelCreate, LabelUpdate
from inbox.store.labels import LabelStore
from inbox.store.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = Router()
TAG = ["Labels"]


def store() -> LabelStore:
    return LabelStore()


@router.get("/labels", tags=TAG, responses=responses())
def list_labels(
    _: Admin,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[Label]:
    return store().page(cursor=cursor, limit=limit)


@router.post(
    "/labels",
    tags=TAG,
    status_code=HTTPStatus.CREATED,
    responses=responses(HTTPStatus.CREATED, body=True, conflict=True),
)
def create_label(_: Admin, label: LabelCreate) -> Label:
    return store().create(label)


@router.get("/labels/<label_id>", tags=TAG, responses=responses(not_found=True))
def get_label(_: Admin, label_id: str) -> Label:
    return store().get(label_id)


@router.patch("/labels/<label_id>", tags=TAG, responses=responses(body=True, not_found=True, conflict=True))
def update_label(_: Admin, label_id: str, changes: LabelUpdate) -> Label:
    return store().update(label_id, changes)


@router.delete(
    "/labels/<label_id>",
    tags=TAG,
    status_code=HTTPStatus.NO_CONTENT,
    responses=responses(HTTPStatus.NO_CONTENT, not_found=True, conflict=True),
)
def delete_label(_: Admin, label_id: str) -> Response[None]:
    store().delete(label_id)
    return Response(status_code=HTTPStatus.NO_CONTENT)
