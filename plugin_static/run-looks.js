// How runs look in the charts: a colour each and, so that runs stay apart without their colours
// (for a colour-blind reader, in print), a line dash pattern that goes with the colour.

/** Tableau 10: distinct, print-friendly run colours (assigned by run name, see pivot.js's assignColours). */
export const RUN_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/**
 * One `stroke-dasharray` per colour of {@link RUN_COLOURS}, in the charts' units (lines about 1.6
 * wide): solid, long dashes, dots, dash-dot, short dashes, dash-dot-dot, sparse dots, very long
 * dashes, pairs of dashes, dash-dash-dot.
 */
export const RUN_DASHES = ["none", "8 4", "2 3", "8 3 2 3", "4 2", "12 3 2 3 2 3", "1 5", "16 5", "4 2 4 7", "8 3 8 3 2 3"];

/**
 * Each run's dash pattern: the one that goes with its colour, so runs with distinct colours have
 * distinct dashes; a colour not in `palette` gets the solid line.
 * @param {Object<string, string>} colours run -> colour (from assignColours)
 * @param {string[]} [palette] the colours `colours` were taken from
 * @returns {Object<string, string>} run -> `stroke-dasharray` value
 * @example
 *   runDashes({ a: "#4e79a7", b: "#f28e2b" }) // { a: "none", b: "8 4" }
 */
export function runDashes(colours, palette = RUN_COLOURS) {
  return Object.fromEntries(
    Object.entries(colours).map(([run, colour]) => [run, RUN_DASHES[Math.max(palette.indexOf(colour), 0) % RUN_DASHES.length]]),
  );
}
