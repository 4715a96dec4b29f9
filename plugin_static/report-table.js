// The classification-report table as data: rows, deltas to the baseline and
// their significance tests, sorting, filtering and the export layout. Views
// only draw what this builds.
import { BUCKETS } from "./long-tail.js";
import { classSetTitle, groupByClassSet } from "./pivot.js";
import { markdownText, toCsv, toMarkdown } from "./format.js";
import { TESTED_FIELDS, classTests } from "./significance.js";

/** Per-run columns, in display order. */
export const FIELDS = [
  { key: "precision", label: "Precision", reportKey: "precision" },
  { key: "recall", label: "Recall", reportKey: "recall" },
  { key: "f1", label: "F1", reportKey: "f1-score" },
  { key: "support", label: "Support", reportKey: "support", isCount: true },
];

/**
 * Per-run columns from the scores behind the curves, after {@link FIELDS};
 * a table has them when one of its runs has curves at its step (the
 * report's `has_curves`). Null (no curves, or undefined for the class) shows "–".
 */
export const CURVE_FIELDS = [
  {
    key: "average_precision",
    label: "AP",
    reportKey: "average_precision",
    curve: true,
    description: "Average precision: the area under the class's precision-recall curve (one-vs-rest)",
  },
  { key: "roc_auc", label: "ROC-AUC", reportKey: "roc_auc", curve: true, description: "Area under the class's ROC curve (one-vs-rest)" },
  {
    key: "calibration_error",
    label: "Cal. error",
    reportKey: "calibration_error",
    curve: true,
    lowerIsBetter: true,
    description: "Calibration error: the gap between the class's scores and how often it is the true class (lower is better)",
  },
];

/**
 * The headline metrics of the curves (a report's `metrics`), each shown in
 * the curve column it averages; shown when a table has {@link CURVE_FIELDS}.
 */
export const CURVE_SUMMARY_ROWS = [
  { id: "macro_average_precision", label: "macro AP", metric: true, curveField: "average_precision" },
  { id: "macro_roc_auc", label: "macro ROC-AUC", metric: true, curveField: "roc_auc" },
  { id: "expected_calibration_error", label: "ECE", metric: true, curveField: "calibration_error" },
  { id: "classwise_calibration_error", label: "class-wise ECE", metric: true, curveField: "calibration_error" },
];

/**
 * Whether any run of `columns` has curves at its step.
 * @param {Array<{report: Object|null}>} columns
 * @returns {boolean}
 */
export function hasCurves(columns) {
  return columns.some(({ report }) => Boolean(report?.has_curves));
}

/**
 * The per-run fields of a table: {@link FIELDS}, and {@link CURVE_FIELDS}
 * when a run has curves.
 * @param {Array<{report: Object|null}>} columns
 * @returns {Array<Object>}
 */
export function tableFields(columns) {
  return hasCurves(columns) ? [...FIELDS, ...CURVE_FIELDS] : FIELDS;
}

/** Summary rows: scikit-learn's averages, then the imbalance metrics. */
export const SUMMARY_ROWS = [
  { id: "accuracy", label: "accuracy" },
  { id: "macro avg", label: "macro avg" },
  { id: "weighted avg", label: "weighted avg" },
  { id: "balanced_accuracy", label: "balanced accuracy", metric: true },
  { id: "macro_f1", label: "macro F1", metric: true },
  { id: "mcc", label: "MCC", metric: true },
  { id: "cohen_kappa", label: "Cohen's kappa", metric: true },
  { id: "geometric_mean", label: "geometric mean", metric: true },
  { id: "worst_class_recall", label: "worst-class recall", metric: true },
];

/**
 * Long-tail summary rows (mean recall per training-count bucket), shown only
 * when a report has them (its tag was logged with class counts). A `null`
 * score means the bucket holds no class with validation examples.
 */
export const LONG_TAIL_ROWS = BUCKETS.map((bucket) => ({ id: bucket.metric, label: bucket.label, metric: true, longTail: true }));

function classCells(report, index, withCurves) {
  const perClass = report.per_class;
  const cells = {
    precision: perClass.precision[index],
    recall: perClass.recall[index],
    f1: perClass.f1[index],
    support: perClass.support[index],
  };
  if (withCurves) for (const field of CURVE_FIELDS) cells[field.key] = perClass[field.reportKey]?.[index] ?? null;
  return cells;
}

