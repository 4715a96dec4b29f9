// Unit tests of plugin_static/long-tail.js and the long-tail / groups parts of
// state.js, report-table.js and view-data.js.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BUCKETS,
  DEFAULT_THRESHOLDS,
  bucketOf,
  circlesPath,
  hasClassGroups,
  hasTrainCounts,
  logScale,
  logTicks,
  nearestPoint,
  parseThresholds,
} from "../../plugin_static/long-tail.js";
import { LONG_TAIL_ROWS, SUMMARY_ROWS, buildReportTable } from "../../plugin_static/report-table.js";
import { readPresets, selectionSearch } from "../../plugin_static/state.js";
import { loadTableColumns, reportOptions } from "../../plugin_static/view-data.js";

test("thresholds follow the route's rule: integers >= 0, few < many; missing ones default", () => {
  assert.deepEqual(parseThresholds(null, null), DEFAULT_THRESHOLDS);
  assert.deepEqual(parseThresholds("50", "10"), { many: 50, few: 10 });
  assert.deepEqual(parseThresholds(50, ""), { many: 50, few: 20 });
  assert.equal(parseThresholds("20", "100"), null);
  assert.equal(parseThresholds("20", "20"), null);
  assert.equal(parseThresholds("1.5", "0"), null);
  assert.equal(parseThresholds("-1", "-2"), null);
  assert.equal(parseThresholds("abc", "1"), null);
});

test("buckets: many-shot above many, few-shot below few, medium inclusive in between", () => {
  const thresholds = { many: 100, few: 20 };
  assert.equal(bucketOf(101, thresholds), "many");
  assert.equal(bucketOf(100, thresholds), "medium");
  assert.equal(bucketOf(20, thresholds), "medium");
  assert.equal(bucketOf(19, thresholds), "few");
  assert.equal(bucketOf(0, thresholds), "few");
  assert.deepEqual(BUCKETS.map((bucket) => bucket.metric), ["many_shot_recall", "medium_shot_recall", "few_shot_recall"]);
});

test("the log scale maps the smallest and largest counts to the ends, powers of ten evenly", () => {
  const scale = logScale([8, 500, 20, 100], 0, 300);
  assert.equal(scale.map(8), 0);
  assert.ok(Math.abs(scale.map(500) - 300) < 1e-9);
  const ten = scale.map(10);
  const hundred = scale.map(100);
  const thousandth = scale.map(1000);
  assert.ok(Math.abs(hundred - ten - (thousandth - hundred)) < 1e-9);
  assert.ok(Number.isFinite(scale.map(0)));
  assert.deepEqual(logTicks(8, 500), [10, 100]);
  const flat = logScale([5, 5], 0, 100);
  assert.ok(flat.map(5) > 0 && flat.map(5) < 100);
});

test("reports with and without counts and groups", () => {
  assert.equal(hasTrainCounts({ per_class: { train_count: [1, 2] } }), true);
  assert.equal(hasTrainCounts({ per_class: { train_count: null } }), false);
  assert.equal(hasClassGroups({ class_groups: { a: ["x"] } }), true);
  assert.equal(hasClassGroups({ class_groups: null }), false);
});

test("thresholds and groups go into the URL and come back; defaults stay out", () => {
  const base = { runs: ["a"], tag: "t", baseline: "a", step: null, view: "table", metric: "recall" };
  const plain = selectionSearch("?name=imbalance&many=5&few=1&group=1", { ...base, thresholds: { ...DEFAULT_THRESHOLDS }, grouped: false });
  const params = new URLSearchParams(plain);
  assert.equal(params.get("many"), null);
  assert.equal(params.get("few"), null);
  assert.equal(params.get("group"), null);
  const search = selectionSearch("?name=imbalance", { ...base, thresholds: { many: 50, few: 10 }, grouped: true });
  const back = readPresets(search);
  assert.deepEqual(back.thresholds, { many: 50, few: 10 });
  assert.equal(back.grouped, true);
  assert.deepEqual(readPresets("?many=10&few=50").thresholds, DEFAULT_THRESHOLDS);
  assert.equal(readPresets("").grouped, false);
});

