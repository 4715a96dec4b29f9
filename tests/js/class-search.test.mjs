// Unit tests of plugin_static/class-search.js: suggestions while typing a
// class name, and the class a typed name means.
import assert from "node:assert/strict";
import { test } from "node:test";

import { matchingClasses, resolveClass, typedChoice } from "../../plugin_static/class-search.js";

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

test("a class named in white space only is suggested and chosen by typing it; an empty box chooses none", () => {
  const odd = ["", "  ", " ", "cat", "<img src=x onerror=alert(1)>", "\u202eevil"];
  assert.deepEqual(matchingClasses(odd, "  ", 10), [1]);
  assert.deepEqual(matchingClasses(odd, "", 10), []);
  assert.deepEqual(typedChoice(odd, "  "), { index: 1 });
  assert.deepEqual(typedChoice(odd, " "), { index: 2 });
  assert.deepEqual(typedChoice(odd, ""), { index: null }); // not the class named ""
  assert.deepEqual(typedChoice(["cat"], "   "), { index: null });
  assert.deepEqual(typedChoice(odd, "<img"), { index: 4 });
  assert.deepEqual(typedChoice(odd, "\u202eevil"), { index: 5 });
  assert.deepEqual(typedChoice(odd, "dog"), { note: "No such class" });
  assert.deepEqual(typedChoice(["cat", "catfish"], "at"), { note: "Several classes match: pick one" });
});
