"""PostgreSQL instance storage chosen by ``DAGSTER_PG_*`` settings, checked before Dagster starts.

Dagster keeps run history, event logs, schedules' and sensors' state and pool slots in its instance
storage. One process can use SQLite files under ``$DAGSTER_HOME``; a daemon, a webserver and run workers on
several machines need one shared database. Setting ``DAGSTER_PG_HOST`` selects PostgreSQL
(`dagster-postgres`), configured from these variables:

=====================  ==========================================
``DAGSTER_PG_HOST``    server host name or address (selects PostgreSQL)
``DAGSTER_PG_PORT``    port, default 5432
``DAGSTER_PG_USERNAME``  role, default ``dagster``
``DAGSTER_PG_PASSWORD``  its password (a secret: never printed)
``DAGSTER_PG_DB``      database, default ``dagster``
=====================  ==========================================

`check_connection` turns what psycopg2 says into one line naming the setting to fix, without the password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

HOST_ENV = "DAGSTER_PG_HOST"
PORT_ENV = "DAGSTER_PG_PORT"
USERNAME_ENV = "DAGSTER_PG_USERNAME"
PASSWORD_ENV = "DAGSTER_PG_PASSWORD"
DB_ENV = "DAGSTER_PG_DB"
DEFAULTS = {PORT_ENV: "5432", USERNAME_ENV: "dagster", DB_ENV: "dagster"}


class InstanceSettingsError(ValueError):
    """The instance settings are unusable: the message names the variable to fix and holds no secret."""


@dataclass(frozen=True)
class PostgresSettings:
    """Where the instance database is; ``password`` is kept out of ``repr``."""

    host: str
    port: int = 5432
    username: str = "dagster"
    password: str = field(default="", repr=False)
    db_name: str = "dagster"

    @property
    def where(self) -> str:
        """``user@host:port/db``: what messages show (never the password)."""
        return f"{self.username}@{self.host}:{self.port}/{self.db_name}"


def is_selected(env: Mapping[str, str]) -> bool:
    """Whether the variables select PostgreSQL (``DAGSTER_PG_HOST`` holds a value)."""
    return bool(env.get(HOST_ENV, "").strip())


def parse_settings(env: Mapping[str, str]) -> PostgresSettings:
    """The ``DAGSTER_PG_*`` settings of ``env``; `InstanceSettingsError` naming the variable on a bad one."""

    def value(name: str) -> str:
        return (env.get(name) or "").strip() or DEFAULTS.get(name, "")

    for name in (HOST_ENV, PORT_ENV, USERNAME_ENV, DB_ENV):
        raw = env.get(name) or ""
        if raw.strip() and raw != raw.strip():  # Dagster reads the variable as it is, blanks and all
            raise InstanceSettingsError(f"{name} has blanks around its value ({raw!r}): Dagster reads the variable "
                                        "as it is; remove them")
    host = value(HOST_ENV)
    if not host:
        raise InstanceSettingsError(f"{HOST_ENV} is not set: name the PostgreSQL server of the Dagster instance")
    if any(c in host for c in "/@ ") and not host.startswith("/"):
        shown = re.sub(r"^([^/]*//)?[^@]*@", r"\1***@", host)  # a URL's user:password never in a message
        raise InstanceSettingsError(f"{HOST_ENV} must be a host name or address, got {shown!r}")
    if ":" in host:  # Dagster puts the host into a URL unbracketed: an IPv6 address there is misread
        raise InstanceSettingsError(f"{HOST_ENV} must be a host name or an IPv4 address (Dagster's connection URL "
                                    f"cannot hold an IPv6 address): got {host!r}; give the server a DNS name")
    raw_port = value(PORT_ENV)
    if not (raw_port.isascii() and raw_port.isdigit()) or not 1 <= int(raw_port) <= 65535:  # '²'.isdigit()
        raise InstanceSettingsError(f"{PORT_ENV} must be a port number (1 to 65535), got {raw_port!r}")
    for name in (USERNAME_ENV, DB_ENV):
        if any(c.isspace() or c in "\0" for c in value(name)):
            raise InstanceSettingsError(f"{name} must not hold whitespace, got {value(name)!r}")
    if any(c in value(DB_ENV) for c in "/?#%"):  # Dagster writes the database name into its URL unquoted
        raise InstanceSettingsError(f"{DB_ENV} must not hold / ? # or % (Dagster's connection URL would read "
                                    f"another database), got {value(DB_ENV)!r}")
    return PostgresSettings(host, int(raw_port), value(USERNAME_ENV), env.get(PASSWORD_ENV) or "", value(DB_ENV))


def storage_config(env: Mapping[str, str] | None = None) -> dict:
    """The ``storage`` section of ``dagster.yaml`` reading the ``DAGSTER_PG_*`` variables at start-up.

    With ``env`` (what `movie-assets instance init` sees), a variable that is unset there is written as its
    default (``DAGSTER_PG_PASSWORD``: empty) instead: Dagster has no default for an ``{env: ...}`` value and
    would refuse to start over a variable the check above took the default of."""

    def source(name: str, default: str | int) -> dict[str, str] | str | int:
        if env is None or (env.get(name) or "").strip():
            return {"env": name}
        return default

    return {
        "postgres": {
            "postgres_db": {
                "hostname": {"env": HOST_ENV},
                "port": source(PORT_ENV, int(DEFAULTS[PORT_ENV])),
                "username": source(USERNAME_ENV, DEFAULTS[USERNAME_ENV]),
                "password": source(PASSWORD_ENV, ""),
                "db_name": source(DB_ENV, DEFAULTS[DB_ENV]),
                # dagster-postgres installs psycopg2, while SQLAlchemy 2.1 reads a bare "postgresql" as psycopg 3.
                "scheme": "postgresql+psycopg2",
                # Fail within seconds when the server is unreachable, instead of the OS's minutes.
                "params": {"connect_timeout": 10},
            }
        }
    }


def check_connection(settings: PostgresSettings, timeout: float = 5.0) -> str:
    """Connect once; the server's version on success, else `InstanceSettingsError` in one line."""
    import psycopg2  # dagster-postgres' driver: only needed when PostgreSQL is selected

    try:
        connection = psycopg2.connect(
            host=settings.host,
            port=settings.port,
            user=settings.username,
            password=settings.password,
            dbname=settings.db_name,
            connect_timeout=max(1, round(timeout)),
            application_name="movie-assets instance check",
        )
    except psycopg2.OperationalError as error:
        raise InstanceSettingsError(_explain(settings, str(error))) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return str(cursor.fetchone()[0])
    finally:
        connection.close()


