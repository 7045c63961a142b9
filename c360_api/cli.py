"""`c360-api`: serve the API, and manage API keys and invites in the credential store."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

import uvicorn

from c360_api.auth.scopes import SCOPES, InvalidScopesError, ordered, parse_scopes
from c360_api.auth.store import ApiKeyRecord, CredentialError, CredentialStore
from c360_api.settings import ApiSettings, get_settings
from c360_pipeline.logs import configure_logging
from c360_pipeline.snapshots import InvalidOrgError

EXIT_USAGE = 2
EXIT_NOT_FOUND = 1
SCOPES_HELP = f"comma-separated scopes ({', '.join(SCOPES)}) or `all`"


def main(argv: list[str] | None = None) -> int:
    """`c360-api serve | keys create|list|revoke | invites create`."""
    settings = get_settings()
    parser = _parser(settings)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(settings, args)
    try:
        store = CredentialStore(settings.auth_db_path)
    except (OSError, CredentialError) as exc:
        print(
            f"error: cannot open the credential store {settings.auth_db_path}: {exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        if args.command == "keys":
            return _keys(store, args)
        return _invites(store, settings, args)
    except (InvalidScopesError, InvalidOrgError, CredentialError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()


def _parser(settings: ApiSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360-api", description="C360 query API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default=settings.api_host)
    serve.add_argument("--port", type=int, default=settings.api_port)

    keys = commands.add_parser("keys", help="API keys for BI tools, cron and scripts")
    key_commands = keys.add_subparsers(dest="action", required=True)
    create = key_commands.add_parser(
        "create", help="create a key; prints it once on stdout (only its hash is stored)"
    )
    create.add_argument("--org", required=True, help="the organisation the key reads")
    create.add_argument("--scopes", required=True, help=SCOPES_HELP)
    create.add_argument("--name", default="api key", help="what uses the key (shown in lists)")
    create.add_argument(
        "--replace",
        action="store_true",
        help="revoke the organisation's active keys of the same name first",
    )
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--org", help="only this organisation's keys")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    revoke = key_commands.add_parser("revoke", help="revoke a key (effective immediately)")
    revoke.add_argument("key_id", help="the key id from `keys list`")
    revoke.add_argument("--org", help="only if the key belongs to this organisation")

    invites = commands.add_parser("invites", help="invite codes for user registration")
    invite_commands = invites.add_subparsers(dest="action", required=True)
    invite = invite_commands.add_parser(
        "create", help="create a single-use invite code; prints it once on stdout"
    )
    invite.add_argument("--org", required=True, help="the organisation the new user joins")
    invite.add_argument("--scopes", required=True, help=SCOPES_HELP)
    invite.add_argument(
        "--ttl-hours",
        type=float,
        default=settings.invite_ttl_hours,
        help="hours the code stays valid (default C360_INVITE_TTL_HOURS)",
    )
    return parser


def _serve(settings: ApiSettings, args: argparse.Namespace) -> int:
    reasons = settings.insecure_reasons()
    if reasons:
        print(
            "error: refusing to start with C360_ENV=production: " + "; ".join(reasons),
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_logging(settings.log_level)
    base = f"http://{args.host}:{args.port}"
    print(f"C360 API on {base}  (docs {base}/docs, health {base}/health)", flush=True)
    # The app writes its own JSON access log (request id, route, cache hit, snapshot).
    uvicorn.run(
        "c360_api.app:create_app", factory=True, host=args.host, port=args.port, access_log=False
    )
    return 0


def _keys(store: CredentialStore, args: argparse.Namespace) -> int:
    if args.action == "create":
        created = store.create_key(
            args.org, parse_scopes(args.scopes), name=args.name, replace=args.replace
        )
        record = created.record
        print(
            f"created API key {record.key_id} for organisation {record.org} "
            f"(scopes {','.join(ordered(record.scopes))}); it is shown once, keep it secret:",
            file=sys.stderr,
        )
        print(created.key, flush=True)
        return 0
    if args.action == "list":
        records = store.list_keys(args.org, include_revoked=args.all)
        if args.json:
            for record in records:
                print(json.dumps(_key_json(record)))
        else:
            _print_table(records)
        return 0
    revoked = store.revoke_key(args.key_id, org=args.org)
    if revoked is None:
        print(f"error: no API key {args.key_id!r}", file=sys.stderr)
        return EXIT_NOT_FOUND
    print(f"revoked API key {revoked.key_id} ({revoked.name}, organisation {revoked.org})")
    return 0


def _invites(store: CredentialStore, settings: ApiSettings, args: argparse.Namespace) -> int:
    if settings.registration == "closed":
        print("warning: C360_REGISTRATION=closed: the code works only once registration "
              "is `invite` or `open`", file=sys.stderr)  # fmt: skip
    if args.ttl_hours <= 0:
        raise CredentialError("--ttl-hours must be positive")
    created = store.create_invite(
        args.org, parse_scopes(args.scopes), ttl=timedelta(hours=args.ttl_hours)
    )
    record = created.record
    print(
        f"created invite {record.invite_id} to organisation {record.org} (scopes "
        f"{','.join(ordered(record.scopes))}), valid until {record.expires_at}; register with "
        "POST /api/auth/register {email, password, invite_code}:",
        file=sys.stderr,
    )
    print(created.code, flush=True)
    return 0


def _key_json(record: ApiKeyRecord) -> dict[str, object]:
    return {
        "key_id": record.key_id,
        "org": record.org,
        "name": record.name,
        "scopes": ordered(record.scopes),
        "created_at": record.created_at,
        "created_by": record.created_by,
        "revoked_at": record.revoked_at,
    }


def _print_table(records: list[ApiKeyRecord]) -> None:
    header = ("KEY ID", "ORG", "NAME", "SCOPES", "CREATED", "REVOKED")
    rows = [
        (
            record.key_id,
            record.org,
            record.name,
            ",".join(ordered(record.scopes)),
            record.created_at,
            record.revoked_at or "-",
        )
        for record in records
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
