// Which per-run columns the side-by-side table shows. A table whose runs have
// curves holds seven scores per run; four fit a 1280 px window, so the table
// shows one set of them at a time: the decision's (precision, recall, F1) or
// the scores' ranking and calibration (AP, ROC-AUC, calibration error),
// support in both. Pure functions (no DOM).
import { CURVE_FIELDS, FIELDS } from "./report-table.js";

const SUPPORT = FIELDS.find((field) => field.key === "support");

/**
 * The column sets, the first the default. `fields` are the per-run columns
 * in display order; a summary row is shown with a set when `rows` accepts it.
 */
export const COLUMN_SETS = [
  {
    key: "decision",
    label: "Decision: precision · recall · F1",
    fields: FIELDS,
    rows: (row) => !row.curveField,
  },
  {
    key: "ranking",
    label: "Ranking & calibration: AP · ROC-AUC · calibration error",
    fields: [...CURVE_FIELDS, SUPPORT],
    rows: (row) => Boolean(row.curveField),
  },
];

/** The default column set's key. */
export const DEFAULT_COLUMN_SET = COLUMN_SETS[0].key;

/**
 * The column set key for user input (e.g. the URL's `columns`): one of
 * {@link COLUMN_SETS}, else the default.
 * @param {string|null|undefined} value
 * @returns {string}
 */
export function parseColumnSet(value) {
  return COLUMN_SETS.some((set) => set.key === value) ? value : DEFAULT_COLUMN_SET;
}

/**
 * Whether a table built by {@link import("./report-table.js").buildReportTable}
 * has a choice of columns: one of its runs has curves.
 * @param {{fields: Array}} table
 * @returns {boolean}
 */
export function hasColumnChoice(table) {
  return table.fields.some((field) => field.curve);
}

/**
 * What a table shows of its data for a column set: the set's per-run fields
 * and summary rows. A table without curves shows the decision's columns
 * whatever the set.
 * @param {{fields: Array, summaryRows: Array}} table from buildReportTable
 * @param {string} columnSet a key of {@link COLUMN_SETS}
 * @returns {{columnSet: string, fields: Array, summaryRows: Array}}
 */
export function shownColumns(table, columnSet) {
  const key = hasColumnChoice(table) ? parseColumnSet(columnSet) : DEFAULT_COLUMN_SET;
  const set = COLUMN_SETS.find((candidate) => candidate.key === key);
  return { columnSet: key, fields: set.fields, summaryRows: table.summaryRows.filter(set.rows) };
}

/**
 * The sort to keep when the shown fields change: the same one when its
 * column is still shown (or is the class name or index), else class order.
 * @param {{column: string, run: string|null, direction: string}} sort
 * @param {Array<{key: string}>} fields the fields shown after the change
 * @returns {{column: string, run: string|null, direction: string}}
 */
export function sortForFields(sort, fields) {
  if (sort.column === "index" || sort.column === "name" || fields.some((field) => field.key === sort.column)) return sort;
  return { column: "index", run: null, direction: "asc" };
}

/**
 * How a summary row's cells of one run lie under the per-run fields: a
 * list of `{field, span, filled}` covering every field once. Averages
 * (macro / weighted avg) fill every field; a curve headline fills its own
 * column; a single score (accuracy, the imbalance metrics, long-tail rows)
 * sits under F1, spanning the score columns, with support filled for
 * accuracy only. A run without values gets one empty cell per field.
 * @param {{id: string, curveField?: string}} row a summary row
 * @param {Array<{key: string, isCount?: boolean}>} fields the shown fields
 * @param {boolean} hasValues whether the run has values in this row
 * @returns {Array<{field: Object, span: number, filled: boolean}>}
 */
export function summaryCellLayout(row, fields, hasValues) {
  const each = (filled) => fields.map((field) => ({ field, span: 1, filled: filled(field) }));
  if (!hasValues) return each(() => false);
  if (row.id === "macro avg" || row.id === "weighted avg") return each(() => true);
  if (row.curveField) return each((field) => field.key === row.curveField);
  const scores = fields.filter((field) => !field.isCount);
  const f1 = scores.find((field) => field.key === "f1");
  if (!f1) return each(() => false);
  const counts = fields.filter((field) => field.isCount);
  return [
    { field: f1, span: scores.length, filled: true },
    ...counts.map((field) => ({ field, span: 1, filled: row.id === "accuracy" })),
  ];
}