def _explain(settings: PostgresSettings, message: str) -> str:
    """One line naming the setting behind a psycopg2 connection error."""
    text = " ".join(message.split()).lower()
    where = f"PostgreSQL at {settings.host}:{settings.port}"
    if "password authentication failed" in text or "no password supplied" in text:
        return (f"{where} refused the password of role {settings.username!r}: check {PASSWORD_ENV} "
                f"(and {USERNAME_ENV})")
    if "role" in text and "does not exist" in text:
        return f"{where} has no role {settings.username!r}: check {USERNAME_ENV}"
    if "database" in text and "does not exist" in text:
        return f"{where} has no database {settings.db_name!r}: check {DB_ENV} (or create it)"
    if "could not translate host name" in text or "name or service not known" in text:
        return f"cannot resolve {settings.host!r}: check {HOST_ENV}"
    if "timeout expired" in text:
        return f"no answer from {where} within the timeout: check {HOST_ENV} and {PORT_ENV} (and firewalls)"
    if "connection refused" in text or "could not connect" in text or "is the server running" in text:
        return f"cannot reach {where} (connection refused): check {HOST_ENV} and {PORT_ENV}, is the server up?"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if settings.password:
        first = first.replace(settings.password, "***")
    return f"cannot connect to {where}: {first} (settings: {HOST_ENV}, {PORT_ENV}, {USERNAME_ENV}, {DB_ENV})"
