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
  assert.deepEqual({ ...runDashes({ a: "#4e79a7", b: "#f28e2b", other: "#000000" }) }, { a: "none", b: "8 4", other: "none" });
});

test("past the palette, runs that share a colour differ in dashes: a sweep's runs all look apart", () => {
  const [first, second] = RUN_COLOURS;
  // The 11th run of a sweep took the 1st run's colour and, with it, its solid line.
  assert.deepEqual({ ...runDashes({ a: first, b: second, k: first, l: first }) }, { a: "none", b: "8 4", k: "8 4", l: "2 3" });
  const looksOf = (count) => {
    const runs = Array.from({ length: count }, (_, index) => `sweep/seed ${String(index).padStart(3, "0")}`);
    const colours = assignColours(runs, {}, RUN_COLOURS);
    const dashes = runDashes(colours);
    const perColour = new Map();
    for (const run of runs) perColour.set(colours[run], (perColour.get(colours[run]) ?? 0) + 1);
    return { looks: new Set(runs.map((run) => `${colours[run]} ${dashes[run]}`)).size, perColour: [...perColour.values()] };
  };
  assert.equal(looksOf(11).looks, 11); // was 10: seeds 000 and 010 were drawn alike
  assert.equal(looksOf(30).looks, 30); // was 10
  // Colours past the palette go by name: a colour with more runs than dashes repeats only those.
  const hundred = looksOf(RUN_COLOURS.length * RUN_DASHES.length);
  assert.equal(hundred.looks, hundred.perColour.reduce((sum, runs) => sum + Math.min(runs, RUN_DASHES.length), 0));
  assert.ok(hundred.looks >= 90, String(hundred.looks));
  // A run keeps its dash when other runs appear (assignColours keeps the earlier runs first).
  const before = assignColours(["r01", "r02"], {}, RUN_COLOURS);
  const after = assignColours(Array.from({ length: 25 }, (_, index) => `r${String(index).padStart(2, "0")}`), before, RUN_COLOURS);
  assert.deepEqual(Object.fromEntries(Object.entries(runDashes(after)).slice(0, 2)), { ...runDashes(before) });
});

test("runs named like an object's own properties get a dash each", () => {
  const colours = assignColours(["baseline", "__proto__", "constructor"], {}, RUN_COLOURS);
  const dashes = runDashes(colours);
  assert.deepEqual(Object.keys(dashes), Object.keys(colours));
  for (const run of ["baseline", "__proto__", "constructor"]) assert.equal(dashes[run], RUN_DASHES[RUN_COLOURS.indexOf(colours[run])]);
  // A run without a colour has no dash: it read as Object's function of that name.
  assert.equal(runDashes({ a: RUN_COLOURS[0] }).toString, undefined);
});
