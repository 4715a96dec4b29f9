// Unit tests of plugin_static/table-columns.js: which per-run columns and
// summary rows the side-by-side table shows for each column set, the sort
// kept across a switch, and how summary rows lie under the shown columns.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CURVE_SUMMARY_ROWS, FIELDS, SUMMARY_ROWS, buildReportTable, exportLayout } from "../../plugin_static/report-table.js";
import {
  COLUMN_SETS,
  DEFAULT_COLUMN_SET,
  hasColumnChoice,
  parseColumnSet,
  shownColumns,
  sortForFields,
  summaryCellLayout,
} from "../../plugin_static/table-columns.js";

const NAMES = ["cat", "dog"];

function report(step, { curves }) {
  const average = { precision: 0.5, recall: 0.5, "f1-score": 0.5, support: 30 };
  const perClass = { recall: [0.9, 0.5], precision: [0.8, 0.6], f1: [0.85, 0.55], support: [20, 10], predicted: [22, 8] };
  const curveClass = curves
    ? { average_precision: [0.9, 0.4], roc_auc: [0.95, 0.7], calibration_error: [0.02, 0.1] }
    : { average_precision: [null, null], roc_auc: [null, null], calibration_error: [null, null] };
  const curveMetrics = curves
    ? { macro_average_precision: 0.65, macro_roc_auc: 0.8, expected_calibration_error: 0.05, classwise_calibration_error: 0.07 }
    : {};
  return {
    step,
    weighted: false,
    has_curves: curves,
    class_names: NAMES,
    per_class: { ...perClass, ...curveClass },
    report: { accuracy: 0.8, "macro avg": average, "weighted avg": average },
    metrics: { balanced_accuracy: 0.7, macro_f1: 0.6, mcc: 0.5, cohen_kappa: 0.4, geometric_mean: 0.3, worst_class_recall: 0.2, ...curveMetrics },
  };
}

const keys = (fields) => fields.map((field) => field.key);
const scored = buildReportTable(
  [
    { run: "a", step: 1, report: report(1, { curves: true }), error: null },
    { run: "ids", step: 1, report: report(1, { curves: false }), error: null },
  ],
  "a",
);
const plain = buildReportTable([{ run: "ids", step: 1, report: report(1, { curves: false }), error: null }], "ids");

test("column sets: decision by default, unknown input falls back to it", () => {
  assert.deepEqual(
    COLUMN_SETS.map((set) => set.key),
    ["decision", "ranking"],
  );
  assert.equal(DEFAULT_COLUMN_SET, "decision");
  assert.equal(parseColumnSet("ranking"), "ranking");
  for (const value of [null, undefined, "", "nope", "fields"]) assert.equal(parseColumnSet(value), "decision");
  // Each set holds four columns per run (three scores and support): three runs fit a 1280 px window.
  for (const set of COLUMN_SETS) {
    assert.equal(set.fields.length, FIELDS.length, set.key);
    assert.equal(set.fields.at(-1).key, "support", set.key);
  }
});

test("a table with curves shows one column set at a time, with its summary rows", () => {
  assert.equal(hasColumnChoice(scored), true);
  const decision = shownColumns(scored, "decision");
  assert.equal(decision.columnSet, "decision");
  assert.deepEqual(keys(decision.fields), ["precision", "recall", "f1", "support"]);
  assert.deepEqual(
    decision.summaryRows.map((row) => row.id),
    SUMMARY_ROWS.map((row) => row.id),
  );
  const ranking = shownColumns(scored, "ranking");
  assert.equal(ranking.columnSet, "ranking");
  assert.deepEqual(keys(ranking.fields), ["average_precision", "roc_auc", "calibration_error", "support"]);
  assert.deepEqual(
    ranking.summaryRows.map((row) => row.id),
    CURVE_SUMMARY_ROWS.map((row) => row.id),
  );
  assert.equal(ranking.fields.find((field) => field.key === "calibration_error").lowerIsBetter, true);
  // The data keep every column: a run without curves has null (shown "–") in the curve ones.
  assert.deepEqual(scored.classRows[0].cells.ids.average_precision, null);
  assert.equal(shownColumns(scored, "nope").columnSet, "decision");
});

