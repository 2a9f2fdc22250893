"""API v1: the person's space (all their requests in the prefecture) and filing another procedure with
the identity and contact of a request they hold (`X-Access-Token` of that request)."""

import datetime

from django.http import HttpRequest
from ninja import Header, Router, Schema, Status

from guichet.evidence.audit import Actor
from guichet.spaces import services

from .dossiers_api import _by_token
from .staff_api import ERRORS

router = Router(tags=["spaces"])

API_APPLICANT = Actor("applicant", "api")


class SpaceRowOut(Schema):
    reference: str
    procedure: str
    status: str
    due_date: datetime.date
    received_at: datetime.datetime


class AnotherIn(Schema):
    procedure: str
    permit_expires_on: datetime.date | None = None


class AnotherOut(Schema):
    created: bool
    reference: str | None
    access_token: str | None
    notice: list[str]


@router.get(
    "/requests/{reference}/space", response={200: list[SpaceRowOut], **ERRORS}, summary="All my requests"
)
def space(
    request: HttpRequest, reference: str, x_access_token: str | None = Header(None, alias="X-Access-Token")
):
    found = _by_token(reference, x_access_token)
    return [
        {
            "reference": other.reference,
            "procedure": other.procedure.code,
            "status": other.status,
            "due_date": other.due_date,
            "received_at": other.received_at,
        }
        for other in services.requests_in_space(found)
    ]


@router.post(
    "/requests/{reference}/space/requests",
    response={201: AnotherOut, 200: AnotherOut, **ERRORS},
    summary="File another procedure with the same identity and contact",
)
def file_another(
    request: HttpRequest,
    reference: str,
    payload: AnotherIn,
    x_access_token: str | None = Header(None, alias="X-Access-Token"),
):
    found = _by_token(reference, x_access_token)
    result = services.file_another(
        found, payload.procedure, API_APPLICANT, permit_expires_on=payload.permit_expires_on
    )
    if result.created:
        body = {
            "created": True,
            "reference": result.request.reference,
            "access_token": result.access_token,
            "notice": [],
        }
        return Status(201, body)
    return {"created": False, "reference": None, "access_token": None, "notice": result.notice_for_the_public}
