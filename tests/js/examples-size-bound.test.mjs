// The examples panel's caption when the index's byte bound left a cell out
// and its row count is unknown (`count: null`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { examplesCaption } from "../../plugin_static/examples-view-data.js";

test("a cell left out by the size bound is not called empty", () => {
  const payload = { true: 1, pred: 2, count: null, examples: [] };
  assert.equal(examplesCaption(payload), "No example of this cell was kept at this step (size bound).");
});

test("a cell with no rows is still called empty, and a counted one counted", () => {
  assert.equal(examplesCaption({ true: 1, pred: 2, count: 0, examples: [] }), "No rows of the examples set fall in this cell.");
  assert.equal(
    examplesCaption({ true: 1, pred: 2, count: 12, examples: [] }),
    "0 of 12 rows of the examples set · most confident mistakes",
  );
});