test("a table without curves shows the decision's columns whatever the set", () => {
  assert.equal(hasColumnChoice(plain), false);
  const shown = shownColumns(plain, "ranking");
  assert.equal(shown.columnSet, "decision");
  assert.deepEqual(shown.fields, FIELDS);
  assert.deepEqual(shown.summaryRows, plain.summaryRows);
});

test("exports hold every column and summary row, whichever set is shown", () => {
  const csv = exportLayout(scored, scored.classRows, "csv");
  for (const key of ["a precision", "a f1-score", "a average_precision", "a calibration_error", "ids roc_auc"]) assert.ok(csv.header.includes(key), key);
  assert.equal(csv.rows.length, SUMMARY_ROWS.length + CURVE_SUMMARY_ROWS.length + NAMES.length);
});

test("a sort survives a switch only when its column is still shown", () => {
  const ranking = shownColumns(scored, "ranking").fields;
  const decision = shownColumns(scored, "decision").fields;
  const byAp = { column: "average_precision", run: "a", direction: "desc" };
  assert.equal(sortForFields(byAp, ranking), byAp);
  assert.deepEqual(sortForFields(byAp, decision), { column: "index", run: null, direction: "asc" });
  const bySupport = { column: "support", run: "a", direction: "desc" };
  assert.equal(sortForFields(bySupport, ranking), bySupport);
  assert.equal(sortForFields(bySupport, decision), bySupport);
  const byName = { column: "name", run: null, direction: "desc" };
  assert.equal(sortForFields(byName, ranking), byName);
  const byRecall = { column: "recall", run: "a", direction: "asc" };
  assert.deepEqual(sortForFields(byRecall, ranking), { column: "index", run: null, direction: "asc" });
});

const layoutOf = (row, fields, hasValues = true) =>
  summaryCellLayout(row, fields, hasValues).map(({ field, span, filled }) => [field.key, span, filled]);
const rowById = (id) => scored.summaryRows.find((row) => row.id === id);

test("summary rows lie under the shown columns, each cell once", () => {
  const decision = shownColumns(scored, "decision").fields;
  const ranking = shownColumns(scored, "ranking").fields;
  assert.deepEqual(layoutOf(rowById("macro avg"), decision), [
    ["precision", 1, true],
    ["recall", 1, true],
    ["f1", 1, true],
    ["support", 1, true],
  ]);
  // Single scores sit under F1, spanning the score columns; accuracy also has its support.
  assert.deepEqual(layoutOf(rowById("accuracy"), decision), [
    ["f1", 3, true],
    ["support", 1, true],
  ]);
  assert.deepEqual(layoutOf(rowById("mcc"), decision), [
    ["f1", 3, true],
    ["support", 1, false],
  ]);
  // A curve headline sits in the column it summarises.
  assert.deepEqual(layoutOf(rowById("macro_roc_auc"), ranking), [
    ["average_precision", 1, false],
    ["roc_auc", 1, true],
    ["calibration_error", 1, false],
    ["support", 1, false],
  ]);
  assert.deepEqual(layoutOf(rowById("classwise_calibration_error"), ranking).map(([key, , filled]) => filled && key), [false, false, "calibration_error", false]);
  // A run without values: one empty cell per column.
  assert.deepEqual(layoutOf(rowById("mcc"), decision, false), [
    ["precision", 1, false],
    ["recall", 1, false],
    ["f1", 1, false],
    ["support", 1, false],
  ]);
  // Every layout covers each shown column once.
  for (const [fields, rows] of [
    [decision, shownColumns(scored, "decision").summaryRows],
    [ranking, shownColumns(scored, "ranking").summaryRows],
  ]) {
    for (const row of rows) {
      const spans = summaryCellLayout(row, fields, true).reduce((sum, cell) => sum + cell.span, 0);
      assert.equal(spans, fields.length, row.id);
    }
  }
});
