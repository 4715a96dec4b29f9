// The header's status line: when the server last answered and when that last brought something new.
import { test } from "node:test";
import assert from "node:assert/strict";

import { createCheckTimes, createStatusLine, statusText, statusTitle } from "../../plugin_static/status-line.js";

const at = (seconds) => new Date(Date.UTC(2026, 0, 1, 14, 5, seconds));
const clock = (date) => date.toISOString().slice(11, 19);

test("a check that finds nothing new moves the time checked, and says since when nothing is new", () => {
  assert.equal(statusText({ checked: at(0), changed: at(0), failed: null, pollSeconds: 5 }, clock), "Checked 14:05:00");
  assert.equal(statusText({ checked: at(35), changed: at(0), failed: null, pollSeconds: 5 }, clock), "Checked 14:05:35 · nothing new since 14:05:00");
  // A check that found something: one time.
  assert.equal(statusText({ checked: at(40), changed: at(40), failed: null, pollSeconds: 5 }, clock), "Checked 14:05:40");
  // Within the same second the two times read alike: said once.
  assert.equal(statusText({ checked: new Date(at(40).getTime() + 500), changed: at(40), failed: null, pollSeconds: 5 }, clock), "Checked 14:05:40");
});

test("a check without an answer says so, with the last answer", () => {
  assert.equal(statusText({ checked: at(10), changed: at(0), failed: at(15), pollSeconds: 5 }, clock), "Check failed 14:05:15 · last answer 14:05:10");
  assert.equal(statusText({ checked: null, changed: null, failed: at(15), pollSeconds: 5 }, clock), "Check failed 14:05:15");
  assert.equal(statusText({ checked: null, changed: null, failed: null, pollSeconds: 5 }, clock), "Loading…");
});

test("without polling the line says the page does not check", () => {
  assert.equal(statusText({ checked: at(10), changed: at(10), failed: null, pollSeconds: 0 }, clock), "Loaded 14:05:10 · not checking for new data (poll=0)");
  assert.match(statusTitle(5), /every 5 s/);
  assert.match(statusTitle(0), /does not ask/);
});

test("the browser's own clock format by default", () => {
  assert.equal(statusText({ checked: at(10), changed: at(10), failed: null, pollSeconds: 5 }), `Checked ${at(10).toLocaleTimeString()}`);
});

test("the check times: the first answer is new data, an answer after failed checks is not unless the runs differ", async () => {
  const { createCheckTimes } = await import("../../plugin_static/status-line.js");
  let seconds = 0;
  const checks = createCheckTimes(() => at(seconds));
  assert.deepEqual(checks.times(), { checked: null, changed: null, failed: null });
  checks.answered(false); // the first answer, even of an empty log directory
  assert.deepEqual(checks.times(), { checked: at(0), changed: at(0), failed: null });
  seconds = 5;
  checks.answered(false);
  assert.deepEqual(checks.times(), { checked: at(5), changed: at(0), failed: null });
  seconds = 10;
  checks.failed();
  assert.deepEqual(checks.times(), { checked: at(5), changed: at(0), failed: at(10) });
  seconds = 15;
  checks.answered(false); // back, the same runs
  assert.deepEqual(checks.times(), { checked: at(15), changed: at(0), failed: null });
  checks.newData(); // its steps changed
  assert.deepEqual(checks.times(), { checked: at(15), changed: at(15), failed: null });
  seconds = 20;
  checks.answered(true); // a run came or went
  assert.deepEqual(checks.times(), { checked: at(20), changed: at(20), failed: null });
});

/** An element's text, tooltip and classes, as the status line sets them. */
function fakeElement() {
  const classes = new Set();
  return {
    textContent: "",
    title: "",
    classes,
    classList: {
      add: (name) => classes.add(name),
      remove: (name) => classes.delete(name),
      toggle: (name, on) => (on ? classes.add(name) : classes.delete(name)),
    },
  };
}

test("the status line shows loading while the page loads, then the check times, and a failed check as an error", () => {
  let now = at(0);
  const checks = createCheckTimes(() => now);
  const element = fakeElement();
  let listError = null;
  const line = createStatusLine({ element, checks, pollSeconds: 5, listError: () => listError, clock });
  line.loading();
  assert.equal(element.textContent, "Loading…");
  assert.deepEqual([...element.classes], ["busy"]);
  checks.answered(true);
  line.show();
  assert.equal(element.textContent, "Checked 14:05:00");
  assert.equal(element.title, statusTitle(5));
  assert.deepEqual([...element.classes], []);
  now = at(20);
  listError = "HTTP 503: Service Unavailable";
  checks.failed();
  line.show();
  assert.equal(element.textContent, "Check failed 14:05:20 · last answer 14:05:00");
  assert.equal(element.title, `HTTP 503: Service Unavailable. ${statusTitle(5)}`);
  assert.deepEqual([...element.classes], ["error"]);
  now = at(25);
  listError = null;
  checks.answered(false);
  line.show();
  assert.equal(element.textContent, "Checked 14:05:25 · nothing new since 14:05:00");
  assert.deepEqual([...element.classes], []);
});
