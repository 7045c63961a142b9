"""Admin: the organisation's API keys and invites (the same store `c360-api keys` manages).

Everything is confined to the caller's organisation, and a credential can only hand out
scopes it holds itself: an `admin` key without `finance` cannot mint a `finance` key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from c360_api.auth.authenticator import forbidden
from c360_api.auth.scopes import Principal, ordered
from c360_api.auth.store import ApiKeyRecord, CredentialStore
from c360_api.deps import PrincipalDep, SettingsDep
from c360_api.envelopes import BODY_ERRORS, success_response
from c360_api.errors import ApiError, error_response
from c360_api.routers.auth import NO_STORE, ScopeName

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/admin", tags=["admin"])

KeyId = Annotated[
    str, Path(min_length=1, max_length=64, description="The key id (`c360-api keys list`).")
]


class KeyRequest(BaseModel):
    """A new API key."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="What uses the key (a label: whitespace is collapsed, unprintable "
        "characters become U+FFFD).",
    )
    scopes: list[ScopeName] = Field(min_length=1, description="What the key may do.")


class InviteRequest(BaseModel):
    """A new invite: who registers with it joins this organisation with these scopes."""

    scopes: list[ScopeName] = Field(min_length=1, description="The new user's scopes.")
    ttl_hours: float | None = Field(
        None, gt=0, le=24 * 30, description="Hours it stays valid (default C360_INVITE_TTL_HOURS)."
    )


class KeyData(BaseModel):
    """An API key as listed (never its secret)."""

    key_id: str = Field(description="Short public id (`c360_<key_id>_…`).")
    name: str
    organization: str
    scopes: list[str]
    created_at: str
    created_by: str = Field(description="`cli`, or the credential that created it.")
    revoked_at: str | None


class NewKeyData(KeyData):
    """A key just created, with the key itself: shown this once, stored only as a hash."""

    key: str = Field(description="The API key; send it as `Authorization: Bearer <key>`.")


class InviteData(BaseModel):
    """An invite just created, with its code: shown this once, stored only as a hash."""

    invite_id: str
    organization: str
    scopes: list[str]
    expires_at: str
    code: str = Field(description="Give it to the new user for POST /api/auth/register.")


class KeyResponse(BaseModel):
    """Success envelope around a key."""

    success: bool
    message: str
    timestamp: str
    data: KeyData


class NewKeyResponse(BaseModel):
    """Success envelope around a new key."""

    success: bool
    message: str
    timestamp: str
    data: NewKeyData


class KeyListResponse(BaseModel):
    """Success envelope around the organisation's keys."""

    success: bool
    message: str
    timestamp: str
    data: list[KeyData]
    count: int


class InviteResponse(BaseModel):
    """Success envelope around a new invite."""

    success: bool
    message: str
    timestamp: str
    data: InviteData


def _store(request: Request) -> CredentialStore:
    store: CredentialStore = request.app.state.credential_store
    return store


def _grantable(principal: Principal, scopes: list[str]) -> frozenset[str]:
    """The scopes asked for, if the caller holds them all (a 403 otherwise)."""
    wanted = frozenset(scopes)
    if not wanted <= principal.scopes:
        raise forbidden(wanted - principal.scopes)
    return wanted


def _key_data(record: ApiKeyRecord) -> dict[str, object]:
    return KeyData(
        key_id=record.key_id,
        name=record.name,
        organization=record.org,
        scopes=ordered(record.scopes),
        created_at=record.created_at,
        created_by=record.created_by,
        revoked_at=record.revoked_at,
    ).model_dump()


@router.post(
    "/keys",
    status_code=201,
    response_model=NewKeyResponse,
    responses={
        **BODY_ERRORS,
        403: {"description": "The caller does not hold every scope asked for."},
    },
    summary="Create an API key",
)
def create_key(request: Request, principal: PrincipalDep, body: KeyRequest) -> JSONResponse:
    """A new API key for the caller's organisation (shown once in the answer)."""
    scopes = _grantable(principal, list(body.scopes))
    created = _store(request).create_key(
        principal.org, scopes, name=body.name, created_by=f"{principal.kind}:{principal.id}"
    )
    log.info(
        "api_key_created",
        key_id=created.record.key_id,
        org=principal.org,
        scopes=ordered(scopes),
        by=principal.rate_key,
    )
    data = {**_key_data(created.record), "key": created.key}
    return success_response(
        data, f"API key {created.record.key_id} created", status_code=201, headers=NO_STORE
    )


@router.get("/keys", response_model=KeyListResponse, summary="The organisation's API keys")
def list_keys(
    request: Request,
    principal: PrincipalDep,
    include_revoked: Annotated[bool, Query(description="List revoked keys too.")] = False,
) -> JSONResponse:
    """The organisation's API keys, oldest first (ids, names, scopes; never secrets)."""
    records = _store(request).list_keys(principal.org, include_revoked=include_revoked)
    return success_response([_key_data(record) for record in records], "API keys")


@router.delete(
    "/keys/{key_id}",
    response_model=KeyResponse,
    responses={404: {"description": "No such key in this organisation."}},
    summary="Revoke an API key",
)
def revoke_key(request: Request, principal: PrincipalDep, key_id: KeyId) -> JSONResponse:
    """Revoke a key of the organisation; its next request is refused."""
    record = _store(request).revoke_key(key_id, org=principal.org)
    if record is None:
        return error_response(404, f"no API key {key_id!r} in this organisation")
    log.info("api_key_revoked", key_id=key_id, org=principal.org, by=principal.rate_key)
    return success_response(_key_data(record), f"API key {key_id} revoked")


@router.post(
    "/invites",
    status_code=201,
    response_model=InviteResponse,
    responses={
        **BODY_ERRORS,
        403: {"description": "The caller does not hold every scope asked for."},
        409: {"description": "Registration is closed on this deployment."},
    },
    summary="Invite a user",
)
def create_invite(
    request: Request, principal: PrincipalDep, settings: SettingsDep, body: InviteRequest
) -> JSONResponse:
    """A single-use code with which one person registers into this organisation."""
    if settings.registration == "closed":
        raise ApiError(409, "registration is closed on this deployment (C360_REGISTRATION)")
    scopes = _grantable(principal, list(body.scopes))
    hours = body.ttl_hours if body.ttl_hours is not None else settings.invite_ttl_hours
    created = _store(request).create_invite(
        principal.org,
        scopes,
        ttl=timedelta(hours=hours),
        created_by=f"{principal.kind}:{principal.id}",
    )
    record = created.record
    log.info("invite_created", invite_id=record.invite_id, org=record.org, by=principal.rate_key)
    data = InviteData(
        invite_id=record.invite_id,
        organization=record.org,
        scopes=ordered(record.scopes),
        expires_at=record.expires_at,
        code=created.code,
    ).model_dump()
    return success_response(
        data, f"invite {record.invite_id} created", status_code=201, headers=NO_STORE
    )
