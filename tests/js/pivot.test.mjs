// Unit tests of plugin_static/pivot.js: building the pivot (groups per class
// set, deltas, significance only where `compare` found it), run colours
// stable by name, and the default tag.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PIVOT_METRICS,
  assignColours,
  buildPivot,
  classCountText,
  classSetTitle,
  defaultBaseline,
  defaultTag,
  groupByClassSet,
  nameHash,
  parseMetric,
  parseView,
  pivotMetricOptions,
  resolveBaselines,
} from "../../plugin_static/pivot.js";

const PALETTE = ["#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"];

function report(step, names, recall, precision) {
  const f1 = recall.map((r, i) => (r + precision[i] ? (2 * r * precision[i]) / (r + precision[i]) : 0));
  return { step, class_names: names, per_class: { recall, precision, f1 } };
}

const NAMES = ["cat", "dog", "bird"];
const comparison = {
  class_names: NAMES,
  per_class: {
    recall_delta: [-0.2, 0.1, null],
    recall_delta_interval: [[-0.3, -0.1], [-0.2, 0.4], null],
    recall_significant: [true, false, null],
    precision_delta: [0.05, -0.1, null],
    precision_delta_interval: [[0.01, 0.09], [-0.3, 0.1], null],
    precision_significant: [true, false, null],
  },
};
const columns = [
  { run: "b_other", step: 5, report: report(5, NAMES, [0.7, 0.6, 0.0], [0.85, 0.5, 0.0]), comparison },
  { run: "a_base", step: 4, report: report(4, NAMES, [0.9, 0.5, 0.0], [0.8, 0.6, 0.0]), comparison: null },
  { run: "binary", step: 2, report: report(2, ["legit", "fraud"], [0.95, 0.4], [0.9, 0.5]), comparison: null, comparisonError: "its classes differ" },
  { run: "broken", step: null, report: null, error: "Error 422" },
];

test("the pivot has one group per class set, each led by its own baseline", () => {
  const groups = buildPivot(columns, ["a_base", "binary"], "recall");
  assert.equal(groups.length, 2);
  assert.equal(groups[0].hasBaseline, true);
  assert.equal(groups[0].baseline, "a_base");
  assert.deepEqual(groups[0].classNames, NAMES);
  assert.deepEqual(groups[0].runs, [
    { run: "a_base", step: 4, isBaseline: true },
    { run: "b_other", step: 5, isBaseline: false },
  ]);
  assert.deepEqual(groups[0].rows.map((row) => row.name), NAMES);
  // The other class set has its own baseline (nothing else to compare in it).
  assert.equal(groups[1].hasBaseline, true);
  assert.equal(groups[1].baseline, "binary");
  assert.deepEqual(groups[1].runs, [{ run: "binary", step: 2, isBaseline: true }]);
  // No empty rows for classes of other class sets.
  assert.deepEqual(groups[1].rows.map((row) => row.name), ["legit", "fraud"]);
  assert.deepEqual(groups[1].rows[0].cells.binary, { value: 0.95, interval: null, delta: null, direction: null, title: null });
  // A single baseline (an old link): the other class set is shown, not compared.
  const single = buildPivot(columns, "a_base", "recall");
  assert.deepEqual(single.map((group) => [group.hasBaseline, group.baseline]), [[true, "a_base"], [false, null]]);
});

test("pivot cells carry the score's own interval for the bars", () => {
  const withIntervals = columns.map((column) =>
    column.run === "a_base"
      ? { ...column, report: { ...column.report, per_class: { ...column.report.per_class, recall_interval: [[0.8, 0.95], [0.3, 0.7], null] } } }
      : column,
  );
  const rows = buildPivot(withIntervals, ["a_base"], "recall")[0].rows;
  assert.deepEqual(rows.map((row) => row.cells.a_base.interval), [[0.8, 0.95], [0.3, 0.7], null]);
  assert.deepEqual(rows.map((row) => row.cells.b_other.interval), [null, null, null]); // its report has none
});

test("pivot deltas are coloured only where compare says significant", () => {
  const recall = buildPivot(columns, "a_base", "recall")[0].rows;
  assert.equal(recall[0].cells.a_base.delta, null);
  assert.ok(Math.abs(recall[0].cells.b_other.delta - -0.2) < 1e-12);
  assert.equal(recall[0].cells.b_other.direction, "worse");
  assert.equal(recall[1].cells.b_other.direction, "ns");
  // `compare` has no difference for a class without examples in either run: none shown.
  assert.deepEqual(recall[2].cells.b_other, { value: 0, interval: null, delta: null, direction: null, title: null });
  const precision = buildPivot(columns, "a_base", "precision")[0].rows;
  assert.equal(precision[0].cells.b_other.direction, "better");
  assert.equal(precision[1].cells.b_other.direction, "ns");
  // F1 has no test: never coloured.
  const f1 = buildPivot(columns, "a_base", "f1")[0].rows;
  assert.deepEqual(new Set(f1.map((row) => row.cells.b_other.direction)), new Set(["untested", "same"]));
  assert.equal(f1[0].cells.b_other.direction, "untested");
  // Without a comparison (e.g. the compare request failed) nothing is coloured.
  const untested = buildPivot([columns[1], { ...columns[0], comparison: null }], "a_base", "recall")[0].rows;
  assert.equal(untested[0].cells.b_other.direction, "untested");
});

