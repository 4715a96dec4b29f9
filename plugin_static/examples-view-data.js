// The examples behind one confusion-matrix cell, as display strings: the
// `examples` route's payload in, plain objects of text out (no DOM), so the
// view only places them and node tests can check every sentence.

import { classText, formatPercent, isolated, shownName } from "./format.js";

const MINUS = "\u2212";

/**
 * A score of the top-3 list. Probabilities read as percentages ("93.0%");
 * raw scores (not probabilities) keep three significant digits.
 * @param {number|string|null|undefined} score a number, or "nan" / "inf" / "-inf"
 * @param {string} [kind] the payload's `scores`: "probability" or "raw"
 * @returns {string}
 */
export function formatExampleScore(score, kind = "probability") {
  if (typeof score === "string") return score;
  if (score === null || score === undefined || Number.isNaN(score)) return "–";
  if (!Number.isFinite(score)) return score > 0 ? "inf" : `${MINUS}inf`;
  if (kind !== "raw") {
    if (score > 0 && score < 0.0005) return "<0.1%";
    if (score < 1 && score > 0.9995) return ">99.9%";
    return formatPercent(score);
  }
  const text = String(Number(score.toPrecision(3)));
  return text.startsWith("-") ? MINUS + text.slice(1) : text;
}

const NON_FINITE = ["nan", "inf", "-inf"];

/**
 * One value of a "values" example: integers as they are, others with at
 * most four significant digits; numbers written as strings ("nan" / "inf" /
 * "-inf", an integer's digits from 2**53 on) unchanged. A text cell that
 * reads as a number is quoted ('"nan"'), so that it is not taken for one.
 * @param {number|string} value
 * @param {boolean} [numberText] whether a string value is a number written as
 *     text (the example's `numbers_as_text`); left out, as in indexes written
 *     before that field, "nan" / "inf" / "-inf" are numbers and other strings text
 * @returns {string}
 */
