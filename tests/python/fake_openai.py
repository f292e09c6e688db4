"""A fake OpenAI-compatible server on loopback, for the OTLP tests: it answers
POST /v1/chat/completions with a fixed completion (or a tool call when the request offers
tools and no tool result is in the conversation yet), with usage, so that instrumentations
record a full LLM call without any network access."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "The vault opens at midnight."
USAGE = {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}


def completion(request):
    messages = request.get("messages", [])
    wants_tool = request.get("tools") and not any(m.get("role") == "tool" for m in messages)
    if wants_tool:
        tool = request["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": tool, "arguments": json.dumps({"floor": 2})},
                }
            ],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": ANSWER}
        finish = "stop"
    return {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1795168800,
        "model": request.get("model", "gpt-4o-mini") + "-2024-07-18",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": USAGE,
    }


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(completion(request)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start():
    """Starts the server on a free loopback port; returns its base URL for the OpenAI client."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"
