// Unit tests of plugin_static/significance.js: which differences may be
// coloured, interval bars and tooltips, low-support marks.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_SUPPORT_THRESHOLD,
  TESTED_FIELDS,
  classTests,
  deltaMark,
  formatInterval,
  intervalBar,
  f1Title,
  intervalTitle,
  isLowSupport,
  lowSupportTitle,
  parseSupportThreshold,
} from "../../plugin_static/significance.js";

const significant = { significant: true, interval: [0.0807, 0.4111] };
const notSignificant = { significant: false, interval: [-0.0626, 0.1773] };

test("a significant difference is coloured by its sign", () => {
  assert.equal(deltaMark(0.2552, "recall", significant).direction, "better");
  assert.equal(deltaMark(-0.05, "precision", { significant: true, interval: [-0.09, -0.01] }).direction, "worse");
  assert.match(deltaMark(0.2552, "recall", significant).title, /^significant: 95% interval \+0\.0807 to \+0\.4111 excludes 0/);
});

test("a tested difference that is not significant is muted and titled n.s.", () => {
  const mark = deltaMark(0.0576, "recall", notSignificant);
  assert.equal(mark.direction, "ns");
  assert.equal(mark.title, "n.s. (not significant): 95% interval \u22120.0626 to +0.1773 includes 0");
  assert.equal(deltaMark(0.00001, "recall", notSignificant).direction, "same");
});

test("differences without a test are never coloured", () => {
  assert.equal(deltaMark(0.3, "f1", null).direction, "untested");
  assert.equal(deltaMark(-0.3, "f1", undefined).direction, "untested");
  assert.match(deltaMark(0.3, "f1", null).title, /no significance test/);
  // Weighted counts or a class without examples: compare answers null.
  assert.equal(deltaMark(0.3, "recall", { significant: null, interval: null }).direction, "untested");
  assert.match(deltaMark(0.3, "recall", null).title, /no test/);
  assert.equal(deltaMark(0, "f1", null).direction, "same");
  assert.equal(deltaMark(12, "support", significant).direction, "neutral");
});

test("classTests reads one class of a compare response", () => {
  const comparison = {
    per_class: {
      recall_significant: [true, null],
      recall_delta_interval: [[0.1, 0.2], null],
      precision_significant: [false, null],
      precision_delta_interval: [[-0.1, 0.2], null],
    },
  };
  assert.deepEqual(classTests(comparison, 0), {
    recall: { significant: true, interval: [0.1, 0.2] },
    precision: { significant: false, interval: [-0.1, 0.2] },
  });
  assert.deepEqual(classTests(comparison, 1).recall, { significant: null, interval: null });
  assert.equal(classTests(null, 0), null);
  assert.equal(classTests(comparison, undefined), null);
  assert.deepEqual(TESTED_FIELDS, ["recall", "precision"]);
});

test("interval bars are placed on a 0–1 scale and clamped", () => {
  assert.deepEqual(intervalBar([0.25, 0.75], 0.5), { left: 25, width: 50, point: 50 });
  assert.deepEqual(intervalBar([-0.1, 1.2], null), { left: 0, width: 100, point: null });
  assert.equal(intervalBar(null, 0.5), null);
  const bar = intervalBar([0.0686, 0.3175], 0.1562);
  assert.ok(Math.abs(bar.left - 6.86) < 1e-9 && Math.abs(bar.width - 24.89) < 1e-9);
});

test("interval text and tooltips", () => {
  assert.equal(formatInterval([0.6005, 0.7787]), "0.6005–0.7787");
  assert.equal(formatInterval(null), "–");
  assert.equal(
    intervalTitle("recall", 0.697, [0.6005, 0.7787], 1099),
    "recall 0.6970 · 95% interval 0.6005–0.7787 (Wilson, 1,099 examples)",
  );
  assert.match(intervalTitle("precision", 0.5, [0.1, 0.9], 4), /\(Wilson, 4 predictions\)$/);
  // Undefined (0 / 0): said as undefined, not as a measured 0.0000.
  assert.equal(
    intervalTitle("recall", 0, null, 0),
    "recall undefined: the class has no examples at this step; shown as 0, as scikit-learn's zero_division=0 gives it · no interval",
  );
  assert.equal(
    intervalTitle("precision", 0, null, 0),
    "precision undefined: the class is never predicted at this step; shown as 0, as scikit-learn's zero_division=0 gives it · no interval",
  );
  assert.match(intervalTitle("recall", 0.9, null, 12.5, true), /sums of sample weights/);
  // A weighted step's 0 / 0 is undefined too: not a measured 0.0000 without an interval.
  assert.equal(
    intervalTitle("precision", 0, null, 0, true),
    "precision undefined: the class is never predicted at this step; shown as 0, as scikit-learn's zero_division=0 gives it · no interval",
  );
  assert.match(intervalTitle("recall", 0, null, 0, true), /^recall undefined: the class has no examples/);
});

test("F1 is undefined only without examples and predictions; no examples is not 'uncertain'", () => {
  assert.equal(f1Title(0, 0), "F1 undefined: the class has no examples and is never predicted at this step; shown as 0, as scikit-learn's zero_division=0 gives it");
  assert.equal(f1Title(5, 0), null); // 2·TP / (2·TP + FP + FN) = 0 / 5: defined
  assert.equal(f1Title(0, 3), null);
  assert.equal(f1Title(12, 10), null);
  assert.equal(lowSupportTitle(5, 30), "Only 5 examples (below 30): this class's scores are uncertain");
  assert.equal(lowSupportTitle(1200, 5000), "Only 1,200 examples (below 5000): this class's scores are uncertain");
  assert.match(lowSupportTitle(0, 30), /^No examples of this class at this step: its recall is undefined/);
});

test("low support and its threshold", () => {
  assert.equal(DEFAULT_SUPPORT_THRESHOLD, 30);
  assert.equal(isLowSupport(29, 30), true);
  assert.equal(isLowSupport(30, 30), false);
  assert.equal(isLowSupport(0, 30), true);
  assert.equal(isLowSupport(5, 0), false);
  assert.equal(isLowSupport(null, 30), false);
  assert.equal(isLowSupport(12.5, 20), true);
  assert.equal(parseSupportThreshold("50"), 50);
  assert.equal(parseSupportThreshold("7.9"), 7);
  assert.equal(parseSupportThreshold("0"), 0);
  for (const bad of ["", null, undefined, "-3", "abc", "Infinity"]) assert.equal(parseSupportThreshold(bad), 30, String(bad));
});
