// The header's status line: when the server last answered and when that last brought something new.
import { test } from "node:test";
import assert from "node:assert/strict";

import { statusText, statusTitle } from "../../plugin_static/status-line.js";

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
