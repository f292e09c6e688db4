// The current theme ("dark" or "light"), re-rendering on a switch: for what draws with the
// theme's colours read once (charts, canvases) and must draw again when it changes.
import { useEffect, useState } from '../vendor/preact-htm.mjs';

export function useTheme() {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme);
  useEffect(() => {
    const on = () => setTheme(document.documentElement.dataset.theme);
    window.addEventListener('themechange', on);
    return () => window.removeEventListener('themechange', on);
  }, []);
  return theme;
}
