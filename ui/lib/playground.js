// The playground's API (docs/playground.md) and its request form: a prefilled request body
// split into what the page edits (messages by role, the model, parameters, tools, the rest)
// and put back together, with every JSON field checked and named when it is wrong.
const BASE = '/api/v1/playground';

async function read(res) {
  if (res.status === 401) location.assign('/login');
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error?.message || `${res.status} ${res.statusText}`);
  return body;
}

const ref = (sessionId, spanId) => new URLSearchParams({ session_id: sessionId, span_id: spanId });

/** The events of an SSE body, as [name, data] with the data parsed from JSON. */
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) yield [name, JSON.parse(data.join('\n'))];
    }
  }
}

export const playgroundApi = {
  upstreams: () => fetch(`${BASE}/upstreams`).then(read),
  request: (sessionId, spanId) => fetch(`${BASE}/request?${ref(sessionId, spanId)}`).then(read),
  runs: (sessionId, spanId) => fetch(`${BASE}/runs?${ref(sessionId, spanId)}`).then(read),
  /** Posts a streamed run; `onEvent(name, data)` for each event (start, delta, run, error, end). */
  async run(request, onEvent) {
    const res = await fetch(`${BASE}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ ...request, stream: true }),
    });
    if (!res.ok) await read(res);
    for await (const [name, data] of events(res.body)) onEvent(name, data);
  },
};

/** The parameters shown as fields, per API (others stay in "other parameters"). */
export const PARAMS = {
  chat_completions: ['temperature', 'max_tokens', 'top_p', 'stop', 'response_format'],
  responses: ['temperature', 'max_output_tokens', 'top_p', 'text'],
  messages: ['temperature', 'max_tokens', 'top_p', 'stop_sequences'],
};
/** Parameters that must be JSON objects. */
const OBJECTS = ['response_format', 'text'];
/** The key of the message list, and of the system prompt where the API keeps it apart. */
const LIST = { chat_completions: 'messages', responses: 'input', messages: 'messages' };
const SYSTEM = { responses: 'instructions', messages: 'system' };
export const ROLES = ['system', 'user', 'assistant', 'tool'];

const pretty = (v) => JSON.stringify(v, null, 2);
const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

/** One message as the form edits it: text content as text, anything else (parts, images,
 * tool results) as JSON; other keys (tool_calls, tool_call_id, name) as JSON beside it. An
 * item without a role (a Responses `function_call_output`) is edited whole as JSON. */
function formMessage(m) {
  if (!m || typeof m !== 'object' || !('role' in m)) return { role: 'item', content: pretty(m), json: true, extra: '' };
  const { role, content, ...rest } = m;
  const text = typeof content === 'string';
  return { role, content: text ? content : pretty(content ?? null), json: !text, extra: Object.keys(rest).length ? pretty(rest) : '' };
}

/** The form of a request body of `api`. */
export function toForm(api, body) {
  const rest = { ...body };
  const messages = [];
  const sys = SYSTEM[api];
  if (sys && rest[sys] != null) messages.push({ role: 'system', content: rest[sys] });
  if (sys) delete rest[sys];
  const list = rest[LIST[api]];
  delete rest[LIST[api]];
  if (Array.isArray(list)) messages.push(...list);
  else if (list != null) messages.push({ role: 'user', content: list });
  const model = rest.model ?? '';
  for (const k of ['model', 'stream', 'stream_options']) delete rest[k];
  const params = {};
  for (const k of PARAMS[api]) {
    params[k] = k in rest ? asText(rest[k]) : '';
    delete rest[k];
  }
  const tools = rest.tools != null ? pretty(rest.tools) : '';
  const toolChoice = rest.tool_choice != null ? asText(rest.tool_choice) : '';
  delete rest.tools;
  delete rest.tool_choice;
  return { api, model, messages: messages.map(formMessage), params, tools, toolChoice, other: Object.keys(rest).length ? pretty(rest) : '' };
}

/** A field's value: JSON when it reads as JSON, else the text. */
const valueOf = (s) => {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};

/** The request body of a form, and what is wrong with it (each error names its field). */
export function fromForm(f) {
  const errors = [];
  const parse = (label, s) => {
    try {
      return JSON.parse(s);
    } catch (e) {
      errors.push(`${label}: not valid JSON (${e.message})`);
      return undefined;
    }
  };
  let body = {};
  if (f.other.trim()) {
    const other = parse('other parameters', f.other);
    if (other && typeof other === 'object' && !Array.isArray(other)) body = other;
    else if (other !== undefined) errors.push('other parameters: must be a JSON object');
  }
  if (f.model.trim()) body.model = f.model.trim();
  const messages = f.messages.map((m, i) => {
    const label = `message ${i + 1} (${m.role})`;
    if (m.role === 'item') return parse(label, m.content);
    const out = { role: m.role, content: m.json ? parse(`${label} content`, m.content) : m.content };
    if (m.extra.trim()) {
      const extra = parse(`${label} fields`, m.extra);
      if (extra && typeof extra === 'object') Object.assign(out, extra);
    }
    return out;
  });
  const sys = SYSTEM[f.api];
  if (sys && messages[0]?.role === 'system') body[sys] = messages.shift().content;
  body[LIST[f.api]] = messages;
  for (const k of PARAMS[f.api]) {
    // Fields of another API (the API was switched) are left out.
    const v = f.params[k]?.trim();
    if (!v) continue;
    body[k] = valueOf(v);
    if (OBJECTS.includes(k) && (typeof body[k] !== 'object' || Array.isArray(body[k]))) errors.push(`${k}: must be a JSON object`);
  }
  if (f.tools.trim()) {
    const tools = parse('tools', f.tools);
    if (tools !== undefined && !Array.isArray(tools)) errors.push('tools: must be a JSON array of tool definitions');
    else if (tools !== undefined) body.tools = tools;
  }
  if (f.toolChoice.trim()) body.tool_choice = valueOf(f.toolChoice.trim());
  return { body, errors };
}

/** An empty chat completions form, for a playground opened without a span. */
export const blankForm = () => toForm('chat_completions', { model: '', messages: [{ role: 'user', content: '' }] });
