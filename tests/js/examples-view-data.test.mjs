// Unit tests of plugin_static/examples-view-data.js (the examples panel's
// text) and of the `examples` call in plugin_static/api.js.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createApi } from "../../plugin_static/api.js";
import {
  buildExamplesView,
  cutNote,
  examplesCaption,
  examplesHeading,
  examplesHeadingParts,
  formatExampleScore,
  formatExampleValue,
  idLabel,
  thumbnailSize,
  truncationNote,
  valuesLine,
} from "../../plugin_static/examples-view-data.js";

const PAYLOAD = {
  run: "R",
  tag: "T",
  step: 3,
  steps: [0, 1, 2, 3],
  true: 1,
  pred: 2,
  true_name: "spam",
  pred_name: "phishing",
  count: 12,
  rows: 500,
  examples_per_cell: 8,
  scores: "probability",
  cut: null,
  examples: [
    {
      id: 17,
      row: 17,
      top: [
        { class: 2, name: "phishing", score: 0.93 },
        { class: 1, name: "spam", score: 0.05 },
      ],
      kind: "image",
      image: "example_image?run=R&tag=T&step=3&index=1",
      width: 28,
      height: 28,
      shape: [28, 28],
    },
    { id: "mail-9", row: 9, top: [{ class: 2, name: "phishing", score: 0.8 }], kind: "text", text: "x".repeat(200), length: 512 },
    { id: 4, row: 4, top: [], kind: "values", shape: [64], values: [0.0, 1.5, "nan"] },
  ],
};

test("caption counts rows of the examples set and names the order", () => {
  assert.equal(examplesCaption(PAYLOAD), "3 of 12 rows of the examples set · most confident mistakes");
  assert.equal(
    examplesCaption({ ...PAYLOAD, true: 2, pred: 2, count: 1, examples: [{}] }),
    "1 of 1 row of the examples set · least confident correct",
  );
  assert.equal(examplesCaption({ ...PAYLOAD, count: 1234, examples: [] }), "0 of 1,234 rows of the examples set · most confident mistakes");
  assert.equal(examplesCaption({ ...PAYLOAD, count: 0, examples: [] }), "No rows of the examples set fall in this cell.");
});

test("scores: probabilities as percentages, raw scores as numbers", () => {
  assert.equal(formatExampleScore(0.93), "93.0%");
  assert.equal(formatExampleScore(0.05, "probability"), "5.0%");
  assert.equal(formatExampleScore(0), "0.0%");
  assert.equal(formatExampleScore(1), "100.0%");
  assert.equal(formatExampleScore(0.0001), "<0.1%");
  assert.equal(formatExampleScore(0.9999), ">99.9%");
  assert.equal(formatExampleScore(12.3456, "raw"), "12.3");
  assert.equal(formatExampleScore(-0.0012345, "raw"), "\u22120.00123");
  assert.equal(formatExampleScore(Number.NaN), "–");
  assert.equal(formatExampleScore(null), "–");
  assert.equal(formatExampleScore("nan", "raw"), "nan");
  assert.equal(formatExampleScore(Number.NEGATIVE_INFINITY, "raw"), "\u2212inf");
});

test("text examples say how much of the text is shown", () => {
  assert.equal(truncationNote("x".repeat(200), 512), "first 200 of 512 characters");
  assert.equal(truncationNote("short", 5), null);
  assert.equal(truncationNote("short", undefined), null);
  // Characters are code points, as the backend counts them.
  assert.equal(truncationNote("😀".repeat(3), 3), null);
  assert.equal(truncationNote("😀".repeat(3), 4000), "first 3 of 4,000 characters");
});

test("values line: shape, formatted values, an ellipsis when there are more", () => {
  assert.equal(valuesLine([64], [0.0, 1.5, "nan"]), "shape [64]: 0, 1.5, nan, …");
  assert.equal(valuesLine([3], [1, 2, 3]), "shape [3]: 1, 2, 3");
  assert.equal(valuesLine([2, 2], [0.123456, -2, "inf", "-inf"]), "shape [2, 2]: 0.1235, -2, inf, -inf");
  assert.equal(valuesLine([], [7]), "shape []: 7");
  assert.equal(formatExampleValue(1e-7), "1e-7");
});

