// Unit tests of plugin_static/report-table.js (rows, deltas, significance
// tests, filtering, sorting, export) and of the table's data loader in
// plugin_static/view-data.js (which runs are compared with the baseline).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CURVE_FIELDS,
  CURVE_SUMMARY_ROWS,
  FIELDS,
  SUMMARY_ROWS,
  buildReportTable,
  WORST_FIRST_ABOVE,
  buildReportTables,
  columnStep,
  defaultSort,
  exportLayout,
  exportTablesText,
  visibleClassRows,
} from "../../plugin_static/report-table.js";
import { loadTableColumns, loadTrends, worstClasses } from "../../plugin_static/view-data.js";
import { markdownText } from "../../plugin_static/format.js";
import { buildPivot } from "../../plugin_static/pivot.js";

function report(step, names, { recall, precision, support, predicted, weighted = false }) {
  const f1 = recall.map((r, i) => (r + precision[i] ? (2 * r * precision[i]) / (r + precision[i]) : 0));
  const interval = (values, counts) => values.map((value, i) => (counts[i] && !weighted ? [Math.max(0, value - 0.1), Math.min(1, value + 0.1)] : null));
  const average = { precision: 0.5, recall: 0.5, "f1-score": 0.5, support: support.reduce((a, b) => a + b, 0) };
  return {
    step,
    weighted,
    class_names: names,
    per_class: {
      recall,
      precision,
      f1,
      support,
      predicted,
      recall_interval: interval(recall, support),
      precision_interval: interval(precision, predicted),
    },
    report: { accuracy: 0.8, "macro avg": average, "weighted avg": average },
    metrics: { balanced_accuracy: 0.7, macro_f1: 0.6, mcc: 0.5, cohen_kappa: 0.4, geometric_mean: 0.3, worst_class_recall: 0.2 },
  };
}

const NAMES = ["cat", "dog", "bird"];
const close = (actual, expected) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);
const base = report(4, NAMES, { recall: [0.9, 0.5, 0.0], precision: [0.8, 0.6, 0.0], support: [100, 20, 0], predicted: [110, 10, 0] });
const other = report(5, NAMES, { recall: [0.7, 0.6, 0.0], precision: [0.85, 0.5, 0.0], support: [100, 25, 0], predicted: [80, 45, 0] });
const comparison = {
  class_names: NAMES,
  per_class: {
    recall_delta: [-0.2, 0.1, null],
    recall_delta_interval: [[-0.3, -0.1], [-0.2, 0.4], null],
    recall_significant: [true, false, null],
    precision_delta: [0.05, -0.1, null],
    precision_delta_interval: [[-0.05, 0.15], [-0.3, 0.1], null],
    precision_significant: [false, false, null],
  },
};

test("class rows carry cells, details, deltas and the compare tests", () => {
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "other", step: 5, report: other, error: null, comparison },
    ],
    "base",
  );
  assert.deepEqual(table.columns.map((c) => [c.run, c.isBaseline, c.compared]), [["base", true, false], ["other", false, true]]);
  const [cat, dog, bird] = table.classRows;
  assert.equal(cat.name, "cat");
  assert.ok(Math.abs(cat.deltas.other.recall - -0.2) < 1e-12);
  assert.deepEqual(cat.tests.other.recall, { significant: true, interval: [-0.3, -0.1] });
  assert.deepEqual(dog.tests.other.precision, { significant: false, interval: [-0.3, 0.1] });
  assert.deepEqual(bird.tests.other.recall, { significant: null, interval: null });
  assert.equal(cat.deltas.base, undefined);
  assert.equal(cat.tests.base, undefined);
  assert.deepEqual(dog.details.base.recallInterval.map((x) => Math.round(x * 10) / 10), [0.4, 0.6]);
  assert.equal(bird.details.other.recallInterval, null);
  assert.equal(dog.details.other.predicted, 45);
  assert.equal(table.summaryRows.length, SUMMARY_ROWS.length);
  assert.deepEqual(Object.keys(table.summaryRows[0].tests), []);
});

