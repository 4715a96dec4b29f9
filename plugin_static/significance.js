// Confidence intervals and significance as the table shows them: which
// deltas may be coloured, interval bars, tooltips and low-support marks.
// Pure functions of the `report` and `compare` responses (no DOM).
import { formatCount, formatScore } from "./format.js";

/** Classes with fewer examples than this are marked, unless the user picks another threshold. */
export const DEFAULT_SUPPORT_THRESHOLD = 30;

/** Scores that `compare` tests (F1 and the summary rows have no test). */
export const TESTED_FIELDS = ["recall", "precision"];

const MINUS = "\u2212";

// Differences smaller than the last shown digit count as no change.
const DELTA_EPSILON = 5e-5;

function signed(value) {
  if (value > 0) return "+" + value.toFixed(4);
  if (value < 0) return MINUS + (-value).toFixed(4);
  return "0.0000";
}

/**
 * The support threshold from user input: a whole number ≥ 0, or the default
 * for anything else.
 * @param {string|number|null|undefined} value
 * @returns {number}
 */
export function parseSupportThreshold(value) {
  if (value === null || value === undefined || value === "") return DEFAULT_SUPPORT_THRESHOLD;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? Math.floor(number) : DEFAULT_SUPPORT_THRESHOLD;
}

/**
 * Whether a class has fewer examples than `threshold` (never when its
 * support is unknown, or the threshold is 0).
 * @param {number|null|undefined} support
 * @param {number} threshold
 * @returns {boolean}
 */
export function isLowSupport(support, threshold) {
  return typeof support === "number" && threshold > 0 && support < threshold;
}

/**
 * An interval as text, e.g. "0.6005–0.7787".
 * @param {[number, number]|null|undefined} interval
 * @returns {string}
 */
export function formatInterval(interval) {
  if (!interval) return "–";
  return `${formatScore(interval[0])}–${formatScore(interval[1])}`;
}

/**
 * Where a thin range bar for a score's interval sits in its cell, in percent
 * of the cell's width (the cell spans scores 0 to 1).
 * @param {[number, number]|null|undefined} interval
 * @param {number|null|undefined} value the score itself
 * @returns {{left: number, width: number, point: number|null}|null}
 */
export function intervalBar(interval, value) {
  if (!interval) return null;
  const clamp = (x) => Math.min(Math.max(x, 0), 1) * 100;
  const left = clamp(interval[0]);
  const right = clamp(interval[1]);
  return { left, width: Math.max(right - left, 0), point: typeof value === "number" ? clamp(value) : null };
}

/** How a score scikit-learn leaves undefined (0 / 0) is shown, as its zero_division=0 gives it. */
export const SHOWN_AS_ZERO = "shown as 0, as scikit-learn's zero_division=0 gives it";

/**
 * The tooltip of a class's F1 cell: null where F1 is defined; where the class
 * has no examples and is never predicted (0 / 0), says so.
 * @param {number|null|undefined} support the class's examples
 * @param {number|null|undefined} predicted how often the class is predicted
 * @returns {string|null}
 */
export function f1Title(support, predicted) {
  if (support !== 0 || predicted !== 0) return null;
  return `F1 undefined: the class has no examples and is never predicted at this step; ${SHOWN_AS_ZERO}`;
}

/**
 * The tooltip of a support cell below the threshold: few examples make the
 * scores uncertain; none leaves recall undefined.
 * @param {number} support
 * @param {number} threshold
 * @returns {string}
 */
export function lowSupportTitle(support, threshold) {
  if (support === 0) return `No examples of this class at this step: its recall is undefined (${SHOWN_AS_ZERO})`;
  return `Only ${formatCount(support)} examples (below ${threshold}): this class's scores are uncertain`;
}

/**
 * The tooltip of a recall or precision cell, e.g.
 * "recall 0.6970 · 95% interval 0.6005–0.7787 (Wilson, 99 examples)".
 * @param {"recall"|"precision"} field
 * @param {number} value
 * @param {[number, number]|null|undefined} interval
 * @param {number|null|undefined} denominator support (recall) or predicted count (precision)
 * @param {boolean} weighted whether the counts are sums of sample weights
 * @returns {string}
 */
export function intervalTitle(field, value, interval, denominator, weighted = false) {
  const head = `${field} ${formatScore(value)}`;
  if (denominator === 0 || (!interval && !weighted)) {
    return `${field} undefined: ${field === "recall" ? "the class has no examples at this step" : "the class is never predicted at this step"}; ${SHOWN_AS_ZERO} · no interval`;
  }
  if (weighted) return `${head} · no interval: the counts are sums of sample weights`;
  const count = typeof denominator === "number" ? `, ${denominator.toLocaleString("en-US")} ${field === "recall" ? "examples" : "predictions"}` : "";
  return `${head} · 95% interval ${formatInterval(interval)} (Wilson${count})`;
}

/**
 * The test of each tested score of one class, from a `compare` response.
 * @param {Object|null|undefined} comparison a `compare` route response
 * @param {number|undefined} classIndex the class's index in it
 * @returns {Object<string, {significant: boolean|null, interval: [number, number]|null}>|null}
 */
export function classTests(comparison, classIndex) {
  if (!comparison || classIndex === undefined || classIndex === null) return null;
  const tests = {};
  for (const field of TESTED_FIELDS) {
    tests[field] = {
      significant: comparison.per_class[`${field}_significant`][classIndex],
      interval: comparison.per_class[`${field}_delta_interval`][classIndex],
    };
  }
  return tests;
}

/**
 * How a difference to the baseline is shown.
 *
 * - "better" / "worse": only for a recall or precision difference whose 95%
 *   interval excludes 0 (significant);
 * - "ns": tested, not significant (shown muted, titled "n.s.");
 * - "same": no visible change;
 * - "untested": no test (F1, summary rows, weighted counts, a class without
 *   examples in a run, runs not compared) — never coloured;
 * - "neutral": support differences, neither better nor worse.
 * @param {number} delta
 * @param {string} fieldKey "precision", "recall", "f1" or "support"
 * @param {{significant: boolean|null, interval: [number, number]|null}|null|undefined} test
 * @param {{summary?: boolean}} [where] `summary: true` for a summary row (averages, imbalance metrics)
 * @returns {{direction: "better"|"worse"|"ns"|"same"|"untested"|"neutral", title: string}}
 */
export function deltaMark(delta, fieldKey, test, { summary = false } = {}) {
  if (fieldKey === "support") return { direction: "neutral", title: "difference in examples" };
  const tested = Boolean(test) && typeof test.significant === "boolean" && Array.isArray(test.interval);
  if (tested) {
    const range = `95% interval ${signed(test.interval[0])} to ${signed(test.interval[1])}`;
    if (test.significant) {
      return {
        direction: delta > 0 ? "better" : "worse",
        title: `significant: ${range} excludes 0 (Newcombe; runs taken as independent)`,
      };
    }
    return {
      direction: Math.abs(delta) < DELTA_EPSILON ? "same" : "ns",
      title: `n.s. (not significant): ${range} includes 0`,
    };
  }
  if (Math.abs(delta) < DELTA_EPSILON) return { direction: "same", title: "no change" };
  if (summary) return { direction: "untested", title: "not tested: only per-class recall and precision are tested, not averages over classes" };
  const why = TESTED_FIELDS.includes(fieldKey)
    ? "no test (a run has no examples or predictions of this class, weighted counts, or runs not compared)"
    : "no significance test for this score";
  return { direction: "untested", title: why };
}
