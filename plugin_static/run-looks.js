// How runs look in the charts: a colour each and, so that runs stay apart without their colours
// (for a colour-blind reader, in print), a line dash pattern that goes with the colour, and another
// one for each further run of a colour once the colours repeat.

/** Tableau 10: distinct, print-friendly run colours (assigned by run name, see pivot.js's assignColours). */
export const RUN_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/**
 * One `stroke-dasharray` per colour of {@link RUN_COLOURS}, in the charts' units (lines about 1.6
 * wide): solid, long dashes, dots, dash-dot, short dashes, dash-dot-dot, sparse dots, very long
 * dashes, pairs of dashes, dash-dash-dot.
 */
export const RUN_DASHES = ["none", "8 4", "2 3", "8 3 2 3", "4 2", "12 3 2 3 2 3", "1 5", "16 5", "4 2 4 7", "8 3 8 3 2 3"];

/**
 * Each run's dash pattern. The first run of a colour gets the dash that goes with the colour, so
 * while the palette lasts runs with distinct colours have distinct dashes; once colours repeat,
 * each further run of a colour gets the dash after the previous one's, so no two runs share both
 * colour and dash while no colour has more runs than there are dashes (up to 100 runs). "First"
 * and "previous" follow the order of `colours`' keys, which assignColours keeps as runs come and
 * go: a run keeps its dash. A colour not in `palette` starts at the solid line.
 * @param {Object<string, string>} colours run -> colour (from assignColours)
 * @param {string[]} [palette] the colours `colours` were taken from
 * @returns {Object<string, string>} run -> `stroke-dasharray` value, without a prototype (run names
 *   such as `__proto__` or `constructor` are keys like any other)
 * @example
 *   runDashes({ a: "#4e79a7", b: "#f28e2b" }) // { a: "none", b: "8 4" }
 *   runDashes({ a: "#4e79a7", k: "#4e79a7" }) // { a: "none", k: "8 4" }
 */
export function runDashes(colours, palette = RUN_COLOURS) {
  const seen = new Map(); // colour -> runs of it so far
  const dashes = Object.create(null);
  for (const [run, colour] of Object.entries(colours)) {
    const before = seen.get(colour) ?? 0;
    seen.set(colour, before + 1);
    dashes[run] = RUN_DASHES[(Math.max(palette.indexOf(colour), 0) + before) % RUN_DASHES.length];
  }
  return dashes;
}
