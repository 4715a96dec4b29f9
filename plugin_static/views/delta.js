// How a difference to the baseline and a score's interval look in a cell,
// shared by the side-by-side table and the pivot, and the one-line legend
// that explains them. Three looks that read without hovering:
// significant (coloured, bold), not significant (grey, with "n.s."),
// not tested (light, italic).
import { el } from "../dom.js";
import { formatDelta } from "../format.js";
import { intervalBar } from "../significance.js";
import { hiddenText } from "./hidden-text.js";

// What each look means, in words, for a screen reader.
const SPOKEN = {
  better: " (significant, better)",
  worse: " (significant, worse)",
  ns: " (not significant)",
  untested: " (not tested)",
};

/**
 * The difference shown after a value.
 * @param {number} delta
 * @param {{direction: string, title: string}} mark from {@link import("../significance.js").deltaMark}
 * @param {{isCount?: boolean, testid?: string}} [options]
 * @returns {HTMLElement}
 */
export function deltaElement(delta, mark, { isCount = false } = {}) {
  const notSignificant = mark.direction === "ns";
  return el(
    "span",
    {
      class: `delta ${mark.direction}`,
      title: mark.title,
      dataset: { delta: String(delta), ...(notSignificant ? { testid: "not-significant" } : {}) },
    },
    formatDelta(delta, isCount),
    SPOKEN[mark.direction] ? hiddenText(SPOKEN[mark.direction]) : null,
    notSignificant ? el("span", { class: "ns-mark", "aria-hidden": "true", dataset: { testid: "ns-mark" } }, "n.s.") : null,
  );
}

/**
 * A score's 95% interval as a bar under the value (the cell spans scores 0 to 1).
 * @param {[number, number]|null|undefined} interval
 * @param {number} value
 * @returns {HTMLElement|null} null without an interval
 */
export function intervalElement(interval, value) {
  const geometry = intervalBar(interval, value);
  if (!geometry) return null;
  return el(
    "span",
    {
      class: "interval",
      "aria-hidden": "true",
      dataset: { testid: "interval-bar", low: String(interval[0]), high: String(interval[1]) },
    },
    el("span", { class: "interval-range", style: { left: `${geometry.left}%`, width: `${geometry.width}%` } }),
    geometry.point === null ? null : el("span", { class: "interval-point", style: { left: `${geometry.point}%` } }),
  );
}

const DIFFERENCES_TITLE =
  "Recall and precision differences are tested at 95% (Newcombe's interval excludes 0, runs taken as independent); F1, AP, ROC-AUC, calibration error and the summary rows are not tested. ";
const BAR_TITLE = "The bar under recall and precision spans scores 0 to 1; its dark part is the score's 95% Wilson interval.";

/**
 * The one-line legend of the report card: the three looks of a difference
 * and the interval bar, drawn with the same elements as the cells. Without
 * a difference to show (one run per class set) only the bar's part shows:
 * see {@link showDifferences}.
 * @returns {HTMLElement}
 */
export function significanceLegend() {
  const sample = (direction, text) => el("span", { class: `delta ${direction}` }, text);
  const difference = (testid, ...children) => el("span", { class: "legend-item", dataset: { ...(testid ? { testid } : {}), difference: "" } }, ...children);
  return el(
    "div",
    { class: "legend significance-legend", dataset: { testid: "significance-legend" }, title: DIFFERENCES_TITLE + BAR_TITLE },
    difference(null, "Difference to the baseline:"),
    difference("legend-significant", sample("better", "+0.12"), sample("worse", "\u22120.08"), "significant"),
    difference("legend-ns", el("span", { class: "delta ns" }, "+0.03", el("span", { class: "ns-mark" }, "n.s.")), "not significant"),
    difference("legend-untested", sample("untested", "+0.02"), "not tested"),
    el(
      "span",
      { class: "legend-item", dataset: { testid: "legend-interval" } },
      el("span", { class: "value legend-interval" }, el("span", { class: "interval" }, el("span", { class: "interval-range", style: { left: "20%", width: "60%" } }), el("span", { class: "interval-point", style: { left: "50%" } }))),
      "95% interval",
    ),
  );
}

/**
 * Shows or hides the legend's differences: hidden where no class set has a
 * second run, so there is no difference to the baseline to explain.
 * @param {HTMLElement} legend from {@link significanceLegend}
 * @param {boolean} shown
 */
export function showDifferences(legend, shown) {
  for (const item of legend.querySelectorAll("[data-difference]")) item.hidden = !shown;
  legend.title = shown ? DIFFERENCES_TITLE + BAR_TITLE : BAR_TITLE;
}
