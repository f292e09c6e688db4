// The session's events (logs, decisions, custom), read from the API once per model and then
// kept current by the live `event` messages the model applies.
import { useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from './api.js';

export function useEvents(model) {
  const [state, setState] = useState({ loaded: !!model.eventsLoaded, error: null });
  useEffect(() => {
    if (model.eventsLoaded) return;
    api.events(model.id).then(
      (events) => {
        model.eventsLoaded = true;
        model.addEvents(events);
        setState({ loaded: true, error: null });
      },
      (error) => setState({ loaded: true, error }),
    );
  }, [model]);
  return state;
}