test("values line: numbers written as text (numbers_as_text) apart from text that reads as a number", () => {
  const I = (name) => `\u2068${name}\u2069`;
  // A NaN and an integer past 2**53 (its digits, exact) beside the texts "nan" and "12".
  assert.equal(
    valuesLine([4], ["nan", "9007199254740993", "nan", "12"], undefined, [0, 1]),
    `shape [4]: nan, 9007199254740993, "${I("nan")}", "${I("12")}"`,
  );
  assert.equal(valuesLine([2], ["inf", "Lyon"], ["x", "city"], [0]), `shape [2]: ${I("x")} = inf, ${I("city")} = ${I("Lyon")}`);
  assert.equal(valuesLine([1], ["-inf"], undefined, []), `shape [1]: "${I("-inf")}"`);
  // Without the field (indexes written before it): "nan" / "inf" / "-inf" are the numbers.
  assert.equal(valuesLine([2], ["-inf", "7"]), `shape [2]: -inf, "${I("7")}"`);
  const example = { id: 0, row: 0, kind: "values", shape: [2], values: ["nan", "nan"], numbers_as_text: [1], top: [] };
  assert.equal(buildExamplesView({ ...PAYLOAD, examples: [example] }).examples[0].values, `shape [2]: "${I("nan")}", nan`);
});

test("values line of a table's row: each value after its column's name, the name isolated", () => {
  const I = (name) => `\u2068${name}\u2069`;
  assert.equal(
    valuesLine([3], [37, 55.5, "Lyon"], ["age", "income", "city"]),
    `shape [3]: ${I("age")} = 37, ${I("income")} = 55.5, ${I("city")} = ${I("Lyon")}`,
  );
  // More values than names (only the first columns are named), and more columns than values shown.
  assert.equal(valuesLine([10], [1, 2], ["a"]), `shape [10]: ${I("a")} = 1, 2, …`);
  // A right-to-left or hidden character in a name is shown as a class name is.
  assert.equal(valuesLine([2], [1, 2], ["\u202etxt.exe", "מחיר"]), `shape [2]: ${I("⟨U+202E⟩txt.exe")} = 1, ${I("מחיר")} = 2`);
  // A table's text cell is isolated, its bidi controls shown: it cannot reorder the values after it.
  assert.equal(valuesLine([3], ["\u202eLyon", "nan", 2]), `shape [3]: ${I("⟨U+202E⟩Lyon")}, nan, 2`);
  // A column without a name is shown by its position (1-based), not as an empty name before " = ".
  assert.equal(valuesLine([3], [5, 6, 0], ["a", "", ""]), `shape [3]: ${I("a")} = 5, column 2 = 6, column 3 = 0`);
  const view = buildExamplesView({ ...PAYLOAD, examples: [{ id: 0, row: 0, kind: "values", shape: [2], values: [1, 2], names: ["x", "y"], top: [] }] });
  assert.equal(view.examples[0].values, `shape [2]: ${I("x")} = 1, ${I("y")} = 2`);
});

test("cut note, heading and id label", () => {
  assert.equal(cutNote(null), null);
  assert.equal(cutNote(undefined), null);
  assert.equal(
    cutNote({ kept: 40, chosen: 96 }),
    "Only 40 of the 96 examples chosen at this step were kept (size bound): every cell lost its least telling examples alike.",
  );
  assert.equal(examplesHeading("spam", "phishing", 3), "spam → phishing at step 3");
  assert.equal(examplesHeading("spam", "phishing", null), "spam → phishing");
  assert.deepEqual(examplesHeadingParts("אלף", "בית", 2), ["אלף", " → ", "בית", " at step 2"]); // names isolated apart
  assert.equal(idLabel({ id: 17, row: 17 }), "id 17");
  assert.equal(idLabel({ id: "mail-9", row: 9 }), "id mail-9 · row 9");
  assert.equal(idLabel({ id: 0 }), "id 0");
  // A bidi control in an id (a file name) is shown, not obeyed: it would turn "id … · row 3" around.
  assert.equal(idLabel({ id: "\u202egnp.exe", row: 3 }), "id ⟨U+202E⟩gnp.exe · row 3");
});

