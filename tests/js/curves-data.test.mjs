// Unit tests of plugin_static/curves-data.js (the curves panel's class,
// geometry and hints) and of its loader in plugin_static/view-data.js
// (which runs get curves, at which step, for which class).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CURVE_PLOT,
  POINT_RADIUS,
  areaUnder,
  chooseCurveClass,
  noCurvesReason,
  operatingPointOf,
  prStepPoints,
  reliabilityPoints,
  rocPoints,
  svgPoints,
  unitScale,
  worstAveragePrecision,
} from "../../plugin_static/curves-data.js";
import { loadCurves } from "../../plugin_static/view-data.js";

const close = (actual, expected, message) => assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? ""} ${actual} != ${expected}`);

// scikit-learn on y_true = [1, 0, 1, 1, 0, 0, 1], scores [0.9, 0.8, 0.7, 0.5, 0.4, 0.2, 0.1]:
// precision_recall_curve, average_precision_score, roc_curve(drop_intermediate=False), roc_auc_score.
const PR = {
  precision: [4 / 7, 0.5, 0.6, 0.75, 2 / 3, 0.5, 1, 1],
  recall: [1, 0.75, 0.75, 0.75, 0.5, 0.25, 0.25, 0],
  thresholds: [0.1, 0.2, 0.4, 0.5, 0.7, 0.8, 0.9],
};
const AVERAGE_PRECISION = 0.25 * 1 + 0.25 * (2 / 3) + 0.25 * 0.75 + 0.25 * (4 / 7);
const ROC = {
  fpr: [0, 0, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 1, 1],
  tpr: [0, 0.25, 0.25, 0.5, 0.75, 0.75, 0.75, 1],
  thresholds: [null, 0.9, 0.8, 0.7, 0.5, 0.4, 0.2, 0.1],
};
const ROC_AUC = 7 / 12;

test("the PR step line's area is the average precision; the ROC line's the ROC-AUC", () => {
  const steps = prStepPoints(PR);
  assert.deepEqual(steps[0], [1, 4 / 7]);
  assert.deepEqual(steps.at(-1), [0, 1]);
  // A step line: every segment is horizontal or vertical, and recall never grows.
  for (let index = 1; index < steps.length; index++) {
    const [[x0, y0], [x1, y1]] = [steps[index - 1], steps[index]];
    assert.ok(x0 === x1 || y0 === y1, `segment ${index} is diagonal`);
    assert.ok(x1 <= x0);
  }
  close(areaUnder(steps), AVERAGE_PRECISION, "AP");
  const roc = rocPoints(ROC);
  assert.deepEqual(roc[0], [0, 0]);
  assert.deepEqual(roc.at(-1), [1, 1]);
  close(areaUnder(roc), ROC_AUC, "ROC-AUC");
});

test("repeated points are drawn once", () => {
  assert.deepEqual(prStepPoints({ precision: [0.5, 0.5, 1], recall: [1, 1, 0] }), [[1, 0.5], [0, 0.5], [0, 1]]);
});

test("the scale maps scores 0..1 onto the plot area, y upwards", () => {
  const scale = unitScale();
  assert.equal(scale.x(0), CURVE_PLOT.left);
  assert.equal(scale.x(1), CURVE_PLOT.width - CURVE_PLOT.right);
  assert.equal(scale.y(1), CURVE_PLOT.top);
  assert.equal(scale.y(0), CURVE_PLOT.height - CURVE_PLOT.bottom);
  assert.equal(svgPoints([[0, 0], [1, 1]], scale), `${scale.x(0).toFixed(2)},${scale.y(0).toFixed(2)} ${scale.x(1).toFixed(2)},${scale.y(1).toFixed(2)}`);
});

test("reliability points: non-empty bins only, area by rows", () => {
  const points = reliabilityPoints({
    bin_edges: [0, 0.25, 0.5, 0.75, 1],
    mean_score: [0.1, null, 0.6, 0.9],
    observed_frequency: [0.05, null, 0.5, 1],
    rows: [400, 0, 100, 25],
  });
  assert.deepEqual(points.map((point) => point.bin), [0, 2, 3]);
  assert.deepEqual(points.map((point) => [point.x, point.y, point.rows]), [[0.1, 0.05, 400], [0.6, 0.5, 100], [0.9, 1, 25]]);
  assert.equal(points[0].radius, POINT_RADIUS.max);
  const span = POINT_RADIUS.max - POINT_RADIUS.min;
  close(points[1].radius, POINT_RADIUS.min + span / 2); // a quarter of the rows: half the radius span
  close(points[2].radius, POINT_RADIUS.min + span / 4);
  assert.deepEqual(reliabilityPoints({ bin_edges: [0, 1], mean_score: [null], observed_frequency: [null], rows: [0] }), []);
});

test("the operating point needs a recall", () => {
  assert.deepEqual(operatingPointOf({ precision: 0.8, recall: 0.6 }), [0.6, 0.8]);
  assert.equal(operatingPointOf({ precision: 0, recall: null }), null);
  assert.equal(operatingPointOf(null), null);
});

test("the default class is the worst by average precision; a chosen one is kept by name", () => {
  const report = { class_names: ["a", "b", "c", "d"], per_class: { average_precision: [0.9, null, 0.4, 0.4] } };
  assert.equal(worstAveragePrecision(report), 2);
  assert.deepEqual(chooseCurveClass(report, null), { index: 2, name: "c", isDefault: true });
  assert.deepEqual(chooseCurveClass(report, "d"), { index: 3, name: "d", isDefault: false });
  assert.deepEqual(chooseCurveClass(report, "gone"), { index: 2, name: "c", isDefault: true });
  const none = { class_names: ["a", "b"], per_class: { average_precision: [null, null] } };
  assert.equal(worstAveragePrecision(none), null);
  assert.deepEqual(chooseCurveClass(none, null), { index: 0, name: "a", isDefault: true });
  assert.equal(chooseCurveClass({ class_names: [], per_class: {} }, null), null);
});

test("the hint for a run without curves says how to get them", () => {
  assert.match(noCurvesReason(3), /^no curves at step 3: .*probabilities.*from_logits=True/);
  assert.match(noCurvesReason(null), /^no curves: /);
});

// ---- loadCurves --------------------------------------------------------------

const NAMES = ["cat", "<img src=x onerror=alert(1)>", "bird"];

function fakeReport(step, hasCurves, averagePrecision, names = NAMES) {
  return {
    step,
    class_names: names,
    has_curves: hasCurves,
    per_class: { average_precision: hasCurves ? averagePrecision : names.map(() => null) },
  };
}

function fakeApi(reports) {
  const calls = [];
  return {
    calls,
    async report(run, tag, step, options) {
      calls.push(["report", run, step, options.group]);
      const byStep = reports[run];
      if (!byStep) throw Object.assign(new Error("no such run"), { status: 404 });
      return byStep[step];
    },
    async curves(run, tag, step, classIndex) {
      calls.push(["curves", run, step, classIndex]);
      return { run, step, class_index: classIndex, class_name: reports[run][step].class_names[classIndex] };
    },
  };
}

const source = (steps) => ({ stepsOf: (tag, run) => steps[run], classGroupsOf: () => ({ pets: ["cat"] }) });

test("loadCurves: the worst-AP class of the first run with curves, matched by name, at the table's step", async () => {
  const reports = {
    ids: { 1: fakeReport(1, false), 2: fakeReport(2, false) },
    a: { 1: fakeReport(1, true, [0.9, 0.2, 0.5]), 2: fakeReport(2, true, [0.9, 0.8, 0.3]) },
    b: { 2: fakeReport(2, true, [0.1, 0.9, 0.9], ["bird", "cat", "<img src=x onerror=alert(1)>"]) },
  };
  const api = fakeApi(reports);
  const selection = { api, source: source({ ids: [1, 2], a: [1, 2], b: [2] }), tag: "t", readable: ["ids", "a", "b"], state: { tableStep: 1, grouped: true } };
  const data = await loadCurves(selection);
  assert.equal(data.shown, true);
  assert.deepEqual(data.reference, { run: "a", step: 1 });
  assert.equal(data.className, NAMES[1]);
  assert.equal(data.isDefault, true);
  assert.deepEqual(data.names, NAMES);
  // Reports per class, never rolled up to groups; curves only for runs that have them.
  assert.ok(api.calls.filter((call) => call[0] === "report").every((call) => call[3] === false));
  assert.deepEqual(api.calls.filter((call) => call[0] === "curves").sort(), [["curves", "a", 1, 1], ["curves", "b", 2, 2]]);
  const [ids, a, b] = data.runs;
  assert.equal(ids.curves, null);
  assert.match(ids.reason, /^no curves at step 1/);
  assert.equal(a.curves.class_name, NAMES[1]);
  assert.equal(b.step, 2); // b's own step not after the table's: its first
  assert.equal(b.curves.class_index, 2);

  const chosen = await loadCurves({ ...selection, state: { tableStep: null, curveClass: "bird" } });
  assert.equal(chosen.className, "bird");
  assert.equal(chosen.isDefault, false);
  assert.deepEqual(chosen.reference, { run: "a", step: 2 });
  assert.deepEqual(chosen.runs.map((entry) => entry.curves?.class_index ?? null), [null, 2, 0]);
});

test("loadCurves: a run whose curves could not be read gives the report's reason, not the class-id hint", async () => {
  const unreadable = { ...fakeReport(0, false), curves_error: "run 'q\"1', tag 't': TensorBoard's default data server ..." };
  const reports = { a: { 0: fakeReport(0, true, [0.5, 0.6, 0.7]) }, 'q"1': { 0: unreadable } };
  const data = await loadCurves({ api: fakeApi(reports), source: source({ a: [0], 'q"1': [0] }), tag: "t", readable: ["a", 'q"1'], state: { tableStep: null } });
  assert.equal(data.runs[1].curves, null);
  assert.equal(data.runs[1].reason, unreadable.curves_error);
  // Alone, it still shows the panel: to say why
  const alone = await loadCurves({ api: fakeApi(reports), source: source({ 'q"1': [0] }), tag: "t", readable: ['q"1'], state: { tableStep: null } });
  assert.equal(alone.shown, true);
  assert.equal(alone.reference, null);
  assert.deepEqual(alone.runs.map((entry) => entry.reason), [unreadable.curves_error]);
});

test("loadCurves: no run with curves shows nothing; other class sets and failures say why", async () => {
  const reports = { ids: { 0: fakeReport(0, false) } };
  const none = await loadCurves({ api: fakeApi(reports), source: source({ ids: [0] }), tag: "t", readable: ["ids"], state: { tableStep: null } });
  assert.equal(none.shown, false);
  assert.equal(none.className, null);
  assert.equal(none.runs.length, 1);

  const mixed = {
    a: { 0: fakeReport(0, true, [0.5, 0.6, 0.7]) },
    other: { 0: fakeReport(0, true, [0.5, 0.5], ["x", "y"]) },
  };
  const api = fakeApi(mixed);
  const data = await loadCurves({ api, source: source({ a: [0], other: [0], missing: [0] }), tag: "t", readable: ["a", "other", "missing"], state: { tableStep: null } });
  assert.equal(data.className, "cat");
  assert.match(data.runs[1].reason, /classes differ/);
  assert.match(data.runs[2].reason, /no such run/);
  assert.deepEqual(api.calls.filter((call) => call[0] === "curves"), [["curves", "a", 0, 0]]);
});
