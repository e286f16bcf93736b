"""moto's server, with S3's conditional writes made atomic, for the tests.

Real S3 checks a put's If-Match / If-None-Match and stores the object as one step. moto's
server checks the condition in its request handler and stores the object later, on a
thread of its own per request, with no lock between: two conditional puts of one key can
both pass the check, and the second silently replaces the first. The label files, the
index shards and the gold list rely on that check (one lost race costs an answer), so the
tests run moto with every object write (PUT and DELETE; SQS only uses POST) taken one at
a time. Long polls and reads still run side by side.

Usage: python moto_server.py [moto_server's own options, e.g. -H 127.0.0.1 -p PORT]
"""

import threading

import moto.server as server

_writes = threading.Lock()
_run_simple = server.run_simple


def _one_write_at_a_time(app):
    def wrapped(environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("PUT", "DELETE"):
            return app(environ, start_response)
        with _writes:
            # The whole response is made inside the lock: moto stores while making it.
            return list(app(environ, start_response))

    return wrapped


def _run_simple_serialising_writes(host, port, app, **options):
    return _run_simple(host, port, _one_write_at_a_time(app), **options)


server.run_simple = _run_simple_serialising_writes

if __name__ == "__main__":
    server.main()
