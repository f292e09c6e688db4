"""Scripted agents on the official openai client, for the replay tests: run once through
Flightdeck's proxy (recorded), then again against a replay's base URL with no other change.

Usage: replay_agent.py BASE_URL SESSION PLAN [--stream] [--variant] [--replay ID]

BASE_URL is what OPENAI_BASE_URL would be (`.../proxy/openai/v1` or `.../replay/ID/openai/v1`).
PLAN names the agent of each call in order, e.g. `solo,solo,solo,solo` (one agent, four
calls) or `alpha,beta,alpha,beta`. Each agent's calls build on its own previous answers, so
an agent's requests depend on its answers only, not on the other agents'. `--variant` changes
the prompt of alpha's second call; `--replay ID` sends the replay header on the normal proxy
route instead of using a replay's base URL. Prints, as JSON, each call's agent, answer and (with
`--stream`) the raw bytes of the streamed response.
"""

import json
import sys

import openai

base_url, session, plan = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
stream = "--stream" in sys.argv
variant = "--variant" in sys.argv
headers = {"x-flightdeck-session": session}
if "--replay" in sys.argv:
    headers["x-flightdeck-replay"] = sys.argv[sys.argv.index("--replay") + 1]

clients = {}
history = {}
calls = []
for agent in plan:
    if agent not in clients:
        clients[agent] = openai.OpenAI(
            base_url=base_url,
            api_key="sk-test",
            max_retries=0,
            default_headers={**headers, "x-flightdeck-agent": agent},
        )
        history[agent] = [{"role": "system", "content": f"You are {agent}."}]
    n = sum(1 for c in calls if c["agent"] == agent) + 1
    prompt = f"{agent} step {n}"
    if variant and agent == "alpha" and n == 2:
        prompt += " (changed)"
    messages = history[agent] + [{"role": "user", "content": prompt}]
    client = clients[agent]
    if stream:
        with client.chat.completions.with_streaming_response.create(
            model="echo", messages=messages, stream=True
        ) as r:
            raw = b"".join(r.iter_bytes())
        answer = ""
        for line in raw.decode().splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                for choice in json.loads(line[6:])["choices"]:
                    answer += choice["delta"].get("content") or ""
        calls.append({"agent": agent, "answer": answer, "raw": raw.decode()})
    else:
        r = client.chat.completions.create(model="echo", messages=messages, temperature=0)
        answer = r.choices[0].message.content
        calls.append({"agent": agent, "answer": answer})
    history[agent] = messages + [{"role": "assistant", "content": answer}]

print(json.dumps(calls))