test("runs named like an object's own properties have cells, deltas and tests of their own", () => {
  // Run names are directory names. A run named "__proto__" set the prototype of each row's cells
  // (every run's cells then read its numbers: cells.recall was 0.7), and none of its own keys
  // were there; "constructor" without a report read as Object's function.
  const table = buildReportTable(
    [
      { run: "baseline", step: 4, report: base, error: null },
      { run: "__proto__", step: 5, report: other, error: null, comparison },
      { run: "constructor", step: null, report: null, error: "unreadable" },
    ],
    "baseline",
  );
  const [cat] = table.classRows;
  assert.deepEqual(Object.keys(cat.cells), ["baseline", "__proto__", "constructor"]);
  assert.deepEqual(Object.keys(cat.deltas), ["__proto__"]);
  assert.deepEqual(Object.keys(cat.tests), ["__proto__"]);
  assert.equal(cat.cells.recall, undefined);
  assert.equal(cat.cells.__proto__.recall, 0.7);
  close(cat.deltas.__proto__.recall, -0.2);
  assert.deepEqual(cat.tests.__proto__.recall, { significant: true, interval: [-0.3, -0.1] });
  assert.equal(cat.cells.constructor, null);
  assert.equal(cat.details.constructor, null);
  assert.equal(cat.cells.toString, undefined); // no run of that name
  const macro = table.summaryRows.find((row) => row.id === "macro avg");
  assert.deepEqual(Object.keys(macro.cells), ["baseline", "__proto__", "constructor"]);
  assert.equal(macro.deltas.__proto__.recall, 0);
  // A "__proto__" run without a report is a column without values, not the rows' prototype.
  const unread = buildReportTable(
    [
      { run: "baseline", step: 4, report: base, error: null },
      { run: "__proto__", step: null, report: null, error: "unreadable" },
    ],
    "baseline",
  );
  assert.equal(Object.hasOwn(unread.classRows[0].cells, "__proto__"), true);
  assert.equal(unread.classRows[0].cells.__proto__, null);
  // Sorted by a run named "__proto__": its values order the rows.
  const sorted = visibleClassRows(table.classRows, "", { column: "recall", run: "__proto__", direction: "desc" });
  assert.deepEqual(sorted.map((row) => row.name), ["cat", "dog", "bird"]);
  const export_ = exportLayout(table, table.classRows, "csv");
  assert.deepEqual(export_.rows.find((row) => row[0] === "cat").slice(0, 11), ["cat", 4, 0.8, 0.9, base.per_class.f1[0], 100, 5, 0.85, 0.7, other.per_class.f1[0], 100]);
});

test("without a comparison, compared runs have deltas but no tests", () => {
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "other", step: 5, report: other, error: null, comparison: null },
    ],
    "base",
  );
  assert.equal(table.classRows[0].tests.other, null);
  assert.ok(typeof table.classRows[0].deltas.other.recall === "number");
});

test("a recall or precision delta is left out where compare leaves it undefined, as the pivot leaves it", () => {
  // bird has no examples and no predictions in the baseline: compare (core.per_class_differences) gives
  // no recall or precision difference for it, where 0.6 − 0 and 0.75 − 0 would read as gains.
  const grown = report(5, NAMES, { recall: [0.7, 0.6, 0.6], precision: [0.85, 0.5, 0.75], support: [100, 25, 10], predicted: [80, 45, 8] });
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "grown", step: 5, report: grown, error: null, comparison },
    ],
    "base",
  );
  const bird = table.classRows[2];
  assert.equal(bird.deltas.grown.recall, undefined);
  assert.equal(bird.deltas.grown.precision, undefined);
  assert.equal(bird.deltas.grown.support, 10);
  close(bird.deltas.grown.f1, grown.per_class.f1[2]);
  close(table.classRows[0].deltas.grown.recall, -0.2);
  const recall = buildPivot([{ run: "base", step: 4, report: base }, { run: "grown", step: 5, report: grown, comparison }], ["base"], "recall");
  assert.equal(recall[0].rows[2].cells.grown.delta, null);
  const untested = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "grown", step: 5, report: grown, error: null, comparison: null },
    ],
    "base",
  );
  close(untested.classRows[2].deltas.grown.recall, 0.6); // no comparison to say otherwise, as in the pivot
});