test("without a baseline among the shown runs, no group is compared", () => {
  const groups = buildPivot(columns, "broken", "recall");
  assert.ok(groups.every((group) => !group.hasBaseline));
  assert.ok(groups.every((group) => group.rows.every((row) => Object.values(row.cells).every((cell) => cell.delta === null))));
  assert.deepEqual(buildPivot([], "a", "recall"), []);
});

test("metric and view from user input", () => {
  assert.deepEqual(PIVOT_METRICS.map((metric) => metric.key), ["recall", "precision", "f1", "average_precision", "roc_auc", "calibration_error"]);
  assert.equal(parseMetric("f1"), "f1");
  assert.equal(parseMetric("average_precision"), "average_precision");
  assert.equal(parseMetric("accuracy"), "recall");
  assert.equal(parseMetric(null), "recall");
  assert.equal(parseView("pivot"), "pivot");
  assert.equal(parseView("<b>"), "table");
});

test("curve metrics: null where a run has none, AP differences from compare", () => {
  const scored = (source, averagePrecision) => ({ ...source, has_curves: true, per_class: { ...source.per_class, average_precision: averagePrecision } });
  const curveColumns = [
    { run: "a_base", step: 4, report: scored(columns[1].report, [0.9, 0.5, null]), comparison: null },
    {
      run: "b_other",
      step: 5,
      report: scored(columns[0].report, [0.7, 0.6, null]),
      comparison: { ...comparison, per_class: { ...comparison.per_class, average_precision_difference: [-0.2, 0.1, null] } },
    },
    { run: "c_ids", step: 5, report: columns[0].report, comparison },
  ];
  const [group] = buildPivot(curveColumns, ["a_base"], "average_precision");
  const [cat, dog, bird] = group.rows;
  assert.equal(cat.cells.a_base.value, 0.9);
  assert.equal(cat.cells.b_other.delta, -0.2);
  assert.equal(cat.cells.b_other.direction, "untested");
  assert.equal(dog.cells.b_other.delta, 0.1);
  assert.deepEqual(bird.cells.b_other, { value: null, interval: null, delta: null, direction: null, title: null });
  assert.equal(cat.cells.c_ids.value, null);
  // Metrics that are not curves keep empty cells for missing values.
  assert.equal(buildPivot(curveColumns, ["a_base"], "f1")[0].rows[0].cells.c_ids.value > 0, true);
});

test("a pivot's runs named like an object's own properties have cells of their own", () => {
  // A run named "__proto__" became the prototype of each row's cells: not among its keys.
  const columns = [
    { run: "baseline", step: 3, report: report(3, NAMES, [0.9, 0.5, 0.2], [0.8, 0.6, 0.3]) },
    { run: "__proto__", step: 3, report: report(3, NAMES, [0.7, 0.6, 0.2], [0.85, 0.5, 0.3]), comparison },
    { run: "constructor", step: 3, report: report(3, NAMES, [0.6, 0.4, 0.1], [0.5, 0.5, 0.5]) },
  ];
  const [group] = buildPivot(columns, "baseline", "recall");
  const [cat] = group.rows;
  assert.deepEqual(Object.keys(cat.cells), ["baseline", "__proto__", "constructor"]);
  assert.equal(cat.cells.value, undefined);
  assert.equal(cat.cells.__proto__.value, 0.7);
  assert.equal(cat.cells.__proto__.direction, "worse");
  assert.equal(cat.cells.constructor.value, 0.6);
  assert.equal(buildPivot(columns.slice(0, 1), "baseline", "recall")[0].rows[0].cells.constructor, undefined);
});

