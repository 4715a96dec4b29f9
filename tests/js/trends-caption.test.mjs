// Unit tests of plugin_static/trends-caption.js.
import assert from "node:assert/strict";
import { test } from "node:test";

import { oneStepNote } from "../../plugin_static/trends-caption.js";

test("one step so far: the note says which step, for one run or runs at the same step", () => {
  assert.equal(oneStepNote([[0]]), "one step logged so far (step 0): a line starts at the second");
  assert.equal(oneStepNote([[3], [3]]), "one step logged so far (step 3): a line starts at the second");
});

test("runs of one step each at different steps: the note says each run has one, and which steps", () => {
  assert.equal(oneStepNote([[4], [0]]), "each run has one step logged so far (steps 0, 4): a line starts at its second");
  assert.equal(oneStepNote([[2], [0], [2]]), "each run has one step logged so far (steps 0, 2): a line starts at its second");
  // A run with nothing logged yet (or whose series failed) does not count.
  assert.equal(oneStepNote([[1], [], [5]]), "each run has one step logged so far (steps 1, 5): a line starts at its second");
});

test("no note once a run has a line, or with no step at all", () => {
  assert.equal(oneStepNote([[0, 1]]), null);
  assert.equal(oneStepNote([[0], [0, 1]]), null);
  assert.equal(oneStepNote([[], []]), null);
  assert.equal(oneStepNote([]), null);
});