function classDetails(report, index) {
  const perClass = report.per_class;
  return {
    predicted: perClass.predicted[index],
    recallInterval: perClass.recall_interval?.[index] ?? null,
    precisionInterval: perClass.precision_interval?.[index] ?? null,
    weighted: Boolean(report.weighted),
  };
}

function summaryCells(report, row) {
  if (row.curveField) return { [row.curveField]: report.metrics[row.id] ?? null };
  if (row.longTail) return Object.hasOwn(report.metrics, row.id) ? { f1: report.metrics[row.id] } : null;
  if (row.metric) return { f1: report.metrics[row.id] };
  if (row.id === "accuracy") {
    return { f1: report.report.accuracy, support: report.report["macro avg"].support };
  }
  const average = report.report[row.id];
  return {
    precision: average.precision,
    recall: average.recall,
    f1: average["f1-score"],
    support: average.support,
  };
}

function deltasOf(cells, baselineCells) {
  if (!cells || !baselineCells) return null;
  const deltas = {};
  for (const key of Object.keys(cells)) {
    if (typeof cells[key] === "number" && typeof baselineCells[key] === "number") {
      deltas[key] = cells[key] - baselineCells[key];
    }
  }
  return deltas;
}

/**
 * Builds the side-by-side table of several runs' reports.
 * Classes are matched by name, so runs with different class lists still line up.
 * Each class row has, per run, its `cells` (scores and support), `details`
 * (predicted count, recall and precision intervals, whether weighted) and,
 * for runs compared with the baseline, `deltas` and `tests` (each tested
 * score's `{significant, interval}` from the `compare` route, or null).
 * When a run has curves, the table has {@link CURVE_FIELDS} too (`fields`
 * lists the per-run fields) and the AP difference is the `compare` route's.
 * @param {Array<{run: string, step: number|null, report: Object|null, error: string|null,
 *   comparison?: Object|null}>} columns one entry per run, in display order;
 *   `comparison` is the `compare` response of the run against the baseline
 * @param {string|null} baseline run whose values the others are compared to
 * Summary rows are {@link SUMMARY_ROWS}, then {@link LONG_TAIL_ROWS} when
 * any report has them, then {@link CURVE_SUMMARY_ROWS} when a run has curves.
 * @returns {{columns: Array, fields: Array, classRows: Array, summaryRows: Array}}
 */
export function buildReportTable(columns, baseline) {
  const names = [];
  const seen = new Map();
  const indexByRun = new Map();
  const ordered = [...columns].sort((a, b) => (a.run === baseline ? -1 : b.run === baseline ? 1 : 0));
  for (const { run, report } of ordered) {
    if (!report) continue;
    const lookup = new Map();
    report.class_names.forEach((name, index) => {
      lookup.set(name, index);
      if (!seen.has(name)) {
        seen.set(name, names.length);
        names.push(name);
      }
    });
    indexByRun.set(run, lookup);
  }
  const baselineColumn = columns.find((column) => column.run === baseline && column.report);
  const tableColumns = columns.map((column) => ({
    ...column,
    isBaseline: column.run === baseline,
    compared: Boolean(baselineColumn) && column.run !== baseline && Boolean(column.report),
  }));

  const comparedIndex = new Map(
    tableColumns
      .filter((column) => column.compared && column.comparison)
      .map((column) => [column.run, new Map(column.comparison.class_names.map((name, index) => [name, index]))]),
  );
  const withCurves = hasCurves(columns);
  const classRows = names.map((name, index) => {
    // Keyed by run name: no prototype, so that runs named "__proto__" or "constructor" are keys like any other.
    const cells = Object.create(null);
    const details = Object.create(null);
    for (const { run, report } of columns) {
      const classIndex = indexByRun.get(run)?.get(name);
      const present = Boolean(report) && classIndex !== undefined;
      cells[run] = present ? classCells(report, classIndex, withCurves) : null;
      details[run] = present ? classDetails(report, classIndex) : null;
    }
    const deltas = Object.create(null);
    const tests = Object.create(null);
    for (const column of tableColumns) {
      if (!column.compared) continue;
      const comparedAt = comparedIndex.get(column.run)?.get(name);
      deltas[column.run] = deltasOf(cells[column.run], cells[baseline]);
      tests[column.run] = classTests(column.comparison, comparedAt);
      // A recall or precision difference `compare` leaves undefined (no examples, never predicted) is none.
      for (const field of TESTED_FIELDS) {
        if (deltas[column.run] && comparedAt !== undefined && column.comparison?.per_class?.[`${field}_delta`]?.[comparedAt] === null) {
          delete deltas[column.run][field];
        }
      }
      // The AP difference as `compare` gives it (none where either AP is undefined).
      const apDifference = column.comparison?.per_class?.average_precision_difference;
      if (withCurves && deltas[column.run] && Array.isArray(apDifference) && comparedAt !== undefined) {
        if (typeof apDifference[comparedAt] === "number") deltas[column.run].average_precision = apDifference[comparedAt];
        else delete deltas[column.run].average_precision;
      }
    }
    return { index, name, cells, details, deltas, tests };
  });

  const longTail = LONG_TAIL_ROWS.filter((row) => columns.some(({ report }) => report && Object.hasOwn(report.metrics, row.id)));
  const summaryRows = [...SUMMARY_ROWS, ...longTail, ...(withCurves ? CURVE_SUMMARY_ROWS : [])].map((row) => {
    const cells = Object.create(null);
    for (const { run, report } of columns) cells[run] = report ? summaryCells(report, row) : null;
    const deltas = Object.create(null);
    for (const column of tableColumns) {
      if (column.compared) deltas[column.run] = deltasOf(cells[column.run], cells[baseline]);
    }
    return { ...row, name: row.label, cells, deltas, tests: Object.create(null) };
  });

  return { columns: tableColumns, fields: tableFields(columns), classRows, summaryRows };
}