test("classes are matched by name, so different class lists still line up", () => {
  const fewer = report(1, ["dog", "cat"], { recall: [1, 0], precision: [1, 0], support: [3, 4], predicted: [3, 0] });
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "fewer", step: 1, report: fewer, error: null },
    ],
    "base",
  );
  assert.deepEqual(table.classRows.map((row) => row.name), NAMES);
  assert.equal(table.classRows[0].cells.fewer.support, 4);
  assert.equal(table.classRows[2].cells.fewer, null);
});

test("filtering and sorting rows", () => {
  const { classRows } = buildReportTable([{ run: "base", step: 4, report: base, error: null }], "base");
  assert.deepEqual(visibleClassRows(classRows, " D ", { column: "index", run: null, direction: "asc" }).map((r) => r.name), ["dog", "bird"]);
  assert.deepEqual(visibleClassRows(classRows, "", { column: "name", run: null, direction: "asc" }).map((r) => r.name), ["bird", "cat", "dog"]);
  assert.deepEqual(visibleClassRows(classRows, "", { column: "support", run: "base", direction: "desc" }).map((r) => r.name), ["cat", "dog", "bird"]);
  assert.deepEqual(visibleClassRows(classRows, "", { column: "recall", run: "base", direction: "asc" }).map((r) => r.name), ["bird", "dog", "cat"]);
  assert.equal(classRows.length, 3); // not sorted in place
});

test("exports say each run's step and keep the deltas", () => {
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: base, error: null },
      { run: "other", step: 5, report: other, error: null, comparison },
    ],
    "base",
  );
  const csv = exportLayout(table, table.classRows, "csv");
  assert.deepEqual(csv.header.slice(0, 6), ["class", "base step", "base precision", "base recall", "base f1-score", "base support"]);
  assert.ok(csv.header.includes("other recall delta"));
  assert.equal(csv.rows.length, SUMMARY_ROWS.length + 3);
  const markdown = exportLayout(table, table.classRows, "markdown");
  assert.equal(markdown.header[1], "base (step 4) precision");
  const catRow = markdown.rows.find((row) => row[0] === "cat");
  assert.equal(catRow[6], "0.7000 (-0.2000)");
  assert.equal(columnStep({ report: { step: 9 }, step: 2 }), 9);
  assert.equal(columnStep({ report: null, step: 2 }), 2);
});

function withCurves(source, averagePrecision, rocAuc, calibrationError, metrics) {
  return {
    ...source,
    has_curves: true,
    per_class: { ...source.per_class, average_precision: averagePrecision, roc_auc: rocAuc, calibration_error: calibrationError },
    metrics: { ...source.metrics, ...metrics },
  };
}

const curveMetrics = { macro_average_precision: 0.6, macro_roc_auc: 0.8, expected_calibration_error: 0.05, classwise_calibration_error: 0.07 };
const scoredBase = withCurves(base, [0.9, 0.4, null], [0.95, 0.7, null], [0.02, 0.1, 0.0], curveMetrics);
const scoredOther = withCurves(other, [0.8, 0.6, null], [0.9, 0.75, null], [0.03, 0.08, 0.0], { ...curveMetrics, macro_average_precision: 0.7 });
const curveComparison = {
  ...comparison,
  per_class: { ...comparison.per_class, average_precision_difference: [-0.1, 0.2, null] },
};

