"""The one gunicorn configuration (Procfile, docker/Dockerfile): gunicorn reads it from the
working directory. Flags on the command line override it (the tests' own gunicorns do)."""

import os

# GUNICORN_BIND wins; else PORT (what Heroku-style platforms assign); else every interface, 8000.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# gthread: each worker process serves `threads` requests at once, so the threads absorb the
# waits on PostgreSQL, Redis and the PSP, and processes need only cover the cores (one GIL
# each) plus one spare: 3 on a 2-core machine. The sync-worker rule, 2 x cores + 1, would give
# 5 x 8 = 40 threads for 2 cores, each holding a database connection (CONN_MAX_AGE): more
# connections and context switches, no more throughput. The cap of 8 keeps 8 x 8 = 64
# connections under PostgreSQL's default max_connections (100) beside the Celery workers.
worker_class = "gthread"
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY", min(cores + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", 8))

timeout = 30  # a worker silent this long is killed; PostgreSQL's statement_timeout is 30 s too
graceful_timeout = 20  # on SIGTERM, requests in flight get this long (orchestrators: allow ≥ 25 s)
# Longer than a load balancer's idle timeout (60 s on nginx and AWS ALB): idle connections are
# closed by the balancer, never by gunicorn just as the balancer sends a request on one.
keepalive = 75

# A worker is replaced after about this many requests (jitter: not all at once), so a slow leak
# cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500

accesslog = "-"  # stdout, next to the application's JSON log lines
# Client (the proxy's address behind one), request line, status, bytes, time taken in ms, the
# request id (X-Request-Id, also on every application log line of the request).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
