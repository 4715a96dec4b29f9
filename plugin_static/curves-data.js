// The curves panel as data: which class it shows, why a run has no curves,
// and the geometry of its three charts (PR, ROC, reliability) from the
// `curves` route's answer. Pure functions (no DOM).

/** One chart's size and margins, in SVG user units; the plot area spans scores 0 to 1 on both axes. */
export const CURVE_PLOT = { width: 240, height: 210, left: 34, right: 10, top: 10, bottom: 32 };

/** Radius of a reliability point: the fullest bin of a run gets the largest. */
export const POINT_RADIUS = { min: 1.5, max: 6 };

/**
 * Maps scores in [0, 1] to the plot area of `plot` (y grows upwards).
 * @param {{width: number, height: number, left: number, right: number, top: number, bottom: number}} [plot]
 * @returns {{x: (value: number) => number, y: (value: number) => number}}
 */
export function unitScale(plot = CURVE_PLOT) {
  const width = plot.width - plot.left - plot.right;
  const height = plot.height - plot.top - plot.bottom;
  return {
    x: (value) => plot.left + value * width,
    y: (value) => plot.top + (1 - value) * height,
  };
}

/**
 * The class with the lowest average precision of a `report` response
 * (ties: the first); null when no class has one (no curves at that step).
 * @param {{per_class: {average_precision?: Array<number|null>}}} report
 * @returns {number|null}
 * @example
 *   worstAveragePrecision({per_class: {average_precision: [0.9, null, 0.4, 0.4]}}) // 2
 */
export function worstAveragePrecision(report) {
  const values = report?.per_class?.average_precision ?? [];
  let worst = null;
  values.forEach((value, index) => {
    if (typeof value === "number" && (worst === null || value < values[worst])) worst = index;
  });
  return worst;
}

/**
 * The class the panel shows: the one named `wanted` when the reference
 * report has it, else the class with the worst average precision (the
 * first class when none has one).
 * @param {{class_names: string[], per_class: Object}} report the reference run's report
 * @param {string|null} wanted a class name (from the picker or the URL)
 * @returns {{index: number, name: string, isDefault: boolean}|null} null without classes
 */
export function chooseCurveClass(report, wanted) {
  const names = report?.class_names ?? [];
  if (names.length === 0) return null;
  const chosen = wanted === null || wanted === undefined ? -1 : names.indexOf(wanted);
  if (chosen >= 0) return { index: chosen, name: names[chosen], isDefault: false };
  const index = worstAveragePrecision(report) ?? 0;
  return { index, name: names[index], isDefault: true };
}

/**
 * Why a run has no curves to draw at `step`, as a hint that says how to get them.
 * @param {number|null} step
 * @returns {string}
 */
export function noCurvesReason(step) {
  const where = step === null || step === undefined ? "" : ` at step ${step}`;
  return `no curves${where}: curves come from scores. Log probabilities (or logits with from_logits=True) with log_report, not class ids`;
}

/**
 * The precision-recall curve as the step line whose area is the average
 * precision: in the route's (scikit-learn's) order, precision p[i] holds
 * from recall r[i+1] up to r[i]. Points are `[recall, precision]`, from
 * recall 1 down to the final point (0, 1).
 * @param {{precision: number[], recall: number[]}} pr
 * @returns {Array<[number, number]>}
 * @example
 *   prStepPoints({precision: [0.5, 1], recall: [1, 0]}) // [[1, 0.5], [0, 0.5], [0, 1]]
 */
export function prStepPoints(pr) {
  const { precision, recall } = pr;
  const points = [];
  const push = (x, y) => {
    const last = points[points.length - 1];
    if (!last || last[0] !== x || last[1] !== y) points.push([x, y]);
  };
  for (let index = 0; index < recall.length; index++) {
    if (index > 0) push(recall[index], precision[index - 1]);
    push(recall[index], precision[index]);
  }
  return points;
}

/**
 * The ROC curve's points `[fpr, tpr]`, from (0, 0) on.
 * @param {{fpr: number[], tpr: number[]}} roc
 * @returns {Array<[number, number]>}
 */
export function rocPoints(roc) {
  return roc.fpr.map((fpr, index) => [fpr, roc.tpr[index]]);
}

/**
 * The area between a line and the x axis (trapezoids; the points may run
 * either way along x). The area of {@link prStepPoints} is the average
 * precision, that of {@link rocPoints} the ROC-AUC.
 * @param {Array<[number, number]>} points
 * @returns {number}
 */
export function areaUnder(points) {
  let area = 0;
  for (let index = 1; index < points.length; index++) {
    const [x0, y0] = points[index - 1];
    const [x1, y1] = points[index];
    area += Math.abs(x1 - x0) * (y0 + y1) / 2;
  }
  return area;
}

/**
 * The reliability diagram's points: one per non-empty bin, at (mean score,
 * observed frequency), with a radius growing with the square root of the
 * bin's rows (area by rows), the fullest bin at {@link POINT_RADIUS}.max.
 * @param {{mean_score: Array<number|null>, observed_frequency: Array<number|null>, rows: number[]}} reliability
 * @returns {Array<{bin: number, x: number, y: number, rows: number, radius: number}>}
 */
export function reliabilityPoints(reliability) {
  const { mean_score: means, observed_frequency: observed, rows } = reliability;
  const most = Math.max(0, ...rows.filter((count, bin) => means[bin] !== null && observed[bin] !== null));
  const points = [];
  means.forEach((mean, bin) => {
    if (mean === null || observed[bin] === null || !(rows[bin] > 0)) return;
    const share = most > 0 ? Math.sqrt(rows[bin] / most) : 0;
    points.push({ bin, x: mean, y: observed[bin], rows: rows[bin], radius: POINT_RADIUS.min + share * (POINT_RADIUS.max - POINT_RADIUS.min) });
  });
  return points;
}

/**
 * The argmax decision's point on the PR chart (`[recall, precision]`), or
 * null when its recall is undefined (the class has no examples).
 * @param {{precision: number|null, recall: number|null}|null|undefined} operatingPoint
 * @returns {[number, number]|null}
 */
export function operatingPointOf(operatingPoint) {
  if (!operatingPoint || typeof operatingPoint.recall !== "number" || typeof operatingPoint.precision !== "number") return null;
  return [operatingPoint.recall, operatingPoint.precision];
}

/**
 * An SVG `points` attribute for `points` in scores, drawn with `scale`.
 * @param {Array<[number, number]>} points
 * @param {{x: (value: number) => number, y: (value: number) => number}} scale
 * @returns {string}
 */
export function svgPoints(points, scale) {
  return points.map(([x, y]) => `${scale.x(x).toFixed(2)},${scale.y(y).toFixed(2)}`).join(" ");
}
