// Long class names cut to fit a line keep their end in sight.
import { test } from "node:test";
import assert from "node:assert/strict";

import { KEPT_END, shortName, splitName } from "../../plugin_static/class-label.js";

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

test("a name for one piece of text is cut in its middle, its last characters kept", () => {
  assert.equal(shortName("transaction_type_wire_domestic_small", 28), "transaction_typ…mestic_small");
  assert.equal(shortName("transaction_type_wire_domestic_large", 28), "transaction_typ…mestic_large");
  assert.equal(Array.from(shortName("a".repeat(80), 28)).length, 28);
  assert.equal(shortName("名前が長いクラス", 28), "名前が長いクラス"); // fits: whole
  assert.equal(shortName("x".repeat(28), 28), "x".repeat(28));
  assert.equal(shortName("x".repeat(29), 28), `${"x".repeat(15)}…${"x".repeat(12)}`);
  const emoji = "🐈".repeat(50);
  assert.equal(shortName(emoji), `${"🐈".repeat(27)}…${"🐈".repeat(12)}`); // 40 by default, whole characters
  assert.equal(shortName("<script>alert(1)</script>", 20), "<script…(1)</script>"); // text, cut like any other
});