test("without curves a table keeps its four fields; with them it gains AP, ROC-AUC, calibration error and their headline rows", () => {
  const plain = buildReportTable([{ run: "base", step: 4, report: base, error: null }], "base");
  assert.deepEqual(plain.fields, FIELDS);
  assert.equal(plain.classRows[0].cells.base.average_precision, undefined);

  const table = buildReportTable(
    [
      { run: "base", step: 4, report: scoredBase, error: null },
      { run: "other", step: 5, report: scoredOther, error: null, comparison: curveComparison },
      { run: "ids", step: 5, report: base, error: null },
    ],
    "base",
  );
  assert.deepEqual(table.fields.map((field) => field.key), ["precision", "recall", "f1", "support", "average_precision", "roc_auc", "calibration_error"]);
  const [cat, dog, bird] = table.classRows;
  assert.deepEqual([cat.cells.base.average_precision, cat.cells.base.roc_auc, cat.cells.base.calibration_error], [0.9, 0.95, 0.02]);
  assert.equal(bird.cells.base.average_precision, null);
  // A run logged without scores has null curve cells (shown "–"), not missing ones.
  assert.deepEqual([cat.cells.ids.average_precision, cat.cells.ids.roc_auc, cat.cells.ids.calibration_error], [null, null, null]);
  assert.equal(cat.deltas.ids.average_precision, undefined);
  // The AP difference is compare's; where compare has none, there is none.
  assert.equal(cat.deltas.other.average_precision, -0.1);
  assert.equal(dog.deltas.other.average_precision, 0.2);
  assert.equal(bird.deltas.other.average_precision, undefined);
  close(cat.deltas.other.roc_auc, -0.05);
  const summary = Object.fromEntries(table.summaryRows.map((row) => [row.label, row]));
  assert.deepEqual(table.summaryRows.slice(-4).map((row) => row.id), CURVE_SUMMARY_ROWS.map((row) => row.id));
  assert.deepEqual(summary["macro AP"].cells.base, { average_precision: 0.6 });
  assert.deepEqual(summary["class-wise ECE"].cells.other, { calibration_error: 0.07 });
  assert.deepEqual(summary["macro AP"].cells.ids, { average_precision: null });
  close(summary["macro AP"].deltas.other.average_precision, 0.1);
  // Sorted like the other columns: runs without the score last.
  const byAp = visibleClassRows(table.classRows, "", { column: "average_precision", run: "base", direction: "desc" });
  assert.deepEqual(byAp.map((row) => row.name), ["cat", "dog", "bird"]);
  const byError = visibleClassRows(table.classRows, "", { column: "calibration_error", run: "other", direction: "asc" });
  assert.deepEqual(byError.map((row) => row.name), ["bird", "cat", "dog"]);
  assert.equal(CURVE_FIELDS.find((field) => field.key === "calibration_error").lowerIsBetter, true);
});

test("exports carry the curve columns when a run has curves", () => {
  const table = buildReportTable(
    [
      { run: "base", step: 4, report: scoredBase, error: null },
      { run: "other", step: 5, report: scoredOther, error: null, comparison: curveComparison },
    ],
    "base",
  );
  const csv = exportLayout(table, table.classRows, "csv");
  assert.deepEqual(csv.header.slice(0, 9), [
    "class", "base step", "base precision", "base recall", "base f1-score", "base support",
    "base average_precision", "base roc_auc", "base calibration_error",
  ]);
  assert.ok(csv.header.includes("other average_precision delta"));
  assert.equal(csv.rows.length, SUMMARY_ROWS.length + CURVE_SUMMARY_ROWS.length + 3);
  const at = (name, column) => csv.rows.find((row) => row[0] === name)[csv.header.indexOf(column)];
  assert.equal(at("cat", "base average_precision"), 0.9);
  assert.equal(at("bird", "base average_precision"), null);
  assert.equal(at("cat", "other average_precision delta"), -0.1);
  assert.equal(at("macro AP", "base average_precision"), 0.6);
  assert.equal(at("macro AP", "base f1-score"), null);
  assert.equal(at("ECE", "other calibration_error"), 0.05);
  const markdown = exportLayout(table, table.classRows, "markdown");
  assert.equal(markdown.header[5], "base (step 4) average_precision");
  const cat = markdown.rows.find((row) => row[0] === "cat");
  assert.equal(cat[5 + 7], "0.8000 (-0.1000)");
});

test("worstClasses ranks classes with examples by recall or F1", () => {
  assert.deepEqual(worstClasses(base, "recall", 1), [1]);
  assert.deepEqual(worstClasses(base, "recall", 5), [0, 1, 2]);
});

