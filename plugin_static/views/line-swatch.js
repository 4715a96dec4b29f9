// A legend's sample of a run's line: its colour and its dash pattern, as the charts draw it.
import { svg } from "../dom.js";

/**
 * `<svg class="swatch line-swatch">` holding a short line in `colour` with `dash` (a
 * `stroke-dasharray` value, see run-looks.js).
 * @param {string} colour
 * @param {string} dash
 * @returns {SVGElement}
 */
export function lineSwatch(colour, dash) {
  return svg(
    "svg",
    { class: "swatch line-swatch", viewBox: "0 0 28 10", "aria-hidden": "true", dataset: { testid: "line-swatch" } },
    svg("line", { x1: 0, y1: 5, x2: 28, y2: 5, stroke: colour, "stroke-width": 2, "stroke-dasharray": dash }),
  );
}
