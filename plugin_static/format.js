// Number formatting and table export (CSV, Markdown).

const MINUS = "\u2212";

/**
 * A score in [0, 1] (or [-1, 1] for MCC / kappa) with four decimals.
 * @param {number|null|undefined} value
 * @returns {string}
 */
export function formatScore(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value < 0 ? MINUS + (-value).toFixed(4) : value.toFixed(4);
}

// Made once: `toLocaleString` builds a formatter per call (most of the time of 10,000 labels).
const WHOLE_COUNT = new Intl.NumberFormat("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const WEIGHTED_COUNT = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A count; weighted (fractional) counts keep two decimals.
 * @param {number|null|undefined} value
 * @returns {string}
 */
export function formatCount(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return (Number.isInteger(value) ? WHOLE_COUNT : WEIGHTED_COUNT).format(value);
}

/**
 * A signed difference, e.g. "+0.0123" or "−4".
 * @param {number} delta
 * @param {boolean} [isCount] format as a count instead of a score
 * @returns {string}
 */
export function formatDelta(delta, isCount = false) {
  const magnitude = isCount ? formatCount(Math.abs(delta)) : Math.abs(delta).toFixed(4);
  if (delta > 0) return "+" + magnitude;
  if (delta < 0) return MINUS + magnitude;
  return "±" + magnitude;
}

/**
 * A fraction as a percentage, e.g. 0.1234 → "12.3%".
 * @param {number} fraction
 * @param {number} [digits]
 * @returns {string}
 */
export function formatPercent(fraction, digits = 1) {
  if (!Number.isFinite(fraction)) return "–";
  return (fraction * 100).toFixed(digits) + "%";
}

/**
 * A step number for labels.
 * @param {number|null|undefined} step
 * @returns {string}
 */
export function formatStep(step) {
  return step === null || step === undefined ? "–" : String(step);
}

// Spreadsheet programs run cells that start with these characters as formulas.
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let text = String(value);
  if (FORMULA_START.test(text)) text = "'" + text;
  return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/**
 * RFC 4180 CSV of a table. Numbers are written at full precision; text that
 * a spreadsheet would evaluate as a formula is prefixed with an apostrophe.
 * @param {{header: Array<string>, rows: Array<Array<string|number|null>>}} table
 * @returns {string}
 */
export function toCsv({ header, rows }) {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/**
 * Text (a class or run name) as Markdown that shows it verbatim on one line:
 * backslash escapes for `|` (ends a table cell), `<` and `&` (start HTML in
 * most renderers), `[` and `]` (links and images), emphasis and code marks, `$`
 * (GitHub draws `$…$` as maths), `#` (a heading's closing marks would take a
 * trailing one off).
 * @param {string|number|null|undefined} value
 * @returns {string}
 */
export function markdownText(value) {
  if (value === null || value === undefined) return "";
  return String(value).replace(/[\\|<>&[\]*_`~#$]/g, "\\$&").replace(/[\r\n]+/g, " ");
}

/**
 * A GitHub-flavoured Markdown table. `align` marks right-aligned columns.
 * @param {{header: Array<string>, rows: Array<Array<string|number|null>>, align?: Array<"left"|"right">}} table
 * @returns {string}
 */
export function toMarkdown({ header, rows, align = [] }) {
  const line = (cells) => "| " + cells.map(markdownText).join(" | ") + " |";
  const rule = header.map((_, index) => (align[index] === "right" ? "---:" : "---"));
  return [line(header), "| " + rule.join(" | ") + " |", ...rows.map(line)].join("\n") + "\n";
}

/**
 * A name isolated for plain text (a title, an aria-label): between FSI and PDI,
 * so a right-to-left name cannot reorder the text around it.
 * @param {string} name
 * @returns {string}
 * @example
 *   isolated("אלף") // "\u2068אלף\u2069"
 */
export function isolated(name) {
  // the name's own isolate marks left out: a U+2069 in it would end the isolation early
  return `\u2068${String(name).replace(/[\u2066-\u2069]/g, "")}\u2069`;
}

// Characters a browser draws as nothing: control characters (but the white space above), the soft
// hyphen, zero-width space, word joiner, invisible operators and the byte-order mark; and the bidi
// controls (marks, embeddings, overrides, isolates), which also reorder what follows them. Not the
// zero-width (non-)joiners, which emoji sequences and several scripts need.
const INVISIBLE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A class name as shown: where the page would hide some of its white space (HTML's: spaces,
 * tabs, line breaks; at either end, two in a row, or not a space), each of them shows as "␣", and
 * a character drawn as nothing (a vertical tab, a zero-width space, a bidi control) as its code
 * point, so that "cat", "cat " and "cat\u200b" stay apart and "\u202etxt.exe" cannot show as
 * "exe.txt". Exports, a name's own tooltip and URLs keep the name as it is; text about a class (an
 * SVG title, a tooltip, an aria-label) holds it as {@link classText}.
 * @example
 *   shownName("cat ") // "cat␣"
 *   shownName("cat\u200b") // "cat⟨U+200B⟩"
 *   shownName("\u202etxt.exe") // "⟨U+202E⟩txt.exe"
 *   shownName("my cat") // "my cat"
 * @param {string} name
 * @returns {string}
 */
export function shownName(name) {
  const spaced = /^[ \t\n\r\f]|[ \t\n\r\f]$|[ \t\n\r\f]{2}|[\t\n\r\f]/.test(name) ? name.replace(/[ \t\n\r\f]/g, "\u2423") : name;
  return spaced.replace(INVISIBLE, (character) => `\u27e8U+${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}\u27e9`);
}

// The plugin serves a class name that an old event file holds blank as "(unnamed class 3)", in more
// parentheses where the tag has a class of that name (tb_imbalance/plugin/unnamed_classes.py).
const UNNAMED_CLASS = /^(\(+)unnamed class \d+(\)+)$/;

/**
 * Whether a class name is the plugin's placeholder for a blank name (drawn as a placeholder).
 * @example
 *   isUnnamedClass("(unnamed class 3)") // true
 *   isUnnamedClass("unnamed class 3") // false
 * @param {string} name
 * @returns {boolean}
 */
export function isUnnamedClass(name) {
  const match = UNNAMED_CLASS.exec(name);
  return match !== null && match[1].length === match[2].length;
}

/**
 * A class name inside plain text the page writes for a class (an SVG title, a tooltip, an
 * aria-label): as shown ({@link shownName}), {@link isolated} from the text around it. Data
 * attributes and requests keep the name as it is.
 * @example
 *   classText("\u202eevil") // "\u2068⟨U+202E⟩evil\u2069"
 * @param {string} name
 * @returns {string}
 */
export function classText(name) {
  return isolated(shownName(String(name)));
}

/** The last folder of a run ClassificationReportCallback wrote. */
const CALLBACK_FOLDER = /\/validation_imbalance$/;

/** Every run the page has seen listed, and those of them whose name without the callback's folder is another's. */
const listedRuns = new Set();
const keptWhole = new Set();

/**
 * Tells {@link runLabel} the runs of the log directory as listed: a callback's run whose name without
 * `/validation_imbalance` is another run's name (`exp` next to `exp/validation_imbalance`) keeps that
 * folder on screen from then on (also while either run is away), so that no run passes for another.
 * @example
 *   noteRunNames(["exp", "exp/validation_imbalance", "b/validation_imbalance"]);
 *   runLabel("exp/validation_imbalance") // "exp/validation_imbalance"
 *   runLabel("b/validation_imbalance") // "b"
 * @param {string[]} runs
 */
export function noteRunNames(runs) {
  for (const run of runs) listedRuns.add(run);
  for (const run of listedRuns) if (CALLBACK_FOLDER.test(run) && listedRuns.has(run.replace(CALLBACK_FOLDER, ""))) keptWhole.add(run);
}

/**
 * A run's name as shown. Runs written by ClassificationReportCallback end in
 * `/validation_imbalance` (next to Keras' `train` and `validation` runs); the
 * suffix is dropped on screen and kept in the run's own tooltip and URLs, unless
 * the name without it is another run's ({@link noteRunNames}).
 * @param {string} run
 * @returns {string}
 */
export function runLabel(run) {
  return keptWhole.has(run) ? run : run.replace(CALLBACK_FOLDER, "") || run;
}

/**
 * A run's name as shown in the page: its {@link runLabel}, with hidden white space and characters
 * drawn as nothing made visible as in {@link shownName}, so that a bidi control in a run's name
 * cannot reorder it. Requests, URLs, a name's own tooltip and exports keep the run's name as it is;
 * text about a run (a chart's SVG title, a tooltip, an aria-label) holds it as {@link runText}.
 * @example
 *   shownRun("\u202ebinary/validation_imbalance") // "⟨U+202E⟩binary"
 *   shownRun("sweep/seed 2") // "sweep/seed 2"
 * @param {string} run
 * @returns {string}
 */
export function shownRun(run) {
  return shownName(runLabel(run));
}

/**
 * A run's name inside plain text the page writes for a run (an SVG title, a tooltip, an
 * aria-label): as shown ({@link shownRun}), {@link isolated} from the text around it. Data
 * attributes, requests and URLs keep the run's name as it is.
 * @example
 *   runText("\u202ebinary") // "\u2068⟨U+202E⟩binary\u2069"
 * @param {string} run
 * @returns {string}
 */
export function runText(run) {
  return isolated(shownRun(run));
}