test("colours are stable by run name when runs appear", () => {
  const first = assignColours(["b", "c"], {}, PALETTE);
  const second = assignColours(["a", "b", "c", "d"], first, PALETTE);
  assert.equal(second.b, first.b);
  assert.equal(second.c, first.c);
  // Distinct while the palette lasts.
  const many = assignColours(Array.from({ length: 10 }, (_, index) => `run_${index}`), {}, PALETTE);
  assert.equal(new Set(Object.values(many)).size, 10);
  // A run's first colour depends on its name, not its position.
  assert.equal(assignColours(["zeta"], {}, PALETTE).zeta, PALETTE[nameHash("zeta") % 10]);
  assert.equal(assignColours(["aaa", "zeta"], {}, PALETTE).zeta, assignColours(["zeta", "aaa"], {}, PALETTE).zeta);
  // Runs coloured before but not needed now do not block a colour.
  const hashed = PALETTE[nameHash("zeta") % 10];
  assert.equal(assignColours(["zeta"], { old: hashed }, PALETTE).zeta, hashed);
  assert.notEqual(assignColours(["zeta", "old"], { old: hashed }, PALETTE).zeta, hashed);
  // More runs than colours: colours repeat, every run still gets one.
  const crowded = assignColours(Array.from({ length: 13 }, (_, index) => `r${index}`), {}, PALETTE);
  assert.equal(Object.keys(crowded).length, 13);
  assert.ok(Object.values(crowded).every((colour) => PALETTE.includes(colour)));
});

test("runs named like an object's own properties get a colour of their own, kept", () => {
  // Run names are directory names: "__proto__" set the colours' prototype and got none (a swatch
  // drawn with "[object Object]"), and was given a new colour on every call.
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
  const first = assignColours(["baseline", ...names], {}, PALETTE);
  assert.deepEqual(Object.keys(first).sort(), ["__proto__", "baseline", "constructor", "hasOwnProperty", "toString", "valueOf"]);
  for (const run of names) assert.ok(PALETTE.includes(first[run]), `${run}: ${first[run]}`);
  assert.equal(assignColours(["__proto__"], {}, PALETTE).__proto__, PALETTE[nameHash("__proto__") % 10]);
  assert.equal(new Set(Object.values(first)).size, 6);
  const second = assignColours(["zeta", "baseline", ...names], first, PALETTE);
  for (const run of ["baseline", ...names]) assert.equal(second[run], first[run]);
  // A run not coloured reads as none, not as Object's function of that name.
  assert.equal(assignColours(["baseline"], {}, PALETTE).constructor, undefined);
});

test("the default tag is the one most selected runs have", () => {
  const runTags = { a: ["t1"], b: ["t2"], c: ["t2", "t1"], d: ["t3"] };
  assert.equal(defaultTag(runTags, ["b", "c"]), "t2");
  assert.equal(defaultTag(runTags, ["a", "c"]), "t1");
  assert.equal(defaultTag(runTags, ["a", "b"]), "t1"); // tie: first by name
  assert.equal(defaultTag(runTags, ["d"]), "t3");
  assert.equal(defaultTag(runTags, []), "t1");
  // A selected run not in the list, named like an object's own property, has no tags (it threw).
  assert.equal(defaultTag(runTags, ["constructor", "b"]), "t2");
  assert.equal(defaultTag(runTags, ["__proto__"]), "t1");
  assert.equal(defaultTag(runTags, ["unknown"]), "t1");
  assert.equal(defaultTag({}, []), null);
});

/** The title without the marks that isolate its names (checked on their own below). */
const plainTitle = (...args) => classSetTitle(...args).replace(/[\u2068\u2069]/g, "");

