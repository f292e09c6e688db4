"""What goes on the wire: ids, times and JSON.

Messages are plain dicts in the native protocol (docs/protocol.md). Payloads (`input`,
`output`, `params`, `data`) are encoded to JSON text on the caller's thread, at the moment they
are recorded, so that a list the caller mutates afterwards (an agent's growing message list) is
recorded as it was; they travel under the `RAW` key and are spliced into the message's JSON
by `line()` on the delivery thread, which encodes everything else.
"""

import dataclasses
import enum
import itertools
import json
import math
import os
import time

RAW = "\x00raw"

# Span, event and edge ids: a random per-process prefix and a counter, unique across processes
# (64 random bits) and far cheaper than a UUID per span. A forked child draws a new prefix.
_prefix = ""
_counter = itertools.count()


def _reseed():
    global _prefix, _counter
    _prefix = os.urandom(8).hex()
    _counter = itertools.count()


_reseed()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)


def new_id():
    """A fresh id for a span, event or edge."""
    return f"{_prefix}{next(_counter):x}"


def new_session_id():
    """A fresh session id (random, 128 bits)."""
    return os.urandom(16).hex()


now = time.time_ns  # the protocol takes unix nanoseconds


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _fallback(value):
    """JSON for what json does not know: models, dataclasses, enums, sets, bytes, the rest as repr."""
    dump = getattr(value, "model_dump", None)  # pydantic 2 (openai and anthropic responses)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # noqa: BLE001 - any failure falls back to repr
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        return iso()
    return repr(value)[:1000]


_encoder = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_fallback
)


def _finite(value):
    """`value` with NaN and infinities as null, which JSON cannot carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def encode(value, limit):
    """`value` as JSON text of at most about `limit` characters (longer text is cut, with a note)."""
    try:
        text = _encoder.encode(value)
    except ValueError:  # NaN or infinity somewhere, or a cycle
        try:
            text = _encoder.encode(_finite(value))
        except ValueError:
            text = _encoder.encode(repr(value)[:limit])
    except (TypeError, RecursionError):
        text = _encoder.encode(repr(value)[:limit])
    if len(text) > limit:
        text = _encoder.encode(f"{text[:limit]}... [truncated: {len(text)} characters]")
    return text


def given(message_, **fields):
    """`message_` with those of `fields` that are set (not None, not empty)."""
    for key, value in fields.items():
        if value is not None and value != "" and value != {}:
            message_[key] = value
    return message_


def line(message):
    """One message as one line of JSON; takes its raw payloads out of `message`."""
    raw = message.pop(RAW, None)
    try:
        text = _compact.encode(message)
    except (ValueError, TypeError, RecursionError):  # an attribute JSON does not take as it is
        text = _encoder.encode(_finite(message))
    if raw:
        text = text[:-1] + "".join(f',"{k}":{v}' for k, v in raw.items()) + "}"
    return text
