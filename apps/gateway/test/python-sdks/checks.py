"""What every check script shares: one JSON line per check, an exception as its result."""

import json
import os
import sys
import traceback

GATEWAY_URL = os.environ["GATEWAY_URL"]


def check(name):
    """Runs the decorated function at once and prints `{"check": name, ...its dict}`.

    An exception is the check's answer too (its class, status and body), so a test can
    assert on an SDK error class; anything else unexpected shows in `traceback`.
    """

    def run(fn):
        try:
            result = fn()
        except Exception as error:  # the test asserts on what was raised
            result = {
                "raised": type(error).__name__,
                "status": getattr(error, "status_code", None),
                "body": getattr(error, "body", None),
                "message": str(error)[:500],
                "traceback": traceback.format_exc()[-2000:],
            }
        print(json.dumps({"check": name, **result}, default=str), flush=True)
        return fn

    return run


class CountingHooks:
    """httpx event hooks that count the requests an SDK sends, its retries included."""

    def __init__(self):
        self.requests = 0

    def __call__(self, request):
        self.requests += 1


def env(name):
    return os.environ[name]


sys.stdout.reconfigure(line_buffering=True)