function fakeApi({ failCompare = false } = {}) {
  const calls = [];
  const xyz = (value) => report(3, ["x", "y", "z"], { recall: [value, 1, 1], precision: [1, 1, 1], support: [1, 1, 1], predicted: [1, 1, 1] });
  const reports = { base, other, renamed: xyz(1), xyz_baseline: xyz(0.5) };
  return {
    calls,
    report: async (run, tag, step) => {
      calls.push(["report", run, step]);
      return reports[run];
    },
    compare: async (run, tag, step, baseline, baselineStep) => {
      calls.push(["compare", run, step, baseline, baselineStep]);
      if (failCompare) throw Object.assign(new Error("boom"), { status: 400 });
      return comparison;
    },
  };
}

const source = { stepsOf: (tag, run) => ({ base: [4], other: [5], renamed: [3], xyz_baseline: [2] })[run], errorOf: () => undefined };

test("the table compares each other run with the baseline, at the steps shown", async () => {
  const api = fakeApi();
  const columns = await loadTableColumns({ api, source, state: { tableStep: null }, tag: "t", selected: ["base", "other", "renamed"], baseline: "base" });
  assert.deepEqual(api.calls.filter((call) => call[0] === "compare"), [["compare", "other", 5, "base", 4]]);
  assert.equal(columns[0].comparison, null);
  assert.equal(columns[1].comparison, comparison);
  assert.equal(columns[1].baseline, "base");
  // Alone in its class set: its own baseline, nothing to compare, and no error.
  assert.equal(columns[2].comparison, null);
  assert.equal(columns[2].comparisonError, null);
  assert.equal(columns[2].baseline, "renamed");
});

test("each class set is compared with its own baseline: one named baseline, else its first run, else the user's choice", async () => {
  const selected = ["other", "renamed", "base", "xyz_baseline"];
  const api = fakeApi();
  const columns = await loadTableColumns({ api, source, state: { tableStep: null }, tag: "t", selected });
  // "base" is not named like a baseline: "other" (the set's first run) is; "xyz_baseline" leads its set.
  assert.deepEqual(
    api.calls.filter((call) => call[0] === "compare"),
    [["compare", "renamed", 3, "xyz_baseline", 3], ["compare", "base", 4, "other", 5]].sort((a, b) => selected.indexOf(a[1]) - selected.indexOf(b[1])),
  );
  assert.deepEqual(columns.map((column) => column.baseline), ["other", "xyz_baseline", "other", "xyz_baseline"]);
  assert.ok(columns.every((column) => column.comparisonError === null));
  // The user's choice in one set leaves the other set's default alone.
  const chosen = fakeApi();
  await loadTableColumns({ api: chosen, source, state: { tableStep: null }, tag: "t", selected, baselines: ["renamed"] });
  assert.deepEqual(
    chosen.calls.filter((call) => call[0] === "compare"),
    [["compare", "xyz_baseline", 3, "renamed", 3], ["compare", "base", 4, "other", 5]].sort((a, b) => selected.indexOf(a[1]) - selected.indexOf(b[1])),
  );
});

test("a failed comparison leaves the table without tests, never without numbers", async () => {
  const api = fakeApi({ failCompare: true });
  const columns = await loadTableColumns({ api, source, state: { tableStep: null }, tag: "t", selected: ["base", "other"], baseline: "base" });
  assert.equal(columns[1].report, other);
  assert.equal(columns[1].comparison, null);
  assert.equal(columns[1].comparisonError, "Error 400: boom");
  const alone = await loadTableColumns({ api: fakeApi(), source, state: { tableStep: null }, tag: "t", selected: ["other"], baseline: "base" });
  assert.equal(alone[0].comparison, null);
});

