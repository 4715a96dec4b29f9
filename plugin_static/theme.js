// The page's light or dark look follows TensorBoard's: dark while TensorBoard's page (the
// parent of the plugin iframe, same origin) has the class `dark-mode` on its body, which its
// header's toggle sets and, by default, the system's colour scheme. A page whose parent cannot
// be read (opened on its own, embedded from another origin) follows the system's
// `prefers-color-scheme`. The theme is the root element's `data-theme` ("light" | "dark"),
// which style.css reads; code that draws colours itself asks `currentTheme()` and redraws
// on `onThemeChange`.

/** The media query of a system in dark mode. */
export const DARK_QUERY = "(prefers-color-scheme: dark)";

/** The class TensorBoard puts on its page's body in dark mode. */
export const TENSORBOARD_DARK_CLASS = "dark-mode";

const listeners = new Set();
let current = "light";

/**
 * The body of the page that holds this one in an iframe, or null: no parent (a page opened
 * on its own) or one the browser does not let this page read (another origin).
 * @param {Window} win
 * @returns {HTMLElement|null}
 */
export function parentBody(win) {
  try {
    if (!win.parent || win.parent === win) return null;
    return win.parent.document.body ?? null;
  } catch {
    return null;
  }
}

/**
 * The theme to show.
 * @param {{classList: {contains: (name: string) => boolean}}|null} body TensorBoard's page body ({@link parentBody})
 * @param {boolean} systemDark whether the system prefers dark ({@link DARK_QUERY})
 * @returns {"light"|"dark"}
 */
export function chooseTheme(body, systemDark) {
  if (body) return body.classList.contains(TENSORBOARD_DARK_CLASS) ? "dark" : "light";
  return systemDark ? "dark" : "light";
}

/**
 * The theme shown now.
 * @returns {"light"|"dark"}
 */
export function currentTheme() {
  return current;
}

/**
 * Calls `listener(theme)` whenever the theme changes.
 * @param {(theme: "light"|"dark") => void} listener
 * @returns {() => void} stops calling it
 */
export function onThemeChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Sets the page's theme now and keeps it in step: with TensorBoard's body when it can be
 * read (a MutationObserver on its class), else with the system's colour scheme.
 * @param {Window} [win]
 * @returns {"light"|"dark"} the theme set
 */
export function followTheme(win = window) {
  const root = win.document.documentElement;
  const body = parentBody(win);
  const media = win.matchMedia ? win.matchMedia(DARK_QUERY) : null;
  const apply = () => {
    const next = chooseTheme(body, Boolean(media?.matches));
    const changed = next !== current;
    current = next;
    root.dataset.theme = next;
    if (changed) for (const listener of listeners) listener(next);
  };
  apply();
  if (body) new win.MutationObserver(apply).observe(body, { attributes: true, attributeFilter: ["class"] });
  else media?.addEventListener("change", apply);
  return current;
}