export function formatExampleValue(value, numberText) {
  if (typeof value === "string" && (numberText ?? NON_FINITE.includes(value))) return value;
  if (typeof value === "string") {
    const shown = isolated(shownName(value)); // a table's text cell: its bidi controls shown, not obeyed
    const likeNumber = NON_FINITE.includes(value) || (value.trim() !== "" && Number.isFinite(Number(value)));
    return likeNumber ? `"${shown}"` : shown;
  }
  if (typeof value !== "number" || Number.isNaN(value)) return String(value);
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

const plural = (count, one, many) => `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;

/** A column's name as shown, isolated; an empty name as the column's position, "column 3". */
const columnName = (name, index) => (String(name) === "" ? `column ${index + 1}` : isolated(shownName(String(name))));

/**
 * The line of a "values" example, e.g. "shape [64]: 0, 1.5, nan, …"; the
 * ellipsis says the row holds more values than were kept. A table's row
 * names its columns: "shape [3]: age = 37, income = 55.5, city = Lyon"
 * (each name shown as a class name is, and isolated, so that a right-to-left
 * name cannot swap it with its value; an empty name as its position, "column 2 = 0").
 * @param {number[]} shape
 * @param {Array<number|string>} values
 * @param {string[]} [names] the names of the first columns
 * @param {number[]} [numbersAsText] positions of the strings of `values` that are numbers
 *     (written whenever `values` holds a string; absent in indexes written before)
 * @returns {string}
 */
export function valuesLine(shape, values, names, numbersAsText) {
  const dims = Array.isArray(shape) ? shape : [];
  const size = dims.reduce((product, dim) => product * dim, 1);
  const named = Array.isArray(names) ? names : [];
  const numbers = Array.isArray(numbersAsText) ? new Set(numbersAsText) : null;
  const shown = (values ?? []).map((value, k) => {
    const text = formatExampleValue(value, numbers === null ? undefined : numbers.has(k));
    return k < named.length ? `${columnName(named[k], k)} = ${text}` : text;
  });
  if (size > shown.length) shown.push("…");
  return `shape [${dims.join(", ")}]: ${shown.join(", ")}`;
}

/**
 * The note under a cut text example, e.g. "first 200 of 512 characters";
 * null when the whole text was kept.
 * @param {string} text
 * @param {number} length
 * @returns {string|null}
 */
export function truncationNote(text, length) {
  // The backend counts characters as code points (Python's len), not UTF-16 units.
  const kept = [...(text ?? "")].length;
  if (!(typeof length === "number" && length > kept)) return null;
  return `first ${kept.toLocaleString("en-US")} of ${length.toLocaleString("en-US")} characters`;
}

/**
 * The sentence above the examples, e.g. "3 of 12 rows of the examples set ·
 * most confident mistakes" ("least confident correct" on the diagonal).
 * @param {{count: number|null, examples: Array, true: number, pred: number}} payload
 * @returns {string}
 */
export function examplesCaption(payload) {
  const shown = payload.examples?.length ?? 0;
  const count = payload.count ?? shown;
  const order = payload.true === payload.pred ? "least confident correct" : "most confident mistakes";
  // null: the index's byte bound left this cell out, and its row count is unknown (weighted matrix)
  if (payload.count === null && shown === 0) return "No example of this cell was kept at this step (size bound).";
  if (count === 0) return "No rows of the examples set fall in this cell.";
  return `${shown.toLocaleString("en-US")} of ${plural(count, "row", "rows")} of the examples set · ${order}`;
}

/**
 * Says that a byte bound dropped examples at this step; null when it did not.
 * @param {{kept: number, chosen: number}|null|undefined} cut
 * @returns {string|null}
 */
export function cutNote(cut) {
  if (!cut || typeof cut.kept !== "number" || typeof cut.chosen !== "number") return null;
  return `Only ${cut.kept.toLocaleString("en-US")} of the ${plural(cut.chosen, "example", "examples")} chosen at this step were kept (size bound): every cell lost its least telling examples alike.`;
}

/**
 * The panel heading, e.g. "spam → phishing at step 3".
 * @param {string} trueName
 * @param {string} predName
 * @param {number|null|undefined} step
 * @returns {string}
 */
export function examplesHeading(trueName, predName, step) {
  return examplesHeadingParts(trueName, predName, step).join("");
}

/**
 * The heading's parts: [true name, " → ", predicted name, " at step N"], so the view can isolate
 * each name (a right-to-left name would otherwise turn the arrow around).
 * @param {string} trueName
 * @param {string} predName
 * @param {number|null|undefined} step
 * @returns {string[]}
 */
export function examplesHeadingParts(trueName, predName, step) {
  return [trueName, " → ", predName, step === null || step === undefined ? "" : ` at step ${step}`];
}

/**
 * The id line of one example: "id 17", or "id mail-9 · row 9" when the id
 * is not the row index. The id is shown as a class name is: a bidi control
 * in a file name ("\u202egnp.exe") shows as its code point instead of
 * reordering the id and the row.
 * @param {{id: number|string, row?: number}} example
 * @returns {string}
 */
export function idLabel(example) {
  const id = `id ${shownName(String(example.id))}`;
  return typeof example.row === "number" && String(example.row) !== String(example.id) ? `${id} · row ${example.row}` : id;
}

/**
 * Everything the examples panel shows, as text.
 * @param {Object} payload the `examples` route's JSON
 * @returns {{heading: string, caption: string, cutNote: string|null, scoreLabel: string,
 *   emptyNote: string|null, step: number, steps: number[],
 *   examples: Array<{id: string, idLabel: string, kind: string, alt: string, trueName: string,
 *     predName: string, image: string|null, width: number, height: number, scaleNote: string|null,
 *     text: string|null, textNote: string|null, values: string|null,
 *     top: Array<{name: string, score: string, isTrue: boolean, isPredicted: boolean}>}>}}
 *   `image` is the route's URL relative to the plugin root
 */
export function buildExamplesView(payload) {
  const scoreKind = payload.scores === "raw" ? "raw" : "probability";
  const trueName = String(payload.true_name ?? payload.true);
  const predName = String(payload.pred_name ?? payload.pred);
  const examples = (payload.examples ?? []).map((example) => {
    const kind = example.kind === "image" || example.kind === "text" || example.kind === "values" ? example.kind : "unknown";
    const id = String(example.id);
    return {
      id,
      idLabel: idLabel(example),
      kind,
      alt: `Example ${shownName(id)}: true ${classText(trueName)}, predicted ${classText(predName)}`, // names as shown
      trueName,
      predName,
      image: kind === "image" && typeof example.image === "string" ? example.image : null,
      width: Number(example.width) || 0,
      height: Number(example.height) || 0,
      scaleNote: kind === "image" && example.scale === "min-max" ? "pixel values stretched from their minimum to their maximum" : null,
      text: kind === "text" ? String(example.text ?? "") : null,
      textNote: kind === "text" ? truncationNote(String(example.text ?? ""), example.length) : null,
      values: kind === "values" ? valuesLine(example.shape, example.values, example.names, example.numbers_as_text) : null,
      top: (example.top ?? []).map((entry) => ({
        name: String(entry.name ?? entry.class),
        score: formatExampleScore(entry.score, scoreKind),
        isTrue: entry.class === payload.true,
        isPredicted: entry.class === payload.pred,
      })),
    };
  });
  const count = payload.count ?? examples.length;
  return {
    heading: examplesHeading(trueName, predName, payload.step),
    headingParts: examplesHeadingParts(trueName, predName, payload.step),
    caption: examplesCaption(payload),
    cutNote: cutNote(payload.cut),
    scoreLabel: scoreKind === "raw" ? "Top scores (not probabilities)" : "Top probabilities",
    emptyNote: count > 0 && examples.length === 0 ? "No example of this cell was kept at this step (size bound)." : null,
    step: payload.step,
    steps: payload.steps ?? [],
    examples,
  };
}

/**
 * The display size of a thumbnail: its longest side scaled to `target` CSS
 * pixels (thumbnails are at most 64 px; small ones grow, pixelated).
 * @param {number} width
 * @param {number} height
 * @param {number} [target]
 * @returns {{width: number, height: number}}
 */
export function thumbnailSize(width, height, target = 96) {
  if (!(width > 0 && height > 0)) return { width: target, height: target };
  const factor = target / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * factor)), height: Math.max(1, Math.round(height * factor)) };
}
