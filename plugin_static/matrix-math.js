// Confusion-matrix arithmetic in the browser: normalisation, differences,
// colour intensities and the ranked list of confusions. Matrices are flat
// Float64Arrays (row-major, rows = true class) so 1000 × 1000 stays fast.

/** Normalisation modes: value shown for cell (i, j). */
export const NORMALIZATIONS = [
  ["none", "Counts"],
  ["true", "By true class (recall)"],
  ["pred", "By predicted class (precision)"],
  ["all", "Over all samples"],
];

/** Colour scales. */
export const COLOUR_SCALES = [
  ["row", "Per row"],
  ["log", "Log"],
  ["linear", "Linear"],
];

const flatCache = new WeakMap();

/**
 * A report's confusion matrix as a flat matrix with its margins. Dense
 * reports only (up to 1000 classes): a `"cells"` report is read by
 * matrix-cells.js, never made C × C.
 * @param {Object} report a `report` route response
 * @returns {{size: number, counts: Float64Array, rowSums: Float64Array,
 *   colSums: Float64Array, total: number}}
 */
export function flatMatrix(report) {
  const cached = flatCache.get(report);
  if (cached) return cached;
  const rows = report.confusion_matrix;
  const size = rows.length;
  const counts = new Float64Array(size * size);
  const rowSums = new Float64Array(size);
  const colSums = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    const row = rows[i];
    for (let j = 0; j < size; j++) {
      const value = row[j];
      counts[i * size + j] = value;
      rowSums[i] += value;
      colSums[j] += value;
    }
    total += rowSums[i];
  }
  const matrix = { size, counts, rowSums, colSums, total };
  flatCache.set(report, matrix);
  return matrix;
}

/**
 * The values shown for each cell under a normalisation (0 where the
 * denominator is 0).
 * @param {ReturnType<typeof flatMatrix>} matrix
 * @param {"none"|"true"|"pred"|"all"} mode
 * @returns {Float64Array}
 */
export function normalize(matrix, mode) {
  const { size, counts, rowSums, colSums, total } = matrix;
  if (mode === "none") return counts;
  const values = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const denominator = mode === "true" ? rowSums[i] : mode === "pred" ? colSums[j] : total;
      values[i * size + j] = denominator ? counts[i * size + j] / denominator : 0;
    }
  }
  return values;
}

/**
 * Elementwise `a − b` of two equally sized flat matrices.
 * @param {Float64Array} a
 * @param {Float64Array} b
 * @returns {Float64Array}
 */
export function subtract(a, b) {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] - b[k];
  return out;
}

const LOG_RANGE = 1000;

/**
 * Colour intensity in [0, 1] for every cell, from |value|. "row" scales each
 * row by its own largest value, so rare classes stay as visible as common
 * ones; "log" compresses three decades; "linear" uses the global maximum.
 * @param {Float64Array} values
 * @param {number} size
 * @param {"row"|"log"|"linear"} scale
 * @returns {Float64Array}
 */
export function intensities(values, size, scale) {
  const out = new Float64Array(values.length);
  let globalMax = 0;
  for (let k = 0; k < values.length; k++) globalMax = Math.max(globalMax, Math.abs(values[k]));
  for (let i = 0; i < size; i++) {
    let max = globalMax;
    if (scale === "row") {
      max = 0;
      for (let j = 0; j < size; j++) max = Math.max(max, Math.abs(values[i * size + j]));
    }
    for (let j = 0; j < size; j++) {
      const k = i * size + j;
      const ratio = max ? Math.abs(values[k]) / max : 0;
      out[k] = scale === "log" ? Math.log1p(ratio * LOG_RANGE) / Math.log1p(LOG_RANGE) : ratio;
    }
  }
  return out;
}

