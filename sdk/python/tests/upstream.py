"""A scripted LLM upstream on loopback for the wrapper tests and the OpenAI example: it speaks
OpenAI chat completions and Responses, and Anthropic messages, plain and streaming (SSE), and
answers with a tool call when the request offers tools and holds no tool result yet. Its
answers are fixed (`ANSWER`, `USAGE_*`), so tests compare what Flightdeck recorded with them.

Run it alone with `python upstream.py PORT` (the examples' test does)."""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = ["The vault", " opens", " at midnight."]
TEXT = "".join(ANSWER)
TOOL_ARGS = {"floor": 2}
USAGE_OPENAI = {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
USAGE_RESPONSES = {"input_tokens": 19, "output_tokens": 6, "total_tokens": 25}
USAGE_ANTHROPIC = {"input_tokens": 17, "output_tokens": 5}


def _wants_tool(request, result_types):
    items = request.get("messages") or request.get("input") or []
    if not request.get("tools") or isinstance(items, str):
        return False
    for item in items:
        if item.get("role") == "tool" or item.get("type") in result_types:
            return False
        content = item.get("content")
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") in result_types for p in content):
            return False
    return True


def _tool_name(tool):
    return (tool.get("function") or tool).get("name")


# -- OpenAI chat completions ---------------------------------------------------------------


def chat(request):
    model = request.get("model", "gpt-4o-mini")
    tool = _tool_name(request["tools"][0]) if _wants_tool(request, ()) else None
    head = {"id": "chatcmpl-1", "created": 1795168800, "model": model + "-2024-07-18"}
    if not request.get("stream"):
        if tool:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps(TOOL_ARGS)}}]}
        else:
            message = {"role": "assistant", "content": TEXT}
        return None, {**head, "object": "chat.completion", "usage": USAGE_OPENAI, "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}]}
    chunk = {**head, "object": "chat.completion.chunk"}

    def delta(d, finish=None):
        return None, {**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}

    events = [delta({"role": "assistant", "content": ""})]
    if tool:
        args = json.dumps(TOOL_ARGS)
        events.append(delta({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                             "function": {"name": tool, "arguments": ""}}]}))
        events += [delta({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
                   for part in (args[:5], args[5:])]
        events.append(delta({}, "tool_calls"))
    else:
        events += [delta({"content": t}) for t in ANSWER]
        events.append(delta({}, "stop"))
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append((None, {**chunk, "choices": [], "usage": USAGE_OPENAI}))
    return events + [(None, "[DONE]")], None


# -- OpenAI Responses ------------------------------------------------------------------------


def responses(request):
    model = request.get("model", "gpt-4o-mini")
    tool = _tool_name(request["tools"][0]) if _wants_tool(request, ("function_call_output",)) else None
    if tool:
        output = [{"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": tool,
                   "arguments": json.dumps(TOOL_ARGS), "status": "completed"}]
    else:
        output = [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": TEXT, "annotations": []}]}]
    response = {"id": "resp_1", "object": "response", "created_at": 1795168800, "model": model + "-2024-07-18",
                "status": "completed", "output": output, "usage": USAGE_RESPONSES, "parallel_tool_calls": True,
                "tool_choice": "auto", "tools": request.get("tools", [])}
    if not request.get("stream"):
        return None, response
    started = {**response, "status": "in_progress", "output": [], "usage": None}
    events = [("response.created", {"type": "response.created", "sequence_number": 0, "response": started})]
    if not tool:
        events += [("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": i + 1,
                                                   "item_id": "msg_1", "output_index": 0, "content_index": 0,
                                                   "delta": t, "logprobs": []})
                   for i, t in enumerate(ANSWER)]
    events.append(("response.completed", {"type": "response.completed", "sequence_number": 9, "response": response}))
    return events, None


# -- Anthropic messages ----------------------------------------------------------------------


def messages(request):
    model = request.get("model", "claude-sonnet-4")
    tool = request["tools"][0]["name"] if _wants_tool(request, ("tool_result",)) else None
    if not request.get("stream"):
        content = ([{"type": "tool_use", "id": "toolu_1", "name": tool, "input": TOOL_ARGS}] if tool
                   else [{"type": "text", "text": TEXT}])
        return None, {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": content,
                      "stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None,
                      "usage": USAGE_ANTHROPIC}
    start = {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
             "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": USAGE_ANTHROPIC["input_tokens"], "output_tokens": 1}}
    events = [("message_start", {"type": "message_start", "message": start})]
    if tool:
        args = json.dumps(TOOL_ARGS)
        events.append(("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": tool, "input": {}}}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "input_json_delta", "partial_json": part}})
                   for part in (args[:5], args[5:])]
    else:
        events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": t}}) for t in ANSWER]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    events.append(("message_delta", {"type": "message_delta", "usage": {"output_tokens": USAGE_ANTHROPIC["output_tokens"]},
                                     "delta": {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events, None


ROUTES = {"/v1/chat/completions": chat, "/v1/responses": responses, "/v1/messages": messages}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        route = ROUTES.get(self.path.split("?")[0])
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        self.server.requests.append((self.path, body))
        if route is None:
            return self._send(404, "application/json", b'{"error":{"message":"no such route"}}')
        events, answer = route(body)
        if answer is not None:
            return self._send(200, "application/json", json.dumps(answer).encode())
        text = "".join((f"event: {name}\n" if name else "") + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
                       for name, data in events)
        self._send(200, "text/event-stream", text.encode())

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Upstream:
    """The scripted upstream on a free port, in a thread; `requests` holds (path, body) received."""

    def __init__(self, port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.requests = []
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.server.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    Upstream(int(sys.argv[1])).thread.join()
