"""Review gates: ``fd.review(...)`` opens a review and waits for a person's decision.

The wait long-polls ``GET /api/v1/reviews/{id}?wait=25`` and rides out a server restart (the
client chooses the ``review_id``, so a retried open opens nothing twice). If the server stays
unreachable past the deadline, the review's timeout action applies by the client's own clock
(``decided_by: "client"``). See docs/reviews.md.
"""

import json
import time
import urllib.error
import urllib.request
import uuid

from ._client import client as _default_client
from ._session import current_session

POLL_SECONDS = 25
GRACE_SECONDS = 2.0
RETRY_SECONDS = 0.25


class ReviewRefused(Exception):
    """The server refused the review request (bad input, credentials)."""


def _call(url, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=POLL_SECONDS + 10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code >= 500 or e.code in (408, 429):
            return None
        raise ReviewRefused(f"{e.code}: {e.read().decode(errors='replace')}") from None
    except (OSError, ValueError):
        return None


def review(output, *, task=None, title=None, prompt=None, session_id=None, span_id=None, agent=None,
           review_id=None, timing="after", timeout=300.0, on_timeout="continue", choices=None):
    """Asks a person to review ``output`` (any JSON value) and waits; returns the settled review
    as a dict: ``decision`` (``continue``, ``edit``, ``exit_early``, ``fail``), ``state``, and
    ``revised_output`` after an edit. ``timeout`` is in seconds."""
    c = _default_client()
    if session_id is None:
        current = current_session()
        if current is None:
            raise ValueError("fd.review needs a session: call it inside fd.session(...) or pass session_id")
        session_id = current.id
    review_id = review_id or uuid.uuid4().hex
    body = {"session_id": session_id, "review_id": review_id, "output": output, "timing": timing,
            "timeout_ms": int(timeout * 1000), "on_timeout": on_timeout}
    for key, value in (("task", task), ("title", title), ("prompt", prompt), ("span_id", span_id),
                       ("agent", agent), ("choices", choices)):
        if value is not None:
            body[key] = value
    base = c.url.rstrip("/")
    give_up = time.monotonic() + timeout + GRACE_SECONDS
    requested_at = time.time()
    opened = None
    while opened is None:
        opened = _call(f"{base}/api/v1/reviews", c.token, body)
        if opened is None:
            if time.monotonic() >= give_up:
                return _fallback(body, requested_at)
            time.sleep(RETRY_SECONDS)
    while True:
        got = _call(f"{base}/api/v1/reviews/{review_id}?wait={POLL_SECONDS}", c.token)
        if got is not None and got.get("state") != "pending":
            return got
        if got is None:
            if time.monotonic() >= give_up:
                return _fallback(body, requested_at)
            time.sleep(RETRY_SECONDS)


def _fallback(body, requested_at):
    """The review as the client settles it when the server stayed away past the deadline."""
    return dict(body, state="timed_out", decision=body["on_timeout"], decided_by="client",
                requested_at=requested_at, decided_at=time.time())
