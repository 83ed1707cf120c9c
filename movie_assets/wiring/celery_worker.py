"""The Celery app of a movie_assets worker: ``celery -A movie_assets.wiring.celery_worker worker -Q dagster``.

Importing it reads ``$DAGSTER_HOME/dagster.yaml`` (`movie_assets.wiring.celery.worker_app`); the daemon and the
webserver never import it."""

from movie_assets.wiring.celery import worker_app

app = worker_app()
