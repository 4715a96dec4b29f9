// Unit tests of plugin_static/class-search.js: suggestions while typing a
// class name, and the class a typed name means.
import assert from "node:assert/strict";
import { test } from "node:test";

import { matchingClasses, resolveClass } from "../../plugin_static/class-search.js";

const names = ["cat", "Dog", "hotdog", "dogfish", "bird", "Cat"];

test("matchingClasses: names starting with the text first, then containing it, case-insensitive", () => {
  assert.deepEqual(matchingClasses(names, "dog", 10), [1, 3, 2]);
  assert.deepEqual(matchingClasses(names, " DOG ", 2), [1, 3]);
  assert.deepEqual(matchingClasses(names, "", 10), []);
  assert.deepEqual(matchingClasses(names, "zebra", 10), []);
});

test("matchingClasses stops early among many classes", () => {
  const many = Array.from({ length: 10_000 }, (_, i) => `class ${i}`);
  assert.deepEqual(matchingClasses(many, "class 99", 3), [99, 990, 991]);
  assert.deepEqual(matchingClasses(many, "99", 3), [99, 199, 299]);
});

test("resolveClass: exact name, then ignoring case, then the only match", () => {
  assert.equal(resolveClass(names, "Cat"), 5);
  assert.equal(resolveClass(names, "cat"), 0);
  assert.equal(resolveClass(names, "CAT"), 0);
  assert.equal(resolveClass(names, "bir"), 4);
  assert.equal(resolveClass(names, "fish"), 3);
  assert.equal(resolveClass(names, "dog"), 1);
  assert.equal(resolveClass(names, "o"), null); // several
  assert.equal(resolveClass(names, "zebra"), null);
  assert.equal(resolveClass(names, "  "), null);
});