// ColorBrewer "Blues" and the two arms of a green / red diverging scale.
const BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"];
const GREENS = ["#f7f7f7", "#d9f0d3", "#a6dba0", "#5aae61", "#1b7837", "#00441b"];
const REDS = ["#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];
// On a dark page the scales run the other way round, from the page's grey (an empty cell, no
// difference) to bright: the most is the brightest, as light is the most on a dark screen.
const DARK_BLUES = ["#3b3e44", "#24436a", "#1d5288", "#1f65a6", "#3081c4", "#559fd9", "#86bde9", "#b8daf5", "#e3f1fc"];
const DARK_GREENS = ["#3e3e3e", "#26502f", "#2d6b3b", "#3f8f4f", "#6fbf78", "#b7e4b5"];
const DARK_REDS = ["#3e3e3e", "#733e3c", "#8f3232", "#bb4040", "#e8786a", "#f9c0b2"];

const parseHex = (hex) => [1, 3, 5].map((offset) => parseInt(hex.slice(offset, offset + 2), 16));
const RAMPS = {
  light: { blues: BLUES.map(parseHex), greens: GREENS.map(parseHex), reds: REDS.map(parseHex) },
  dark: { blues: DARK_BLUES.map(parseHex), greens: DARK_GREENS.map(parseHex), reds: DARK_REDS.map(parseHex) },
};

/**
 * RGB colour at `t` ∈ [0, 1] on a ramp.
 * @param {"blues"|"greens"|"reds"} ramp
 * @param {number} t
 * @param {"light"|"dark"} [theme] the page's theme (theme.js)
 * @returns {[number, number, number]}
 */
export function rampColour(ramp, t, theme = "light") {
  const stops = RAMPS[theme === "dark" ? "dark" : "light"][ramp];
  const position = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, stops.length - 1);
  const mix = position - lower;
  return stops[lower].map((channel, index) => Math.round(channel + (stops[upper][index] - channel) * mix));
}

/**
 * WCAG relative luminance of an RGB colour.
 * @param {[number, number, number]} rgb
 * @returns {number} 0 (black) to 1 (white)
 */
export function luminance(rgb) {
  const [red, green, blue] = rgb.map((channel) => {
    const c = channel / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * red + 0.7152 * green + 0.0722 * blue;
}

/**
 * WCAG contrast ratio of two colours, 1 to 21.
 * @param {[number, number, number]} a
 * @param {[number, number, number]} b
 * @returns {number}
 */
export function contrastRatio(a, b) {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

/**
 * Whether a cell of this colour shows its text in white (the cell's `dark` class) rather than
 * in black (style.css: `--cell-text`): whichever contrasts more, at least 4.58:1 on any colour
 * (WCAG's 4.5:1 for text), in either theme.
 * @param {[number, number, number]} rgb
 * @returns {boolean}
 */
export function whiteText(rgb) {
  return contrastRatio(rgb, [255, 255, 255]) >= contrastRatio(rgb, [0, 0, 0]);
}

/**
 * CSS colour string of an RGB triple.
 * @param {[number, number, number]} rgb
 * @returns {string}
 */
export function cssColour([red, green, blue]) {
  return `rgb(${red}, ${green}, ${blue})`;
}

/**
 * Whether a difference at (i, j) is an improvement: more on the diagonal
 * (correct) or less off it (confusions).
 * @param {number} i true class
 * @param {number} j predicted class
 * @param {number} delta
 * @returns {boolean}
 */
export function isImprovement(i, j, delta) {
  return i === j ? delta > 0 : delta < 0;
}

/**
 * RGB colour of one cell.
 * @param {number} i
 * @param {number} j
 * @param {number} value shown value (a difference when `diverging`)
 * @param {number} t intensity from {@link intensities}
 * @param {boolean} diverging
 * @param {"light"|"dark"} [theme] the page's theme (theme.js)
 * @returns {[number, number, number]}
 */
export function cellColour(i, j, value, t, diverging, theme = "light") {
  if (!diverging) return rampColour("blues", t, theme);
  if (value === 0) return rampColour("greens", 0, theme);
  return rampColour(isImprovement(i, j, value) ? "greens" : "reds", t, theme);
}

/**
 * The largest off-diagonal cells, ranked by |value| (descending).
 * @param {Float64Array} values values to rank (counts or differences)
 * @param {number} size
 * @param {number} limit
 * @returns {Array<{trueIndex: number, predictedIndex: number, value: number}>}
 */
export function topConfusions(values, size, limit) {
  const ranked = [];
  let floor = 0; // smallest |value| kept once the list is full
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      if (i === j) continue;
      const value = values[i * size + j];
      const magnitude = Math.abs(value);
      if (magnitude === 0 || (ranked.length >= limit && magnitude <= floor)) continue;
      ranked.push({ trueIndex: i, predictedIndex: j, value });
      if (ranked.length >= limit * 2) {
        ranked.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
        ranked.length = limit;
        floor = Math.abs(ranked[limit - 1].value);
      }
    }
  }
  ranked.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.trueIndex - b.trueIndex);
  return ranked.slice(0, limit);
}