test("the whole view of a payload", () => {
  const view = buildExamplesView(PAYLOAD);
  assert.equal(view.heading, "spam → phishing at step 3");
  assert.equal(view.caption, "3 of 12 rows of the examples set · most confident mistakes");
  assert.equal(view.cutNote, null);
  assert.equal(view.emptyNote, null);
  assert.equal(view.scoreLabel, "Top probabilities");
  const [image, text, values] = view.examples;
  assert.deepEqual(
    { kind: image.kind, id: image.id, idLabel: image.idLabel, image: image.image, width: image.width, alt: image.alt },
    {
      kind: "image",
      id: "17",
      idLabel: "id 17",
      image: "example_image?run=R&tag=T&step=3&index=1",
      width: 28,
      alt: "Example 17: true \u2068spam\u2069, predicted \u2068phishing\u2069",
    },
  );
  assert.deepEqual(image.top, [
    { name: "phishing", score: "93.0%", isTrue: false, isPredicted: true },
    { name: "spam", score: "5.0%", isTrue: true, isPredicted: false },
  ]);
  assert.equal(text.kind, "text");
  assert.equal(text.text, "x".repeat(200));
  assert.equal(text.textNote, "first 200 of 512 characters");
  assert.equal(text.idLabel, "id mail-9 · row 9");
  assert.equal(text.image, null);
  assert.equal(values.values, "shape [64]: 0, 1.5, nan, …");
  assert.deepEqual(values.top, []);
});

test("raw scores, a cut, an unknown kind and a cell the cut emptied", () => {
  const view = buildExamplesView({
    ...PAYLOAD,
    scores: "raw",
    cut: { kept: 1, chosen: 2 },
    examples: [{ id: 1, row: 1, kind: "audio", top: [{ class: 2, name: "phishing", score: 4.25 }] }],
  });
  assert.equal(view.scoreLabel, "Top scores (not probabilities)");
  assert.equal(view.examples[0].top[0].score, "4.25");
  assert.equal(view.examples[0].kind, "unknown");
  assert.match(view.cutNote, /^Only 1 of the 2 examples/);
  const emptied = buildExamplesView({ ...PAYLOAD, cut: { kept: 0, chosen: 5 }, examples: [] });
  assert.equal(emptied.emptyNote, "No example of this cell was kept at this step (size bound).");
  // Class names are data: kept as they are, never interpreted.
  const hostile = buildExamplesView({ ...PAYLOAD, true_name: "<img src=x onerror=alert(1)>" });
  assert.equal(hostile.heading, "<img src=x onerror=alert(1)> → phishing at step 3");
});

test("thumbnails scale their longest side to 96 CSS pixels", () => {
  assert.deepEqual(thumbnailSize(8, 8), { width: 96, height: 96 });
  assert.deepEqual(thumbnailSize(64, 32), { width: 96, height: 48 });
  assert.deepEqual(thumbnailSize(0, 0), { width: 96, height: 96 });
});

test("api.examples asks the route with the cell and caches fixed steps", async () => {
  const calls = [];
  const saved = globalThis.fetch;
  globalThis.fetch = async (url) => {
    calls.push(String(url));
    const status = url.searchParams.get("step") === "9" ? 404 : 200;
    const body = status === 200 ? { step: 3, examples: [] } : { error: "no examples at step 9" };
    return { ok: status === 200, status, statusText: "", json: async () => body };
  };
  try {
    const api = createApi("http://host/data/plugin/imbalance/");
    await api.examples("a b", "t", 3, 1, 2);
    await api.examples("a b", "t", 3, 1, 2);
    assert.equal(calls.length, 1);
    const url = new URL(calls[0]);
    assert.equal(url.pathname, "/data/plugin/imbalance/examples");
    assert.deepEqual(Object.fromEntries(url.searchParams), { run: "a b", tag: "t", step: "3", true: "1", pred: "2" });
    await api.examples("a b", "t", null, 0, 0);
    assert.equal(new URL(calls[1]).searchParams.has("step"), false);
    await assert.rejects(api.examples("a b", "t", 9, 0, 1), { name: "ApiError", status: 404, message: "no examples at step 9" });
  } finally {
    globalThis.fetch = saved;
  }
});

test("api.resolve keeps image URLs under the plugin's routes", () => {
  const api = createApi("http://host/data/plugin/imbalance/");
  assert.equal(
    api.resolve("example_image?run=R&tag=T&step=3&index=1"),
    "http://host/data/plugin/imbalance/example_image?run=R&tag=T&step=3&index=1",
  );
  assert.equal(api.resolve("https://elsewhere.example/x.png"), null);
  assert.equal(api.resolve("//elsewhere.example/x.png"), null);
  assert.equal(api.resolve("../../../../other"), null);
});

test("an image's alt text shows bidi controls in names and ids as code points", () => {
  const payload = { ...PAYLOAD, true_name: "\u202eevil", pred_name: "ok", examples: [{ ...PAYLOAD.examples[0], id: "a\u202eb" }] };
  const [image] = buildExamplesView(payload).examples;
  assert.equal(image.alt, "Example a\u27e8U+202E\u27e9b: true \u2068\u27e8U+202E\u27e9evil\u2069, predicted \u2068ok\u2069");
});
