"""Users (/api/auth): registration as the deployment allows, login for an access token, who am I.

Registration follows `C360_REGISTRATION`: `closed` refuses everyone; `invite` (the default)
lets the holder of an admin's invite code join the invite's organisation with its scopes;
`open` also lets anyone create a new organisation, of which they are the first user with every
scope. Password checks run Argon2 (tens of milliseconds of CPU), so these handlers are plain
`def` (thread pool) and the login and registration routes are rate limited per client address.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Form, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from c360_api.auth.authenticator import rate_limited, unauthorized
from c360_api.auth.passwords import Passwords
from c360_api.auth.scopes import SCOPES, Principal, ordered
from c360_api.auth.store import (
    CredentialStore,
    EmailTakenError,
    InvalidInviteError,
    OrgTakenError,
    UserRecord,
)
from c360_api.deps import SettingsDep, require_scopes
from c360_api.envelopes import BODY_ERRORS, ErrorResponse, success_response
from c360_api.errors import ApiError
from c360_api.snapshots import data_orgs
from c360_pipeline.snapshots import ORG_PATTERN

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/auth", tags=["auth"])

ScopeName = Literal["marketing", "product", "finance", "customer_success", "analyst", "admin"]
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 128
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPE_LIST_PATTERN = "^ *(?:(?:" + "|".join(SCOPES) + ")(?: +|$))*$"
"""An OAuth2 `scope` field: known scope names separated by spaces (or nothing)."""

Email = Annotated[
    str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN, examples=["ada@example.com"])
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_CHARS,
        max_length=MAX_PASSWORD_CHARS,
        description=f"{MIN_PASSWORD_CHARS}–{MAX_PASSWORD_CHARS} characters.",
    ),
]


def _exactly_one_way_in(schema: dict[str, Any]) -> None:
    """The JSON schema says what the validators do: `invite_code` or `organization`, exactly
    one, a string (not null)."""
    for name in ("invite_code", "organization"):
        field = schema["properties"][name]
        (text,) = [option for option in field.pop("anyOf") if option.get("type") == "string"]
        field.update(text)
        field.pop("default", None)
    schema["oneOf"] = [{"required": ["invite_code"]}, {"required": ["organization"]}]


class RegisterRequest(BaseModel):
    """A new user: with an invite code (joins its organisation), or, where registration is
    open, with the name of a new organisation to create (exactly one of the two)."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_way_in)

    email: Email
    password: Password
    invite_code: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="An invite code (`c360i_…`) from an administrator.",
    )
    organization: str | None = Field(
        None,
        pattern=f"^{ORG_PATTERN.pattern}$",
        description="Name of a new organisation (open registration only).",
    )

    @field_validator("invite_code", "organization", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out rather than send null")
        return value

    @model_validator(mode="after")
    def _one_way_in(self) -> RegisterRequest:
        if (self.invite_code is None) == (self.organization is None):
            raise ValueError("give either invite_code or organization, not both")
        return self


class LoginRequest(BaseModel):
    """Email and password; `scopes` narrows the token to some of the user's scopes."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)
    scopes: list[ScopeName] | None = Field(
        None, description="Scopes the token should carry (default: all the user's)."
    )


class UserData(BaseModel):
    """A registered user."""

    user_id: str = Field(description="User id (32 hex digits).")
    email: str = Field(description="Email (lowercase); the login name.")
    organization: str = Field(description="The one organisation the user belongs to.")
    scopes: list[str] = Field(description="What the user may do in it.")
    created_at: str = Field(description="When the user registered (UTC).")


class UserResponse(BaseModel):
    """Success envelope around a user."""

    success: bool
    message: str
    timestamp: str
    data: UserData


class TokenResponse(BaseModel):
    """An OAuth2 access token (not wrapped in the envelope: OAuth2 clients read it as is)."""

    access_token: str = Field(description="The JWT to send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    scope: str = Field(description="The token's scopes, space-separated.")
    organization: str = Field(description="The organisation the token reads.")


class PrincipalData(BaseModel):
    """The credential a request was made with."""

    kind: Literal["api_key", "user"] = Field(description="`api_key` or `user`.")
    id: str = Field(description="Key id or user id.")
    name: str = Field(description="Key name or user email.")
    organization: str = Field(description="The organisation it belongs to.")
    scopes: list[str] = Field(description="Its scopes.")


class PrincipalResponse(BaseModel):
    """Success envelope around the caller's credential."""

    success: bool
    message: str
    timestamp: str
    data: PrincipalData


_ERRORS: dict[int | str, dict[str, Any]] = {
    **BODY_ERRORS,
    429: {
        "model": ErrorResponse,
        "description": "Too many attempts from this address; `Retry-After` says when to retry.",
    },
}


async def limit_attempts(request: Request) -> None:
    """Count a login or registration attempt against the client address's limit (429)."""
    limiter = request.app.state.auth_limiter
    address = request.client.host if request.client else "unknown"
    retry_after = limiter.hit(f"address:{address}")
    if retry_after is not None:
        log.warning("auth_rate_limited", client=address, path=request.url.path)
        raise rate_limited(
            retry_after, limiter.limit, "per client address for login and registration"
        )


AttemptLimit = [Depends(limit_attempts)]


@router.post(
    "/register",
    status_code=201,
    response_model=UserResponse,
    dependencies=AttemptLimit,
    responses={
        **_ERRORS,
        403: {
            "description": "Registration is closed, needs an invite, or the invite is not valid."
        },
        409: {"description": "The email or the organisation is taken."},
    },
    summary="Register a user",
)
def register(request: Request, settings: SettingsDep, body: RegisterRequest) -> JSONResponse:
    """Create a user: joining an invite's organisation, or (open registration) a new one."""
    policy = settings.registration
    if policy == "closed":
        raise ApiError(403, "registration is closed on this deployment; ask an administrator")
    if body.organization is not None and policy != "open":
        raise ApiError(
            403, "registration needs an invite code on this deployment; ask an administrator"
        )
    store: CredentialStore = request.app.state.credential_store
    passwords: Passwords = request.app.state.passwords
    try:
        # The cheap refusals come before the password is hashed (tens of ms of CPU).
        if body.invite_code is not None:
            if not store.invite_is_valid(body.invite_code):
                raise InvalidInviteError("the invite code is unknown, used or expired")
            password_hash = passwords.hash(body.password)
            user = store.register_with_invite(body.invite_code, body.email, password_hash)
        else:
            assert body.organization is not None
            # A data area without credentials yet (say, before `keys create`) is taken too.
            if body.organization in data_orgs(settings.data_dir) or store.org_exists(
                body.organization
            ):
                raise OrgTakenError(f"organisation {body.organization!r} already exists")
            password_hash = passwords.hash(body.password)
            user = store.create_org_with_owner(body.organization, body.email, password_hash)
    except InvalidInviteError as exc:
        raise ApiError(403, str(exc)) from None
    except (EmailTakenError, OrgTakenError) as exc:
        raise ApiError(409, str(exc)) from None
    log.info("user_registered", user_id=user.user_id, org=user.org, scopes=ordered(user.scopes))
    return success_response(_user_data(user), f"user {user.email} registered", status_code=201)


@router.post(
    "/login",
    response_model=TokenResponse,
    dependencies=AttemptLimit,
    responses={**_ERRORS, 401: {"description": "Wrong email or password."}},
    summary="Log in (OAuth2 password form)",
)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=254, description="The user's email.")],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)],
    scope: Annotated[
        str,
        Form(
            max_length=500,
            pattern=SCOPE_LIST_PATTERN,
            description="Space-separated scopes to narrow the token to (default: all).",
        ),
    ] = "",
) -> JSONResponse:
    """Exchange email and password (an OAuth2 password-grant form) for an access token."""
    return _token(request, username, password, scope.split())


