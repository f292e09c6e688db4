"""Streams one chat completion with the official openai client from each of several fake
upstreams that write their streams differently (spaced JSON, CRLF, one byte per write,
stream_options ignored), directly and through Flightdeck's proxy, and prints what the client
saw as JSON: the raw bytes, and the text read with the most common idiom,
`chunk.choices[0].delta.content` (which raises if the proxy leaks a chunk without choices).

Usage: proxy_stream_styles.py PROXY_URL SESSION NAME=DIRECT_URL...
"""

import json
import sys

import openai

proxy_url, session, upstreams = sys.argv[1], sys.argv[2], sys.argv[3:]
KEY = "sk-test-secret-never-stored"
HEADERS = {"x-flightdeck-session": session, "x-flightdeck-agent": "streamer"}
MESSAGES = [{"role": "user", "content": "Plan the job."}]


def outcome(read):
    try:
        return {"ok": read()}
    except Exception as e:  # noqa: BLE001 - what the client raised is the result
        return {"error": f"{type(e).__name__}: {e}"}


def raw(client):
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES, stream=True) as r:
        return b"".join(r.iter_bytes()).decode()


def idiom(client):
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream)


def main():
    results = {}
    for spec in upstreams:
        name, direct_url = spec.split("=", 1)
        direct = openai.OpenAI(base_url=f"{direct_url}/v1", api_key=KEY, max_retries=0)
        proxied = openai.OpenAI(base_url=f"{proxy_url}/{name}/v1", api_key=KEY, max_retries=0, default_headers=HEADERS)
        results[name] = {
            way: {"raw": outcome(lambda: raw(client)), "idiom": outcome(lambda: idiom(client))}
            for way, client in (("direct", direct), ("proxied", proxied))
        }
    print(json.dumps(results))


main()
