"""moto server for the tests, with DynamoDB requests applied one at a time.

moto keeps its tables in Python objects without locks, and its threaded server can interleave
two writes to one item, so a conditional write or a list_append could lose an update that real
DynamoDB, whose writes to an item are atomic, would keep. Serialising DynamoDB requests gives the
tests DynamoDB's isolation; SQS requests (long polls included) still run concurrently.

Usage: python3 scripts/moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

DYNAMODB_LOCK = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with DYNAMODB_LOCK:
                # The whole body is produced under the lock: the write happens while it runs.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, serialise_dynamodb(app), threaded=True)
