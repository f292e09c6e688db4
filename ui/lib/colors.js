// Stable colours: one hue per agent (so the feed, timeline and graphs agree), and the
// state and kind colours the graph and the timeline share. Values come from style.css.
// The agents of the session on screen get distinct hues (`session agents`), handed out in the
// order they first appear, a golden angle apart; any other name hashes to its hue.
const cache = new Map();
const session = new Map();
const FIRST_HUE = 215;
const GOLDEN = 137.508;

/** Forgets the session's hues (a session page opens or closes). */
export function resetSessionAgents() {
  session.clear();
}

/** Gives `name` the next distinct hue of the session, unless it has one. */
export function addSessionAgent(name) {
  if (name && !session.has(name)) session.set(name, (FIRST_HUE + session.size * GOLDEN) % 360);
}

/** A hue for an agent name: its session hue, else one spread around the wheel by a hash. */
export function agentHue(name) {
  if (!name) return 220;
  if (session.has(name)) return session.get(name);
  if (!cache.has(name)) {
    let h = 0;
    for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    cache.set(name, (h * 137.508) % 360);
  }
  return cache.get(name);
}

// Comma syntax: cytoscape parses only that form of hsl().
export const agentColor = (name, l = 60) => `hsl(${agentHue(name)}, 65%, ${l}%)`;

/** Reads a CSS custom property of the current theme (canvas and cytoscape need values). */
export const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