/**
 * The side-by-side tables: one per class set (see
 * {@link import("./pivot.js").groupByClassSet}), so runs with other classes
 * never add rows to a table. Each table holds the differences to its own
 * class set's baseline (one of `baselines`); a table without a baseline
 * among them shows values only (`compared` is false for all its columns).
 * Runs without a report are left out (their errors are shown apart).
 * @param {Array} columns as for {@link buildReportTable}
 * @param {string|string[]|null} baselines the baseline of each class set
 *   ({@link import("./pivot.js").resolveBaselines})
 * @returns {Array<{classNames: string[], hasBaseline: boolean, baseline: string|null, title: string,
 *   exportTitle: string, columns: Array, classRows: Array, summaryRows: Array}>} `title` as shown,
 *   `exportTitle` with the names as they are

 */
export function buildReportTables(columns, baselines) {
  return groupByClassSet(columns, baselines).map((group, index) => ({
    classNames: group.classNames,
    hasBaseline: group.hasBaseline,
    baseline: group.baseline,
    title: classSetTitle(group, index),
    exportTitle: classSetTitle(group, index, { plain: true }),
    ...buildReportTable(group.columns, group.baseline),
  }));
}

/**
 * Above this many classes a table's rows start sorted worst recall first
 * (see {@link defaultSort}) until a sort is chosen; up to it, in class order.
 */
export const WORST_FIRST_ABOVE = 1000;

/**
 * The sort of the class rows before one is chosen, when a table has more
 * than {@link WORST_FIRST_ABOVE} classes: its baseline's (else its first
 * run's) recall, lowest first, classes without validation examples last
 * (their recall is 0 by convention, not a measured failure). Null when every
 * table is smaller: rows then stay in class order.
 * @param {Array<{baseline: string|null, columns: Array, classRows: Array}>|null} tables from {@link buildReportTables}
 * @returns {{column: "recall", run: string, direction: "asc", emptyLast: true}|null}
 */
export function defaultSort(tables) {
  const large = tables?.find((table) => table.classRows.length > WORST_FIRST_ABOVE);
  if (!large) return null;
  const withReport = large.columns.filter((column) => column.report);
  const column = withReport.find((candidate) => candidate.run === large.baseline) ?? withReport[0];
  return column ? { column: "recall", run: column.run, direction: "asc", emptyLast: true } : null;
}

/**
 * Class rows whose name contains `filter` (case-insensitive), sorted.
 * @param {Array} classRows from {@link buildReportTable}
 * @param {string} filter
 * @param {{column: string, run: string|null, direction: "asc"|"desc", emptyLast?: boolean}} sort
 *   `column` is "index", "name" or a field key of `run`; `emptyLast`: classes
 *   without support in `run` go last, as classes the run does not have
 * @returns {Array}
 */
