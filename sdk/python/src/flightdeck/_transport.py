"""The HTTP transport: one kept-alive connection that posts a batch and classifies the answer.

A 2xx means the batch is durable on the server. Connection errors, timeouts, 408, 429 and 5xx
are transient (`Retry-After` in seconds sets the least wait before the next try); 413 asks for
smaller batches; any other status is a refusal, whose error body
(`{"error":{"code","message","errors":[{"index","field","message"}]}}`) names the bad messages.
"""

import gzip
import http.client
import json
import urllib.parse

from ._version import __version__

# Bodies under this size are sent as they are: gzip would cost more than it saves.
GZIP_FROM = 1024
MAX_QUOTED_BODY = 300


class Answer:
    """The outcome of one request."""

    __slots__ = ("kind", "reason", "retry_after", "invalid")

    OK, TRANSIENT, TOO_LARGE, REFUSED = "ok", "transient", "too_large", "refused"

    def __init__(self, kind, reason="", retry_after=None, invalid=()):
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after
        self.invalid = invalid  # indices of the refused messages, when the server named them


def endpoint(url, path):
    """(scheme, host, port, full path) of `path` under the base `url`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"flightdeck: the URL {url!r} is not http(s)://HOST[:PORT][/PREFIX]")
    prefix = parts.path.rstrip("/")
    if prefix.endswith(path):
        prefix = prefix[: -len(path)]
    return parts.scheme, parts.hostname, parts.port, prefix + path


class HttpTransport:
    """Posts bodies to `url` + `path`; used by one delivery thread only."""

    def __init__(self, url, token, timeout, path="/api/v1/events", content_type="application/x-ndjson"):
        self.scheme, self.host, self.port, self.path = endpoint(url, path)
        self.timeout = timeout
        self.headers = {"Content-Type": content_type, "User-Agent": f"flightdeck-python/{__version__}"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self._conn = None

    def _connection(self):
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, body):
        """Posts `body` (bytes) and says how it went."""
        headers = dict(self.headers)
        if len(body) >= GZIP_FROM:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            conn = self._connection()
            conn.request("POST", self.path, body=body, headers=headers)
            response = conn.getresponse()
            status = response.status
            text = response.read()
            retry_after = response.getheader("Retry-After")
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return Answer(Answer.TRANSIENT, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
        return classify(status, text, retry_after)


def classify(status, body, retry_after):
    """The `Answer` for an HTTP `status` with its `body` and `Retry-After` header."""
    if 200 <= status < 300:
        return Answer(Answer.OK)
    message, invalid = _error_of(body)
    reason = f"HTTP {status}: {message}"
    if status in (408, 429) or status >= 500:
        return Answer(Answer.TRANSIENT, reason, retry_after=_seconds(retry_after))
    if status == 413:
        return Answer(Answer.TOO_LARGE, reason)
    return Answer(Answer.REFUSED, reason, invalid=invalid)


def _error_of(body):
    try:
        error = json.loads(body)["error"]
        message = error["message"]
        if error.get("code"):
            message = f"{error['code']}: {message}"
        invalid = tuple(e["index"] for e in error.get("errors", ()) if isinstance(e.get("index"), int))
        return message, invalid
    except (ValueError, KeyError, TypeError, AttributeError):
        quoted = body[:MAX_QUOTED_BODY].decode("utf-8", "replace")
        return quoted or "(no body)", ()


def _seconds(value):
    """A `Retry-After` of delta-seconds (the HTTP-date form is not followed)."""
    try:
        return max(0.0, float(int(value.strip())))
    except (AttributeError, ValueError):
        return None

