// A review span read as a gate: how long it has been waiting on a person (or waited), and
// the decision, once the review's event is in the model. The graph and the timeline show it.
import { ms } from './format.js';

/** Decisions found so far, by model and span (a settled review's decision never changes). */
const found = new WeakMap();

/** The decision of a settled review span ("continue", "edit", ...), when its event is known. */
export function gateDecision(model, span) {
  let known = found.get(model);
  if (!known) found.set(model, (known = new Map()));
  if (known.has(span.span_id)) return known.get(span.span_id);
  for (let i = model.events.length - 1; i >= 0; i--) {
    const e = model.events[i];
    if (e.span_id === span.span_id && e.category === 'review' && e.data?.decision) {
      known.set(span.span_id, e.data.decision);
      return e.data.decision;
    }
  }
  return null;
}

/** "waiting 12.0 s" while pending; "waited 4.2 s · exit early" once settled. */
export function gateText(model, span, now = Date.now()) {
  if (span.status === 'running') return `waiting ${ms(now - Date.parse(span.started_at))}`;
  const decision = gateDecision(model, span);
  return `waited ${ms(span.duration_ms)}${decision ? ` · ${decision.replace('_', ' ')}` : ''}`;
}
