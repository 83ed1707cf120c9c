"""Runs on Celery workers, chosen by ``DAGSTER_CELERY_BROKER_URL``: the ``run_launcher`` and ``run_monitoring``
sections of ``dagster.yaml``, and a check of the broker before anything starts.

=============================  =================================================================
``DAGSTER_CELERY_BROKER_URL``   the broker, e.g. ``redis://broker.internal:6379/0`` (selects Celery)
``DAGSTER_CELERY_BACKEND_URL``  the result backend, default: the broker's URL (Redis keeps both)
=============================  =================================================================

Celery needs a shared instance: it is refused without ``DAGSTER_PG_HOST`` (SQLite files cannot be shared by
machines). The settings below go to the daemon's launcher and to every worker alike: a worker builds its Celery
app from the same ``run_launcher`` block (`movie_assets.wiring.celery.worker_app`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from movie_assets.instance import postgres

BROKER_ENV = "DAGSTER_CELERY_BROKER_URL"
BACKEND_ENV = "DAGSTER_CELERY_BACKEND_URL"
QUEUE = "dagster"

# Celery settings of the launcher and the workers. Acknowledging a run's message only when the run ends, with one
# message prefetched per worker process, keeps a queued run in the broker until a worker is free to start it: with
# early acknowledgement a busy worker would hold the next run back while another worker idles. Publishing retries
# for about a minute, so a broker restarting while the daemon launches a run delays the run instead of failing it.
# Results and unacknowledged messages outlive a long run (a week; 12 hours before Redis hands a message out again,
# and a run worker started twice is ignored by Dagster).
CELERY_SETTINGS: dict[str, Any] = {
    "task_acks_late": True,
    "worker_prefetch_multiplier": 1,
    "task_publish_retry_policy": {"max_retries": 30, "interval_start": 0, "interval_step": 1, "interval_max": 2},
    "broker_connection_retry_on_startup": True,
    "broker_transport_options": {"visibility_timeout": 43200, "max_retries": 3, "interval_start": 0,
                                 "interval_step": 0.2, "interval_max": 0.5},
    "result_expires": 604800,
}

# Run monitoring with Celery: a lost worker (its run's task unanswered twice, `movie_assets.wiring.celery`) is
# noticed within about a minute and its run resumed on another worker, twice at most.
RUN_MONITORING: dict[str, Any] = {"poll_interval_seconds": 30, "max_resume_run_attempts": 2}


class CelerySettingsError(ValueError):
    """The Celery settings are unusable: the message names the variable and holds no password."""


def require_shared_instance(use_postgres: bool) -> None:
    """`CelerySettingsError` unless the instance is on PostgreSQL: SQLite files cannot be shared by machines."""
    if not use_postgres:
        raise CelerySettingsError(f"{BROKER_ENV} is set but {postgres.HOST_ENV} is not: Celery workers need a "
                                  "shared instance database (PostgreSQL)")


def is_selected(env: Mapping[str, str]) -> bool:
    """Whether the variables select Celery workers (``DAGSTER_CELERY_BROKER_URL`` holds a value)."""
    return bool((env.get(BROKER_ENV) or "").strip())


def shown(url: str) -> str:
    """``url`` with any password masked, for messages."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def broker_url(env: Mapping[str, str]) -> str:
    """``DAGSTER_CELERY_BROKER_URL``, checked for form (and ``DAGSTER_CELERY_BACKEND_URL`` with it);
    `CelerySettingsError` naming the variable otherwise. The values are never echoed: a URL holds a password."""
    url = _url(env, BROKER_ENV, "a broker URL such as redis://host:6379/0")
    backend = _url(env, BACKEND_ENV, "a result backend URL such as redis://host:6379/1") if (
        env.get(BACKEND_ENV) or "").strip() else None
    if backend is None and not url.startswith(("redis://", "rediss://")):
        raise CelerySettingsError(f"{BROKER_ENV} is not a Redis URL, and Celery keeps no results in that broker: "
                                  f"set {BACKEND_ENV} (Redis, or a database: db+postgresql://...)")
    if backend is not None and backend.startswith("rpc://"):
        raise CelerySettingsError(f"{BACKEND_ENV} is rpc://, which only the sender of a task can read: the daemon "
                                  "could not see a run's task state; use Redis or a database")
    return url


def _url(env: Mapping[str, str], name: str, example: str) -> str:
    raw = env.get(name) or ""
    url = raw.strip()
    if url != raw:
        raise CelerySettingsError(f"{name} has blanks around its value: Dagster reads the variable as it is; "
                                  "remove them")
    if "://" not in url:
        raise CelerySettingsError(f"{name} must be {example}")
    return url


def launcher_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``run_launcher`` section: movie_assets' `CeleryRunLauncher`, broker and backend read from the
    variables at start-up (the backend defaults to the broker's URL when ``DAGSTER_CELERY_BACKEND_URL`` is unset)."""
    backend = BACKEND_ENV if (env.get(BACKEND_ENV) or "").strip() else BROKER_ENV
    return {
        "module": "movie_assets.wiring.celery",
        "class": "CeleryRunLauncher",
        "config": {
            "broker": {"env": BROKER_ENV},
            "backend": {"env": backend},
            "default_queue": QUEUE,
            "config_source": CELERY_SETTINGS,
        },
    }


def check_broker(url: str, timeout: float = 5.0) -> str:
    """Connect to the broker once; what answered (``redis://host:port/0``, password masked), else
    `CelerySettingsError` in one line naming ``DAGSTER_CELERY_BROKER_URL``."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # kombu's OperationalError, socket errors, an unknown transport (KeyError/ImportError)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        password = _password(url)
        if password:
            first = first.replace(password, "***")
        raise CelerySettingsError(f"cannot reach the Celery broker at {shown(url)}: {first} (check "
                                  f"{BROKER_ENV}; is the broker up?)") from None
    return shown(url)


def _password(url: str) -> str | None:
    from kombu.utils.url import url_to_parts

    try:
        return url_to_parts(url).password
    except Exception:  # a malformed URL: nothing to mask beyond what `shown` does
        return None
