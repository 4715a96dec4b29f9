// Long class names cut to fit a line keep their end in sight.
import { test } from "node:test";
import assert from "node:assert/strict";

import { KEPT_END, splitName } from "../../plugin_static/class-label.js";

test("a long name is split into a start that gives way and its last characters", () => {
  assert.equal(KEPT_END, 12);
  assert.deepEqual(splitName("a_very_long_common_prefix_cat"), ["a_very_long_commo", "n_prefix_cat"]);
  const names = ["x".repeat(90) + "_golden_retriever", "x".repeat(90) + "_labrador_retriever"];
  const ends = names.map((name) => splitName(name)[1]);
  assert.deepEqual(ends, ["en_retriever", "or_retriever"]); // apart where the names differ
  for (const name of names) assert.equal(splitName(name).join(""), name);
});

test("short names stay whole; whole characters only", () => {
  assert.deepEqual(splitName("cat"), ["", "cat"]);
  assert.deepEqual(splitName("sixteen_letters!"), ["", "sixteen_letters!"]); // 16: a 4-character start is not cut
  assert.deepEqual(splitName("seventeen_letters"), ["seven", "teen_letters"]);
  const emoji = "🐈".repeat(20); // 40 UTF-16 code units
  const [start, end] = splitName(emoji);
  assert.equal(Array.from(end).length, 12);
  assert.equal(start + end, emoji);
  assert.ok(!/[\ud800-\udbff]$/.test(start)); // no half of a surrogate pair
  assert.deepEqual(splitName(""), ["", ""]);
});
