// Unit tests of plugin_static/run-looks.js: the runs' colours and dash patterns.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assignColours } from "../../plugin_static/pivot.js";
import { RUN_COLOURS, RUN_DASHES, runDashes } from "../../plugin_static/run-looks.js";

test("each run colour has a dash pattern of its own, the first a solid line", () => {
  assert.equal(RUN_DASHES.length, RUN_COLOURS.length);
  assert.equal(new Set(RUN_DASHES).size, RUN_DASHES.length);
  assert.equal(RUN_DASHES[0], "none");
  for (const dash of RUN_DASHES.slice(1)) assert.match(dash, /^\d+( \d+)+$/);
});

test("runs with distinct colours get distinct dashes, each its colour's", () => {
  const runs = Array.from({ length: RUN_COLOURS.length }, (_, index) => `sweep/seed ${index}`);
  const colours = assignColours(runs, {}, RUN_COLOURS);
  const dashes = runDashes(colours);
  assert.deepEqual(Object.keys(dashes), Object.keys(colours));
  assert.equal(new Set(Object.values(dashes)).size, runs.length);
  for (const run of runs) assert.equal(dashes[run], RUN_DASHES[RUN_COLOURS.indexOf(colours[run])]);
  assert.deepEqual(runDashes({ a: "#4e79a7", b: "#f28e2b", other: "#000000" }), { a: "none", b: "8 4", other: "none" });
});
