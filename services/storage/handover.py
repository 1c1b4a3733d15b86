"""Hand what was made in local mode to a signed-in user.

A deployment that starts local and later turns on sign-in keeps everything under the owner
``local``. This moves every row of that owner, in every table with an ``owner_id``, to the
user's owner id, in one transaction::

    python -m services.storage.handover --email ada@example.org   # after Ada signed in once
    python -m services.storage.handover --issuer https://accounts.google.com --subject 1098...
    python -m services.storage.handover --to u_3f2a... [--merge] [--database-url URL]

It refuses when the user already owns data, unless ``--merge``.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy import Table, func, select, update

from services.config_sources import configured_blobs
from services.identity import owner_id_for
from services.settings import DEFAULT_DATABASE_URL, LOCAL_OWNER
from services.storage.db import Base, Database, open_database

# Who a person is, not what they made: never moved, and not "data" the target already owns.
IDENTITY_TABLES = frozenset({"users"})
OWNER_ID_LENGTH = 64


class TargetHasData(Exception):
    """The target owner already owns rows (table name -> count); pass merge=True to join."""

    def __init__(self, owned: dict[str, int]) -> None:
        super().__init__(", ".join(f"{name}: {count}" for name, count in owned.items()))
        self.owned = owned


def owned_tables() -> list[Table]:
    """Every table whose rows belong to an owner, parents before children."""
    return [
        table
        for table in Base.metadata.sorted_tables
        if "owner_id" in table.c and table.name not in IDENTITY_TABLES
    ]


def hand_over(
    db: Database, target: str, *, source: str = LOCAL_OWNER, merge: bool = False
) -> dict[str, int]:
    """Move every row of ``source`` to ``target`` in one transaction; rows moved per table.
    Raises TargetHasData when ``target`` owns rows already and ``merge`` is False, and
    ValueError for a target that cannot be an owner id."""
    if not target or len(target) > OWNER_ID_LENGTH or target == source:
        raise ValueError(f"not an owner id to hand over to: {target!r}")
    tables = owned_tables()
    with db.engine.begin() as connection:
        if not merge:
            owned = {
                table.name: connection.scalar(
                    select(func.count()).select_from(table).where(table.c.owner_id == target)
                )
                for table in tables
            }
            owned = {name: int(count) for name, count in owned.items() if count}
            if owned:
                raise TargetHasData(owned)
        return {
            table.name: int(
                connection.execute(
                    update(table).where(table.c.owner_id == source).values(owner_id=target)
                ).rowcount
            )
            for table in tables
        }


def owner_by_email(db: Database, email: str) -> str | None:
    """The owner id of the one user who signed in with ``email``; None when nobody or more
    than one did (two providers can vouch for the same address: then name the user by id)."""
    from services.storage.users import UserRow

    with db.session() as s:
        owners = s.scalars(
            select(UserRow.owner_id).where(func.lower(UserRow.email) == email.strip().lower())
        ).all()
    return owners[0] if len(owners) == 1 else None


def _target(parser: argparse.ArgumentParser, args: argparse.Namespace, db: Database) -> str:
    named = [bool(args.to), bool(args.issuer or args.subject), bool(args.email)]
    if sum(named) != 1 or (named[1] and not (args.issuer and args.subject)):
        parser.error("give one of --to OWNER_ID, --issuer ISS --subject SUB, or --email EMAIL")
    if args.email:
        owner = owner_by_email(db, args.email)
        if owner is None:
            parser.error(f"no single signed-in user has the email {args.email}")
        return owner
    return args.to or owner_id_for(args.issuer, args.subject)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.storage.handover",
        description=f"Move everything owned by {LOCAL_OWNER!r} to a signed-in user.",
    )
    parser.add_argument("--to", help="the user's owner id (as the app shows it)")
    parser.add_argument("--issuer", help="the sign-in provider's issuer (with --subject)")
    parser.add_argument("--subject", help="the user's subject at that provider")
    parser.add_argument("--email", help="the email of a user who has signed in once")
    parser.add_argument("--from", dest="source", default=LOCAL_OWNER, help=argparse.SUPPRESS)
    parser.add_argument("--merge", action="store_true", help="even when the user owns data")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    db = open_database(args.database_url or DEFAULT_DATABASE_URL, configured_blobs())
    try:
        target = _target(parser, args, db)
        moved = hand_over(db, target, source=args.source, merge=args.merge)
    except TargetHasData as err:
        print(f"{target} already owns data ({err}); add --merge to join the two.", file=sys.stderr)
        return 1
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        db.engine.dispose()
    for name, count in moved.items():
        print(f"{name}: {count}")
    print(f"Moved {sum(moved.values())} rows from {args.source} to {target}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
