"""Drives the official openai and anthropic clients at a fake upstream twice, directly and
through Flightdeck's proxy, and prints what each call returned as JSON, so the Rust test can
check that the proxy changes nothing a client can see.

Usage: proxy_clients.py DIRECT_URL PROXY_URL SESSION
"""

import json
import sys

import anthropic
import openai

direct_url, proxy_url, session = sys.argv[1], sys.argv[2], sys.argv[3]
KEY = "sk-test-secret-never-stored"
HEADERS = {"x-flightdeck-session": session, "x-flightdeck-agent": "planner", "x-flightdeck-tags": "py,proxy-test"}
MESSAGES = [{"role": "system", "content": "You plan heists."}, {"role": "user", "content": "Plan the job."}]


def openai_clients():
    direct = openai.OpenAI(base_url=f"{direct_url}/v1", api_key=KEY, max_retries=0)
    proxied = openai.OpenAI(base_url=f"{proxy_url}/openai/v1", api_key=KEY, max_retries=0, default_headers=HEADERS)
    return direct, proxied


def anthropic_clients():
    direct = anthropic.Anthropic(base_url=direct_url, api_key=KEY, max_retries=0)
    proxied = anthropic.Anthropic(base_url=f"{proxy_url}/anthropic", api_key=KEY, max_retries=0, default_headers=HEADERS)
    return direct, proxied


def outcome(call):
    """What a client sees: the raw bytes and status, or the exception it raises."""
    try:
        status, body = call()
        return {"status": status, "body": body.decode("utf-8", "replace")}
    except Exception as e:  # noqa: BLE001 - the exception type is what we compare
        status = getattr(e, "status_code", None)
        body = getattr(getattr(e, "response", None), "text", None) if status else None
        return {"error": type(e).__name__, "status": status, "body": body}


def plain(client_call):
    raw = client_call()
    return raw.http_response.status_code, raw.http_response.content


def streamed(client_call):
    with client_call() as r:
        return r.http_response.status_code, b"".join(r.iter_bytes())


def cases():
    od, op = openai_clients()
    ad, ap = anthropic_clients()
    chat = lambda c, **kw: c.chat.completions.with_raw_response.create(model=kw.pop("model", "gpt-4o"), messages=MESSAGES, **kw)
    chat_stream = lambda c, **kw: c.chat.completions.with_streaming_response.create(model=kw.pop("model", "gpt-4o"), messages=MESSAGES, stream=True, **kw)
    msg = lambda c, **kw: c.messages.with_raw_response.create(model=kw.pop("model", "claude-sonnet-4"), max_tokens=64, messages=MESSAGES[1:], system="You crack safes.", **kw)
    msg_stream = lambda c, **kw: c.messages.with_streaming_response.create(model=kw.pop("model", "claude-sonnet-4"), max_tokens=64, messages=MESSAGES[1:], system="You crack safes.", stream=True, **kw)
    return {
        "chat": lambda c: plain(lambda: chat(c[0], temperature=0.2)),
        "chat_stream": lambda c: streamed(lambda: chat_stream(c[0])),
        "chat_stream_with_usage": lambda c: streamed(lambda: chat_stream(c[0], stream_options={"include_usage": True})),
        "chat_429": lambda c: plain(lambda: chat(c[0], model="fail-429")),
        "chat_500": lambda c: plain(lambda: chat(c[0], model="fail-500")),
        "chat_cut_stream": lambda c: streamed(lambda: chat_stream(c[0], model="cut-stream")),
        "embeddings": lambda c: plain(lambda: c[0].embeddings.with_raw_response.create(model="text-embedding-3-small", input="the vault")),
        "models": lambda c: plain(lambda: c[0].models.with_raw_response.list()),
        "messages": lambda c: plain(lambda: msg(c[1])),
        "messages_stream": lambda c: streamed(lambda: msg_stream(c[1])),
    }, (od, ad), (op, ap)


def main():
    table, direct, proxied = cases()
    results = {}
    for name, run in table.items():
        results[name] = {"direct": outcome(lambda: run(direct)), "proxied": outcome(lambda: run(proxied))}
    print(json.dumps(results))


main()
