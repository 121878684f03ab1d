"""gunicorn settings of the team deployment (read from the working directory by default).

Threads (issue 15, load): with plain sync workers a request that only lists stored runs
(~20 ms) waited behind a chart being drawn (~1 s under load) — 20 users on ``-w 2`` measured
an interactive p95 of 7,8 s, mostly queueing. ``gthread`` workers serve ``PREGAO_WEB_THREADS``
requests each (default 4): database waits, gzip and I/O overlap, and cheap callbacks no
longer queue behind heavy ones. The number of worker processes stays on the command line
(``-w N``; about one per CPU core, as each process is bound by Python's GIL for the
CPU-heavy part). Command-line options override this file.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("PREGAO_WEB_THREADS", "4"))
# Keep-alive between the reverse proxy (or the load generator) and gunicorn: no new TCP
# connection per Dash request.
keepalive = 5
