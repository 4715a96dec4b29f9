// Unit tests of plugin_static/theme.js: which theme, and following TensorBoard's body or the system live.
import assert from "node:assert/strict";
import test from "node:test";

import { DARK_QUERY, chooseTheme, currentTheme, followTheme, onThemeChange, parentBody } from "../../plugin_static/theme.js";

const fakeBody = (...classes) => {
  const names = new Set(classes);
  return { classList: { contains: (name) => names.has(name), toggle: (name, on) => (on ? names.add(name) : names.delete(name)) } };
};

/** A window whose parent is `parent` (itself when null), with a system scheme and observers that can be fired. */
function fakeWindow({ parent = null, systemDark = false } = {}) {
  const observers = [];
  const mediaListeners = [];
  const win = {
    document: { documentElement: { dataset: {} } },
    matchMedia(query) {
      assert.equal(query, DARK_QUERY);
      return { get matches() { return win.systemDark; }, addEventListener: (type, listener) => mediaListeners.push(listener) };
    },
    MutationObserver: class {
      constructor(callback) { this.callback = callback; }
      observe(target, options) { observers.push({ target, options, callback: this.callback }); }
    },
    systemDark,
    observers,
    mediaListeners,
  };
  win.parent = parent ?? win;
  return win;
}

test("TensorBoard's body decides when it can be read, whatever the system prefers", () => {
  assert.equal(chooseTheme(fakeBody("dark-mode"), false), "dark");
  assert.equal(chooseTheme(fakeBody(), true), "light");
  assert.equal(chooseTheme(fakeBody("other"), false), "light");
});

test("without a readable parent the system's colour scheme decides", () => {
  assert.equal(chooseTheme(null, true), "dark");
  assert.equal(chooseTheme(null, false), "light");
});

test("parentBody: none for a page on its own or a parent of another origin", () => {
  assert.equal(parentBody(fakeWindow()), null);
  const body = fakeBody();
  assert.equal(parentBody(fakeWindow({ parent: { document: { body } } })), body);
  const crossOrigin = {
    get document() {
      throw new Error("SecurityError: Blocked a frame with origin");
    },
  };
  assert.equal(parentBody(fakeWindow({ parent: crossOrigin })), null);
});

test("followTheme follows TensorBoard's body class live and tells listeners once per change", () => {
  const body = fakeBody("dark-mode");
  const win = fakeWindow({ parent: { document: { body } }, systemDark: false });
  const seen = [];
  const stop = onThemeChange((theme) => seen.push(theme));
  try {
    assert.equal(followTheme(win), "dark");
    assert.equal(win.document.documentElement.dataset.theme, "dark");
    assert.equal(currentTheme(), "dark");
    assert.equal(win.observers.length, 1);
    assert.equal(win.observers[0].target, body);
    assert.deepEqual(win.observers[0].options.attributeFilter, ["class"]);
    assert.equal(win.mediaListeners.length, 0); // the body decides: the system's scheme is not watched
    body.classList.toggle("dark-mode", false);
    win.observers[0].callback();
    assert.equal(win.document.documentElement.dataset.theme, "light");
    win.observers[0].callback(); // another class changed: no change of theme
    body.classList.toggle("dark-mode", true);
    win.observers[0].callback();
    assert.deepEqual(seen, ["dark", "light", "dark"]);
  } finally {
    stop();
  }
});

test("followTheme on a page of its own follows the system's colour scheme", () => {
  const win = fakeWindow({ systemDark: true });
  assert.equal(followTheme(win), "dark");
  assert.equal(win.observers.length, 0);
  win.systemDark = false;
  for (const listener of win.mediaListeners) listener();
  assert.equal(win.document.documentElement.dataset.theme, "light");
  assert.equal(currentTheme(), "light");
});