test("runs with another class set get their own table, compared with their own baseline, and add no rows to the first", () => {
  const OTHER_NAMES = ["<b>x</b>", "y"];
  const stranger = report(3, OTHER_NAMES, { recall: [0.4, 0.6], precision: [0.5, 0.5], support: [10, 10], predicted: [8, 12] });
  const tables = buildReportTables(
    [
      { run: "odd", step: 3, report: stranger, error: null, comparison: null },
      { run: "base", step: 4, report: base, error: null },
      { run: "broken", step: null, report: null, error: "No data" },
      { run: "other", step: 5, report: other, error: null, comparison },
    ],
    "base",
  );
  assert.equal(tables.length, 2);
  const [first, second] = tables;
  assert.equal(first.hasBaseline, true);
  assert.deepEqual(first.columns.map((c) => [c.run, c.isBaseline, c.compared]), [["base", true, false], ["other", false, true]]);
  assert.deepEqual(first.classRows.map((row) => row.name), NAMES);
  assert.ok(first.classRows.every((row) => first.columns.every((column) => row.cells[column.run] !== null)));
  assert.ok(Math.abs(first.classRows[0].deltas.other.recall - -0.2) < 1e-12);
  assert.equal(second.hasBaseline, false);
  assert.deepEqual(second.columns.map((c) => [c.run, c.isBaseline, c.compared]), [["odd", false, false]]);
  assert.deepEqual(second.classRows.map((row) => row.name), OTHER_NAMES);
  assert.ok(second.classRows.every((row) => row.cells.odd !== null && Object.keys(row.deltas).length === 0));
  assert.match(first.title.replace(/[\u2068\u2069]/g, ""), /^Class set 1: 3 classes \(cat, dog, bird\), compared with its baseline base$/);
  assert.match(second.title, /^Class set 2: 2 classes .*no baseline chosen, so not compared$/);
  // With a baseline per class set, the second table leads with its own.
  const twin = report(3, OTHER_NAMES, { recall: [0.5, 0.5], precision: [0.5, 0.5], support: [10, 10], predicted: [10, 10] });
  const perSet = buildReportTables(
    [
      { run: "odd", step: 3, report: stranger, error: null },
      { run: "base", step: 4, report: base, error: null },
      { run: "odd_base", step: 3, report: twin, error: null },
    ],
    ["odd_base", "base"],
  );
  assert.deepEqual(perSet.map((table) => table.baseline), ["odd_base", "base"]);
  assert.deepEqual(perSet[0].columns.map((c) => [c.run, c.isBaseline, c.compared]), [["odd", false, true], ["odd_base", true, false]]);
  assert.ok(Math.abs(perSet[0].classRows[0].deltas.odd.recall - -0.1) < 1e-12);

  // One class set: one table, as before.
  const single = buildReportTables([{ run: "base", step: 4, report: base, error: null }], "base");
  assert.equal(single.length, 1);
  assert.deepEqual(single[0].classRows.map((row) => row.name), NAMES);

  // The export holds every table, one after another.
  const parts = tables.map((table) => ({ table, classRows: table.classRows, title: table.exportTitle }));
  const csv = exportTablesText(parts, "csv");
  const blocks = csv.split("\r\n\r\n");
  assert.equal(blocks.length, 2);
  assert.ok(blocks[0].startsWith("class,base step,"));
  assert.ok(blocks[1].startsWith("class,odd step,"));
  const markdown = exportTablesText(parts, "markdown");
  assert.equal(first.exportTitle, first.title.replace(/[\u2068\u2069]/g, "")); // the names as they are, no marks
  assert.ok(markdown.startsWith(`### ${markdownText(first.exportTitle)}\n\n| class |`));
  assert.ok(markdown.includes(`\n### ${markdownText(second.exportTitle)}\n\n| class | odd (step 3) precision |`));
  assert.ok(!/[\u2068\u2069]/.test(markdown));
  assert.equal(exportTablesText(parts.slice(0, 1), "markdown"), toMarkdownOf(first));
});

function uniform(size) {
  const half = Array(size).fill(0.5);
  const counts = Array(size).fill(10);
  return { recall: half, precision: half, support: counts, predicted: counts };
}