function report(run, metrics, names = ["a", "b"]) {
  return {
    run,
    step: 1,
    class_names: names,
    weighted: false,
    report: { accuracy: 0.5, "macro avg": { precision: 0.5, recall: 0.5, "f1-score": 0.5, support: 4 }, "weighted avg": { precision: 0.5, recall: 0.5, "f1-score": 0.5, support: 4 } },
    metrics: { accuracy: 0.5, balanced_accuracy: 0.5, macro_f1: 0.5, mcc: 0, cohen_kappa: 0, geometric_mean: 0.5, worst_class_recall: 0.5, ...metrics },
    per_class: { support: [2, 2], predicted: [2, 2], precision: [0.5, 0.5], recall: [0.5, 0.5], f1: [0.5, 0.5], specificity: [0.5, 0.5] },
  };
}

test("long-tail rows appear only when a report has the bucket scores; an empty bucket stays null", () => {
  const without = buildReportTable([{ run: "x", step: 1, report: report("x", {}), error: null }], "x");
  assert.equal(without.summaryRows.length, SUMMARY_ROWS.length);
  const withBuckets = buildReportTable(
    [
      { run: "x", step: 1, report: report("x", { many_shot_recall: 0.9, medium_shot_recall: null, few_shot_recall: 0.2 }), error: null },
      { run: "y", step: 1, report: report("y", {}), error: null },
    ],
    "x",
  );
  const rows = withBuckets.summaryRows.slice(SUMMARY_ROWS.length);
  assert.deepEqual(rows.map((row) => row.id), LONG_TAIL_ROWS.map((row) => row.id));
  assert.deepEqual(rows.map((row) => row.cells.x.f1), [0.9, null, 0.2]);
  assert.deepEqual(rows.map((row) => row.cells.y), [null, null, null]);
});

test("report requests carry the thresholds, and group only for runs with class groups", async () => {
  const calls = [];
  const api = {
    report: async (run, tag, step, options) => {
      calls.push([run, options]);
      return report(run, {});
    },
    compare: async () => {
      throw new Error("groups are not compared");
    },
  };
  const source = {
    stepsOf: () => [1],
    errorOf: () => undefined,
    classGroupsOf: (tag, run) => (run === "grouped" ? { g: ["a", "b"] } : null),
  };
  const state = { tableStep: null, thresholds: { many: 50, few: 10 }, grouped: true };
  const columns = await loadTableColumns({ api, source, state, tag: "t", selected: ["grouped", "plain"], baseline: "plain" });
  assert.deepEqual(calls, [
    ["grouped", { many: 50, few: 10, group: true }],
    ["plain", { many: 50, few: 10, group: false }],
  ]);
  assert.match(columns[0].comparisonNote, /groups are not tested/);
  assert.equal(columns[0].comparisonError, null); // a note, not an error
  assert.deepEqual(reportOptions({ source, state, tag: "t" }, "grouped", { grouping: false }), { many: 50, few: 10, group: false });
});

test("many points as one path of circles, and the point nearest the pointer", () => {
  assert.equal(circlesPath([{ x: 10, y: 20 }], 3.5), "M6.5 20.0a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0 -7 0");
  assert.equal(circlesPath([], 3.5), "");
  const points = Array.from({ length: 10_000 }, (_, index) => ({ x: index % 100, y: Math.floor(index / 100) }));
  assert.equal(circlesPath(points, 2).match(/M/g).length, 10_000);
  assert.equal(nearestPoint(points, 42.2, 7.9, 1), 842);
  assert.equal(nearestPoint(points, 42.5, 7, 0.5), 742); // equally near 742 and 743: the first
  assert.equal(nearestPoint(points, 150, 7, 5), -1);
  assert.equal(nearestPoint([], 0, 0, 5), -1);
});