@router.post(
    "/login/json",
    response_model=TokenResponse,
    dependencies=AttemptLimit,
    responses={**_ERRORS, 401: {"description": "Wrong email or password."}},
    summary="Log in (JSON)",
)
def login_json(request: Request, body: LoginRequest) -> JSONResponse:
    """Exchange email and password (JSON) for an access token."""
    return _token(request, body.email, body.password, list(body.scopes or ()))


@router.get(
    "/me",
    response_model=PrincipalResponse,
    responses={
        401: {"description": "No credential, or not a valid one."},
        429: {"description": "The credential's rate limit is used up."},
    },
    summary="Who am I",
)
def me(principal: Annotated[Principal, Security(require_scopes)]) -> JSONResponse:
    """The credential this request was made with: kind, id, name, organisation and scopes."""
    data = PrincipalData(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        organization=principal.org,
        scopes=ordered(principal.scopes),
    )
    return success_response(data.model_dump(), f"{principal.kind} {principal.name}")


def _token(request: Request, email: str, password: str, requested: list[str]) -> JSONResponse:
    store: CredentialStore = request.app.state.credential_store
    passwords: Passwords = request.app.state.passwords
    found = store.find_user(email) if len(email) <= 254 else None
    user, stored_hash = found if found is not None else (None, None)
    if not passwords.verify(stored_hash, password) or user is None:
        log.info("login_failed", client=request.client.host if request.client else None)
        raise unauthorized("incorrect email or password")
    if stored_hash is not None and passwords.needs_rehash(stored_hash):
        store.set_password_hash(user.user_id, passwords.hash(password))
    scopes = user.scopes & set(requested) if requested else user.scopes
    tokens = request.app.state.access_tokens
    token = tokens.issue(UserRecord(user.user_id, user.email, user.org, scopes, user.created_at))
    log.info("login", user_id=user.user_id, org=user.org)
    body = TokenResponse(
        access_token=token,
        expires_in=int(tokens.lifetime.total_seconds()),
        scope=" ".join(ordered(scopes)),
        organization=user.org,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


def _user_data(user: UserRecord) -> dict[str, object]:
    return UserData(
        user_id=user.user_id,
        email=user.email,
        organization=user.org,
        scopes=ordered(user.scopes),
        created_at=user.created_at,
    ).model_dump()