export function visibleClassRows(classRows, filter, sort) {
  const needle = filter.trim().toLowerCase();
  const rows = needle ? classRows.filter((row) => row.name.toLowerCase().includes(needle)) : [...classRows];
  const sign = sort.direction === "desc" ? -1 : 1;
  let compare;
  if (sort.column === "name") {
    compare = (a, b) => sign * a.name.localeCompare(b.name, undefined, { numeric: true }) || a.index - b.index;
  } else if (sort.column === "index" || !sort.run) {
    compare = (a, b) => sign * (a.index - b.index);
  } else {
    const value = (row) => {
      const cells = row.cells[sort.run];
      return sort.emptyLast && cells?.support === 0 ? null : cells?.[sort.column];
    };
    compare = (a, b) => {
      const left = value(a);
      const right = value(b);
      // Classes a run does not have go last in either direction.
      if (left === undefined || left === null) return right === undefined || right === null ? a.index - b.index : 1;
      if (right === undefined || right === null) return -1;
      return sign * (left - right) || a.index - b.index;
    };
  }
  return rows.sort(compare);
}

/**
 * The step a column's numbers come from: the one its report answers for.
 * @param {{step: number|null, report: Object|null}} column
 * @returns {number|null}
 */
export function columnStep(column) {
  return column.report?.step ?? column.step ?? null;
}

/**
 * The table as plain rows for CSV / Markdown: summary rows, then the shown
 * class rows. Non-baseline runs get difference columns; the curve columns
 * (`average_precision`, `roc_auc`, `calibration_error`) come when the table has them. Runs side by side
 * may be at different steps, so each run says its step: CSV has a
 * `<run> step` column (the step on every row, before the run's values),
 * Markdown a "(step N)" in the run's headers.
 * @param {{columns: Array, summaryRows: Array}} table from {@link buildReportTable}
 * @param {Array} classRows the filtered, sorted class rows
 * @param {"csv"|"markdown"} flavour CSV keeps full precision and separate
 *   difference columns; Markdown shows rounded "value (±delta)" cells
 * @returns {{header: string[], rows: Array<Array<string|number|null>>, align: string[]}}
 */
export function exportLayout(table, classRows, flavour) {
  const columns = table.columns.filter((column) => column.report);
  const fields = table.fields ?? FIELDS;
  const header = ["class"];
  const align = ["left"];
  for (const column of columns) {
    const stepNote = flavour === "markdown" ? ` (step ${columnStep(column)})` : "";
    if (flavour === "csv") {
      header.push(`${column.run} step`);
      align.push("right");
    }
    for (const field of fields) {
      header.push(`${column.run}${stepNote} ${field.key === "f1" ? "f1-score" : field.key}`);
      align.push("right");
    }
    if (column.compared && flavour === "csv") {
      for (const field of fields) {
        header.push(`${column.run} ${field.key === "f1" ? "f1-score" : field.key} delta`);
        align.push("right");
      }
    }
  }
  const exportRow = (row) => {
    const cells = [row.name];
    for (const column of columns) {
      const values = row.cells[column.run];
      const deltas = row.deltas[column.run];
      if (flavour === "csv") cells.push(columnStep(column));
      for (const field of fields) {
        const value = values?.[field.key];
        if (value === undefined || value === null) cells.push(null);
        else if (flavour === "csv") cells.push(value);
        else cells.push(markdownValue(value, deltas?.[field.key], field));
      }
      if (column.compared && flavour === "csv") {
        for (const field of fields) cells.push(deltas?.[field.key] ?? null);
      }
    }
    return cells;
  };
  return { header, rows: [...table.summaryRows, ...classRows].map(exportRow), align };
}

function countText(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function markdownValue(value, delta, field) {
  const text = field.isCount ? countText(value) : value.toFixed(4);
  if (delta === undefined || delta === null || (field.isCount && delta === 0)) return text;
  const sign = delta > 0 ? "+" : delta < 0 ? "-" : "±";
  const magnitude = field.isCount ? countText(Math.abs(delta)) : Math.abs(delta).toFixed(4);
  return `${text} (${sign}${magnitude})`;
}

/**
 * The export of several tables (one per class set) as one text: each
 * table's {@link exportLayout}, one after another. With more than one
 * table, Markdown puts each table's title above it as a heading and CSV
 * separates the tables by an empty line (each starts with its own header).
 * @param {Array<{table: Object, classRows: Array, title?: string}>} parts
 *   the tables from {@link buildReportTables} with their shown class rows
 * @param {"csv"|"markdown"} flavour
 * @returns {string}
 */
export function exportTablesText(parts, flavour) {
  const texts = parts.map(({ table, classRows, title }) => {
    const layout = exportLayout(table, classRows, flavour);
    if (flavour === "csv") return toCsv(layout);
    const text = toMarkdown(layout);
    return parts.length > 1 && title ? `### ${markdownText(title)}\n\n${text}` : text;
  });
  return texts.join(flavour === "csv" ? "\r\n" : "\n");
}