test("the Markdown export's class-set headings keep hostile class and run names as text", () => {
  const evil = ["<img src=x onerror=alert(1)>", "b"];
  const columns = [
    { run: "<script>alert(2)</script>", step: 0, report: report(0, evil, uniform(2)), error: null },
    { run: "other", step: 0, report: report(0, evil, uniform(2)), error: null },
    { run: "x", step: 0, report: report(0, ["p", "q", "r"], uniform(3)), error: null },
  ];
  const tables = buildReportTables(columns, ["<script>alert(2)</script>", "x"]);
  const parts = tables.map((table) => ({ table, classRows: table.classRows, title: table.exportTitle }));
  const headings = exportTablesText(parts, "markdown").split("\n").filter((line) => line.startsWith("###"));
  assert.equal(headings.length, 2);
  assert.ok(headings[0].includes("\\<img src=x onerror=alert(1)\\>"), headings[0]);
  assert.ok(headings[0].includes("\\<script\\>alert(2)\\</script\\>"), headings[0]);
  assert.ok(!/<(img|script)/.test(headings.join("\n").replace(/\\</g, "")), headings.join("\n"));
});

function toMarkdownOf(table) {
  return exportTablesText([{ table, classRows: table.classRows }], "markdown");
}

test("above WORST_FIRST_ABOVE classes rows start worst recall first, classes without examples last", () => {
  assert.equal(WORST_FIRST_ABOVE, 1000);
  const size = WORST_FIRST_ABOVE + 1;
  const names = Array.from({ length: size }, (_, i) => `c${i}`);
  const recall = names.map((_, i) => (i % 10) / 10);
  const support = names.map((_, i) => (i % 7 === 0 ? 0 : 5));
  const many = report(2, names, { recall, precision: recall, support, predicted: support });
  const columns = [
    { run: "other", step: 2, report: many, error: null },
    { run: "base", step: 2, report: many, error: null },
  ];
  const tables = buildReportTables(columns, ["base"]);
  const sort = defaultSort(tables);
  assert.deepEqual(sort, { column: "recall", run: "base", direction: "asc", emptyLast: true });
  const rows = visibleClassRows(tables[0].classRows, "", sort);
  const withExamples = names.filter((_, i) => support[i] > 0).length;
  // Lowest recall first among classes with examples; the classes without any (recall 0 by convention) last, in class order.
  assert.deepEqual(rows.slice(0, 3).map((row) => row.name), ["c10", "c20", "c30"]);
  assert.ok(rows.slice(0, withExamples).every((row, k, all) => k === 0 || row.cells.base.recall >= all[k - 1].cells.base.recall));
  assert.deepEqual(rows.slice(withExamples).map((row) => row.index), names.map((_, i) => i).filter((i) => support[i] === 0));
  // Filtering keeps the order.
  assert.deepEqual(visibleClassRows(tables[0].classRows, "c100", sort).map((row) => row.name).slice(0, 2), ["c100", "c1000"]);
  // Without a baseline the first run with a report; at WORST_FIRST_ABOVE classes or fewer, no default.
  assert.equal(defaultSort(buildReportTables(columns, [])).run, "other");
  assert.equal(defaultSort(buildReportTables([{ run: "base", step: 4, report: base, error: null }], ["base"])), null);
  assert.equal(defaultSort(null), null);
});

test("trends: runs named like an object's own properties have series of their own", async () => {
  // A run named "__proto__" set the series' prototype (its series not among the keys), and a run
  // named "constructor" that was not read showed as Object's function to the trends view.
  const names = ["cat", "dog"];
  const reports = new Map([["baseline", names], ["__proto__", names], ["constructor", ["x", "y"]]]);
  const api = { report: async (run) => ({ class_names: reports.get(run) }) };
  const source = {
    stepsOf: () => [0, 1],
    series: async (run) => ({ run, steps: [0, 1], class_names: names }),
  };
  const state = { trends: { pinned: [0, 1], metric: "recall", worstCount: 12 } };
  const trends = await loadTrends({ api, source, state, tag: "cm", readable: ["baseline", "__proto__"], baseline: "baseline" });
  assert.deepEqual(Object.keys(trends.series).sort(), ["__proto__", "baseline"]);
  assert.equal(trends.series.__proto__.run, "__proto__");
  assert.equal(trends.series.steps, undefined);
  assert.equal(trends.series.constructor, undefined); // not read
  const other = await loadTrends({ api, source, state, tag: "cm", readable: ["baseline", "constructor"], baseline: "baseline" });
  assert.deepEqual(other.series.constructor, { error: "its classes differ from the baseline's" });
  assert.deepEqual(other.otherClassSets, ["constructor"]);
});
