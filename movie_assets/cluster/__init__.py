"""A whole deployment on one machine, for trying it and for the tests that prove it: a throw-away PostgreSQL
cluster and Redis broker, then the daemon, the webserver and Celery workers (`topology`)."""
