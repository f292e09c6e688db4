"""Replays (docs/replay.md): `FLIGHTDECK_REPLAY` names a replay the server made; the wrappers
then send the client's calls to that replay's endpoint on the server, which answers the calls
before the fork point from the recording and sends the others upstream (recorded into the
fork). The upstream is the proxy's `[proxy.upstreams.NAME]`: `FLIGHTDECK_REPLAY_UPSTREAM`,
else `openai` (`anthropic` for Anthropic clients)."""

import os


def replay_base_url(kind="openai", upstream=None):
    """The base URL a client of API `kind` (`openai` or `anthropic`) uses for the replay in
    `FLIGHTDECK_REPLAY`, on the server of the default client; `None` when no replay is set."""
    replay = os.environ.get("FLIGHTDECK_REPLAY", "").strip()
    if not replay:
        return None
    from ._client import client

    upstream = upstream or os.environ.get("FLIGHTDECK_REPLAY_UPSTREAM") or kind
    base = f"{client().url.rstrip('/')}/replay/{replay}/{upstream}"
    return f"{base}/v1" if kind == "openai" else base


def rebase(api_client, kind):
    """Points `api_client` at the replay's endpoint when a replay is set."""
    url = replay_base_url(kind)
    if url:
        api_client.base_url = url
