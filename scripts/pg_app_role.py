"""Give the staff app a PostgreSQL role that cannot erase its own audit trail (issue 15 #10).

The table owner can drop the append-only triggers on ``staff_audit_log`` and then delete rows;
so the app must not run as the owner. Run this as the role that owns the app's tables (the one
that runs the migrations), after every migration:

    APP_DB_URL=postgresql://admissions_owner@db/admissions \\
        .venv/app/bin/python scripts/pg_app_role.py admissions_app

It grants ``admissions_app`` (created beforehand by the DBA: ``CREATE ROLE admissions_app LOGIN
PASSWORD '...'``) what the app needs on every table the current role owns in the schema:
SELECT, INSERT, UPDATE, DELETE, except ``staff_audit_log`` (SELECT and INSERT only) and
``staff_alembic_version`` (SELECT only: the app checks the schema version at start). The app role
owns nothing, so it cannot drop or disable the triggers, alter or drop the table, or truncate
it. It refuses to grant to a superuser, to the owner itself, or to a role that owns a table.
Idempotent.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import sqlalchemy as sa

AUDIT_TABLE = "staff_audit_log"
READ_ONLY = {"staff_alembic_version", "alembic_version"}
APPEND_ONLY = {AUDIT_TABLE}


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class RoleError(RuntimeError):
    """The role cannot be made safe (missing, superuser, owner)."""


def quoted(conn: sa.Connection, name: str) -> str:
    """An identifier quoted by the server (role and table names come from the command line)."""
    return str(conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())


def grant(conn: sa.Connection, role: str, schema: str = "public") -> dict[str, list[str]]:
    """Grant ``role`` the app's privileges on the tables the current role owns; returns them."""
    for name in (role, schema):
        if not NAME.fullmatch(name):
            raise RoleError(f"{name!r} is not a plain SQL name (letters, digits, _)")
    me = conn.execute(sa.text("SELECT current_user")).scalar_one()
    found = conn.execute(
        sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if found is None:
        raise RoleError(
            f"role {role!r} does not exist; as the database administrator run: "
            f"CREATE ROLE {role} LOGIN PASSWORD '...';"
        )
    if found.rolsuper:
        raise RoleError(f"role {role!r} is a superuser: it could drop the audit triggers")
    if role == me:
        raise RoleError("run this as the owner of the tables, for another role than itself")
    owned = conn.execute(
        sa.text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"), {"r": role}
    ).scalar_one()
    if owned:
        raise RoleError(f"role {role!r} owns {owned} table(s): the app role must own nothing")
    tables = list(
        conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s"
                " AND tableowner = current_user ORDER BY tablename"
            ),
            {"s": schema},
        ).scalars()
    )
    if AUDIT_TABLE not in tables:
        raise RoleError(
            f"{schema}.{AUDIT_TABLE} is not owned by {me!r}: run the migrations as this role first"
        )
    r, s = quoted(conn, role), quoted(conn, schema)
    db = quoted(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
    conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {db} TO {r}"))
    conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {s} TO {r}"))
    granted: dict[str, list[str]] = {}
    for table in tables:
        t = f"{s}.{quoted(conn, table)}"
        privileges = (
            ["SELECT"]
            if table in READ_ONLY
            else ["SELECT", "INSERT"]
            if table in APPEND_ONLY
            else ["SELECT", "INSERT", "UPDATE", "DELETE"]
        )
        conn.execute(sa.text(f"REVOKE ALL ON {t} FROM {r}"))
        conn.execute(sa.text(f"GRANT {', '.join(privileges)} ON {t} TO {r}"))
        granted[table] = privileges
    sequences = conn.execute(
        sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = :s "
            "AND sequenceowner = current_user"
        ),
        {"s": schema},
    ).scalars()
    for sequence in sequences:
        conn.execute(
            sa.text(f"GRANT USAGE, SELECT ON SEQUENCE {s}.{quoted(conn, sequence)} TO {r}")
        )
    return granted


def main(argv: list[str] | None = None) -> int:
    """Command line: ``pg_app_role.py ROLE [--url URL] [--schema public]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", help="the role the staff app connects as, e.g. admissions_app")
    parser.add_argument("--url", default=os.environ.get("APP_DB_URL", ""), help="owner's URL")
    parser.add_argument("--schema", default="public")
    args = parser.parse_args(argv)
    if not args.url.startswith("postgresql"):
        print("error: give the table owner's postgresql:// URL (--url or APP_DB_URL)")
        return 2
    engine = sa.create_engine(sa.engine.make_url(args.url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            granted = grant(conn, args.role, args.schema)
    except RoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for table, privileges in granted.items():
        print(f"{args.role}: {', '.join(privileges)} on {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