test("runs are grouped by class set, the baseline's group first, display order kept", () => {
  const col = (run, names) => ({ run, report: names ? { class_names: names } : null });
  const columns = [col("a", ["x", "y"]), col("b", ["p"]), col("c", ["x", "y"]), col("d", null), col("e", ["y", "x"]), col("f", ["p"])];
  const groups = groupByClassSet(columns, "f");
  assert.deepEqual(
    groups.map((group) => [group.classNames, group.hasBaseline, group.columns.map((column) => column.run)]),
    [
      [["p"], true, ["b", "f"]],
      [["x", "y"], false, ["a", "c"]],
      [["y", "x"], false, ["e"]],
    ],
  );
  assert.deepEqual(groupByClassSet(columns, "d").map((group) => group.hasBaseline), [false, false, false]);
  assert.equal(groups[0].baseline, "f");
  assert.equal(plainTitle(groups[0], 0), "Class set 1: 1 class (p), compared with its baseline f");
  // each name isolated: a right-to-left name reordered the text after it
  assert.equal(classSetTitle(groups[0], 0), "Class set 1: 1 class (\u2068p\u2069), compared with its baseline \u2068f\u2069");
  // The same classes in another order: another class set, which says so.
  assert.deepEqual(groups.map((group) => group.reorderOf), [undefined, undefined, 1]);
  assert.equal(
    plainTitle(groups[2], 2),
    "Class set 3: 2 classes (y, x): the classes of class set 2 in another order (runs compare class by position: " +
      "log class_names in one order to compare them); no baseline chosen, so not compared",
  );
  assert.equal(
    plainTitle({ classNames: ["a", "b", "c", "d", "e"], hasBaseline: false }, 2),
    "Class set 3: 5 classes (a, b, c, d, …); no baseline chosen, so not compared",
  );
  assert.equal(
    plainTitle({ classNames: ["y", "x"], hasBaseline: true, baseline: "e", columns: [columns[4]] }, 1),
    "Class set 2: 2 classes (y, x); one run, nothing to compare with",
  );
  // A very long class name is cut in the title (whole characters, to 40 columns, an emoji or a CJK
  // character taking two), not thousands of characters above the table; its last 12 columns kept, as
  // the table's labels keep them.
  assert.equal(
    plainTitle({ classNames: ["x".repeat(5000), `${"é".repeat(38)}😀`, "short"], hasBaseline: false }, 0),
    `Class set 1: 3 classes (${"x".repeat(27)}…${"x".repeat(12)}, ${"é".repeat(38)}😀, short); no baseline chosen, so not compared`,
  );
  assert.equal(
    plainTitle({ classNames: [`${"a".repeat(38)}😀😀😀`, "b"], hasBaseline: false }, 0),
    `Class set 1: 2 classes (${"a".repeat(27)}…${"a".repeat(6)}😀😀😀, b); no baseline chosen, so not compared`,
  );
  assert.equal(
    plainTitle({ classNames: ["国際電信送金の取引種別クラス番号_国内小口_個人", "b"], hasBaseline: false }, 0),
    "Class set 1: 2 classes (国際電信送金の取引種別クラス…内小口_個人, b); no baseline chosen, so not compared",
  );
  // Cut in the middle: long names that share their start stay apart (cut at the end they read alike).
  const start = "a_very_long_common_start_of_the_class_names_";
  assert.equal(
    plainTitle({ classNames: [`${start}golden_retriever`, `${start}labrador_retriever`], hasBaseline: false }, 0),
    "Class set 1: 2 classes (a_very_long_common_start_of…en_retriever, a_very_long_common_start_of…or_retriever); no baseline chosen, so not compared",
  );
  // One baseline per class set: every group is compared with its own.
  const each = groupByClassSet(columns, ["c", "f", "e"]);
  assert.deepEqual(each.map((group) => group.baseline), ["c", "f", "e"]);
});

test("each class set's default baseline: a run named baseline, else its first run", () => {
  assert.equal(defaultBaseline(["digits/weights", "digits/Baseline_2", "digits/baseline"]), "digits/Baseline_2");
  assert.equal(defaultBaseline(["b", "a"]), "b");
  assert.equal(defaultBaseline([]), null);
  const col = (run, names) => ({ run, report: names ? { class_names: names } : null });
  const demo = [
    col("cancer/class_weights", ["benign", "malignant"]),
    col("cancer/baseline", ["benign", "malignant"]),
    col("digits/oversampling", ["0", "1"]),
    col("digits/baseline", ["0", "1"]),
    col("digits/class_weights", ["0", "1"]),
    col("other/x", ["p"]),
    col("broken", null),
  ];
  // In display order of the class sets; one per set.
  assert.deepEqual(resolveBaselines(demo), ["cancer/baseline", "digits/baseline", "other/x"]);
  // A user's choice holds in its own set only; a chosen run not shown is ignored.
  assert.deepEqual(resolveBaselines(demo, ["digits/class_weights", "gone"]), ["cancer/baseline", "digits/class_weights", "other/x"]);
  assert.deepEqual(resolveBaselines(demo, ["cancer/class_weights", "digits/oversampling"]), ["cancer/class_weights", "digits/oversampling", "other/x"]);
});

test("the header counts classes per class set", () => {
  const set = (count) => ({ classNames: Array.from({ length: count }, (_, index) => `c${index}`), columns: [] });
  assert.equal(classCountText([], false), null);
  assert.equal(classCountText([set(2)], false), "2 classes");
  assert.equal(classCountText([set(2), set(10)], false), "12 classes in 2 class sets (2 + 10)");
  assert.equal(classCountText([set(3)], true), "3 groups");
});

test("the pivot offers the curve metrics when a run has curves, or when one is chosen already", () => {
  const plain = [["recall", "Recall"], ["precision", "Precision"], ["f1", "F1"]];
  const curves = [["average_precision", "AP"], ["roc_auc", "ROC-AUC"], ["calibration_error", "Calibration error"]];
  assert.deepEqual(pivotMetricOptions(false, "recall"), plain);
  assert.deepEqual(pivotMetricOptions(true, "recall"), [...plain, ...curves]);
  // A link that chose AP keeps it offered before the runs' reports say they have curves.
  assert.deepEqual(pivotMetricOptions(false, "average_precision"), [...plain, ...curves]);
});
