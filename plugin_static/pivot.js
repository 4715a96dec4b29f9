// The pivot view as data: one metric, runs as columns, classes as rows, one
// group per class set; plus the run colours and the default tag. Pure
// functions of the `report` and `compare` responses (no DOM).
import { isolated, runLabel, shownName } from "./format.js";
import { classTests, deltaMark } from "./significance.js";
import { shortName } from "./class-label.js";

/**
 * The metrics the pivot can show; `compare` tests recall and precision only.
 * The `curve` ones come from the scores behind the curves (null, shown "–",
 * for runs without curves at their step).
 */
export const PIVOT_METRICS = [
  { key: "recall", label: "Recall", tested: true },
  { key: "precision", label: "Precision", tested: true },
  { key: "f1", label: "F1", tested: false },
  { key: "average_precision", label: "AP", tested: false, curve: true },
  { key: "roc_auc", label: "ROC-AUC", tested: false, curve: true },
  { key: "calibration_error", label: "Calibration error", tested: false, curve: true },
];

/**
 * The pivot metrics offered: the curve metrics when a run has curves, or when one is chosen already.
 * @param {boolean} curvesLogged a selected run was logged with scores (see hasCurves in report-table.js)
 * @param {string} chosen the metric chosen
 * @returns {Array<[string, string]>} `[key, label]` pairs
 * @example
 *   pivotMetricOptions(false, "recall") // [["recall", "Recall"], ["precision", "Precision"], ["f1", "F1"]]
 */
export function pivotMetricOptions(curvesLogged, chosen) {
  const offerCurves = curvesLogged || PIVOT_METRICS.some((metric) => metric.curve && metric.key === chosen);
  return PIVOT_METRICS.filter((metric) => offerCurves || !metric.curve).map((metric) => [metric.key, metric.label]);
}

// The `compare` route's difference of a metric, where it gives one.
const COMPARE_DELTAS = { recall: "recall_delta", precision: "precision_delta", average_precision: "average_precision_difference" };

/** The views of the report card. */
export const REPORT_VIEWS = ["table", "pivot"];

/**
 * The metric key for user input: one of {@link PIVOT_METRICS}, else "recall".
 * @param {string|null|undefined} value
 * @returns {string}
 */
export function parseMetric(value) {
  return PIVOT_METRICS.some((metric) => metric.key === value) ? value : "recall";
}

/**
 * The view for user input: "table" or "pivot", else "table".
 * @param {string|null|undefined} value
 * @returns {"table"|"pivot"}
 */
export function parseView(value) {
  return REPORT_VIEWS.includes(value) ? value : "table";
}

const sameNames = (a, b) => a.length === b.length && a.every((name, index) => name === b[index]);

/**
 * Groups runs by class set: runs whose class names are equal, in the same
 * order, share a group. Groups that hold a baseline come first; otherwise
 * groups follow in the order their first run is shown. Runs without a
 * report are left out. Within a group, runs keep their display order.
 * Used by the pivot and the side-by-side table alike.
 * @param {Array<{run: string, report: Object|null}>} columns in display order
 * @param {string|string[]|null} baselines the baseline of each class set
 *   (see {@link resolveBaselines}); a group's `baseline` is its run among them
 * @returns {Array<{classNames: string[], hasBaseline: boolean, baseline: string|null, columns: Array, reorderOf?: number}>}
 *   `reorderOf`: the position of an earlier group with the same classes in another order
 * @example
 *   groupByClassSet(columns, ["a/baseline", "b/baseline"]).map((group) => group.baseline) // ["a/baseline", "b/baseline"]
 */
export function groupByClassSet(columns, baselines) {
  const wanted = baselines === null || baselines === undefined ? [] : Array.isArray(baselines) ? baselines : [baselines];
  const shown = columns.filter((column) => column.report);
  const groups = [];
  for (const column of shown) {
    const names = column.report.class_names;
    let group = groups.find((candidate) => sameNames(candidate.classNames, names));
    if (!group) {
      group = { classNames: names, hasBaseline: false, baseline: null, columns: [] };
      groups.push(group);
    }
    group.columns.push(column);
    if (!group.hasBaseline && wanted.includes(column.run)) {
      group.hasBaseline = true;
      group.baseline = column.run;
    }
  }
  // A stable sort: the groups keep their order otherwise.
  groups.sort((a, b) => Number(b.hasBaseline) - Number(a.hasBaseline));
  // The same classes in another order are another class set (classes are matched by position): say so.
  const sortedKey = (group) => JSON.stringify([...group.classNames].sort());
  groups.forEach((group, index) => {
    const earlier = groups.findIndex((other, position) => position < index && sortedKey(other) === sortedKey(group));
    if (earlier >= 0) group.reorderOf = earlier;
  });
  return groups;
}

/**
 * The default baseline among the runs of one class set: the first whose
 * name contains "baseline" (any case), else the first run.
 * @param {string[]} runs in display order
 * @returns {string|null}
 * @example
 *   defaultBaseline(["digits/weights", "digits/baseline"]) // "digits/baseline"
 */
export function defaultBaseline(runs) {
  return runs.find((run) => run.toLowerCase().includes("baseline")) ?? runs[0] ?? null;
}

/**
 * The baseline of every class set, in the order the class sets are shown
 * (that of their first run): the run the user chose in that set, else
 * {@link defaultBaseline}. Each class set is compared with its own baseline.
 * @param {Array<{run: string, report: Object|null}>} columns in display order
 * @param {string[]} [chosen] runs the user picked as baselines (any class sets; the first per set wins)
 * @returns {string[]} one run per class set
 * @example
 *   resolveBaselines(columns, ["digits/oversampling"]) // ["cancer/baseline", "digits/oversampling"]
 */
export function resolveBaselines(columns, chosen = []) {
  return groupByClassSet(columns, null).map((group) => {
    const runs = group.columns.map((column) => column.run);
    return runs.find((run) => chosen.includes(run)) ?? defaultBaseline(runs);
  });
}

/**
 * The title of a class-set group (its position, its classes, and what it is
 * compared with), as the pivot and the side-by-side table show it.
 * @param {{classNames: string[], hasBaseline: boolean, baseline?: string|null, columns?: Array, reorderOf?: number}} group
 *   from {@link groupByClassSet}
 * @param {number} index the group's position
 * @param {{plain?: boolean}} [options] `plain`: the names as they are, for exports (on screen they
 *   are wrapped by `isolated` and shown with `shownName`, format.js)
 * @returns {string}
 */
export function classSetTitle(group, index, { plain = false } = {}) {
  // On screen each name is isolated and its hidden white space shown; exports (plain) keep the names.
  const named = (name) => (plain ? name : isolated(shownName(name)));
  const shown = group.classNames.slice(0, 4).map((name) => named(shortName(name))).join(", ");
  const more = group.classNames.length > 4 ? ", …" : "";
  const reordered = group.reorderOf === undefined
    ? ""
    : `: the classes of class set ${group.reorderOf + 1} in another order (runs compare class by position: log class_names in one order to compare them)`;
  const count = `${group.classNames.length} ${group.classNames.length === 1 ? "class" : "classes"} (${shown}${more})${reordered}`;
  if (!group.hasBaseline) return `Class set ${index + 1}: ${count}; no baseline chosen, so not compared`;
  if ((group.columns ?? group.runs ?? [null, null]).length < 2) return `Class set ${index + 1}: ${count}; one run, nothing to compare with`;
  return `Class set ${index + 1}: ${count}, compared with its baseline ${group.baseline ? named(runLabel(group.baseline)) : ""}`.trimEnd();
}

/**
 * The header's count of classes: per class set when the runs have several,
 * e.g. "12 classes in 2 class sets (2 + 10)".
 * @param {Array<{classNames: string[], columns: Array}>} classSets from groupByClassSet
 * @param {boolean} grouped whether the reports are rolled up to class groups
 * @returns {string|null}
 */
export function classCountText(classSets, grouped) {
  if (!classSets.length) return null;
  const counts = classSets.map((set) => set.classNames.length);
  const unit = grouped ? "groups" : "classes";
  if (counts.length === 1) return `${counts[0]} ${unit}`;
  const total = counts.reduce((sum, count) => sum + count, 0);
  return `${total} ${unit} in ${counts.length} class sets (${counts.join(" + ")})`;
}

/**
 * Builds the pivot: for each class set (runs whose class names are equal, in
 * the same order), a group with one row per class and one cell per run.
 * Each group holds the differences to its own baseline (one of `baselines`),
 * with the significance `compare` found (recall and precision; F1 and the
 * curve metrics have no test; the AP difference is `compare`'s). A group
 * without a baseline among `baselines` shows values only. A curve metric the
 * run does not have (no curves at its step, or undefined for the class) is a
 * cell whose `value` is null.
 *
 * @param {Array<{run: string, step: number|null, report: Object|null, comparison?: Object|null}>} columns
 *   as {@link import("./view-data.js").loadTableColumns} returns them, in display order
 * @param {string|string[]|null} baselines the baseline of each class set ({@link resolveBaselines})
 * @param {string} metric a key of {@link PIVOT_METRICS}
 * @returns {Array<{classNames: string[], hasBaseline: boolean, baseline: string|null,
 *   runs: Array<{run: string, step: number|null, isBaseline: boolean}>,
 *   rows: Array<{index: number, name: string, cells: Object<string, {value: number|null,
 *     interval: [number, number]|null, delta: number|null,
 *     direction: string|null, title: string|null}|null>}>}>}
 * @example
 *   buildPivot(columns, "baseline", "recall")[0].rows[2].cells.other.direction // "better"
 */
export function buildPivot(columns, baselines, metric) {
  const key = parseMetric(metric);
  const curve = PIVOT_METRICS.some((info) => info.key === key && info.curve);
  const groups = groupByClassSet(columns, baselines);
  return groups.map((group) => {
    const base = group.columns.find((column) => column.run === group.baseline) ?? null;
    // The baseline leads its group, as in the side-by-side table.
    const ordered = group.hasBaseline ? [base, ...group.columns.filter((column) => column !== base)] : group.columns;
    const rows = group.classNames.map((name, index) => {
      const cells = Object.create(null); // by run name: "__proto__" or "constructor" is a key like any other
      for (const column of ordered) {
        const value = column.report.per_class[key]?.[index];
        if (typeof value !== "number") {
          cells[column.run] = curve ? { value: null, interval: null, delta: null, direction: null, title: null } : null;
          continue;
        }
        // The score's own 95% interval (recall and precision; none for F1 or weighted counts).
        const interval = column.report.per_class[`${key}_interval`]?.[index] ?? null;
        const baseValue = group.hasBaseline && column !== base ? base.report.per_class[key]?.[index] : undefined;
        if (typeof baseValue !== "number") {
          cells[column.run] = { value, interval, delta: null, direction: null, title: null };
          continue;
        }
        // `compare` leaves a difference out where it is undefined (no examples, never predicted, no curves).
        const compared = COMPARE_DELTAS[key] ? column.comparison?.per_class[COMPARE_DELTAS[key]]?.[index] : undefined;
        if (compared === null) {
          cells[column.run] = { value, interval, delta: null, direction: null, title: null };
          continue;
        }
        const delta = typeof compared === "number" && key === "average_precision" ? compared : value - baseValue;
        const test = classTests(column.comparison, index)?.[key];
        const mark = deltaMark(delta, key, test);
        cells[column.run] = { value, interval, delta, direction: mark.direction, title: mark.title };
      }
      return { index, name, cells };
    });
    return {
      classNames: group.classNames,
      hasBaseline: group.hasBaseline,
      baseline: group.baseline,
      runs: ordered.map((column) => ({
        run: column.run,
        step: column.report.step ?? column.step ?? null,
        isBaseline: column === base,
      })),
      rows,
    };
  });
}

/**
 * Colours of runs, stable by run name: a run keeps the colour it has in
 * `previous`; a new run gets the palette colour its name hashes to, or the
 * next one that no run of `runs` has yet. Adding, removing or reordering
 * runs never changes another run's colour. Call it with the selected runs
 * first, so that they get distinct colours while the palette lasts.
 * @param {string[]} runs the runs that need a colour now
 * @param {Object<string, string>} [previous] colours assigned before (kept for every run)
 * @param {string[]} palette
 * @returns {Object<string, string>} a colour for every run of `runs` and `previous`, without a
 *   prototype: a run named `__proto__` or `constructor` is a key like any other
 */
export function assignColours(runs, previous = {}, palette) {
  const colours = Object.assign(Object.create(null), previous);
  const taken = new Set(runs.filter((run) => Object.hasOwn(colours, run)).map((run) => colours[run]));
  for (const run of [...runs].sort()) {
    if (Object.hasOwn(colours, run)) continue;
    const start = nameHash(run) % palette.length;
    let chosen = palette[start];
    for (let offset = 0; offset < palette.length; offset++) {
      const candidate = palette[(start + offset) % palette.length];
      if (!taken.has(candidate)) {
        chosen = candidate;
        break;
      }
    }
    colours[run] = chosen;
    taken.add(chosen);
  }
  return colours;
}

/**
 * A small non-negative hash of a string (FNV-1a, 32 bits).
 * @param {string} text
 * @returns {number}
 */
export function nameHash(text) {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The tag most of `runs` have (ties: the first by name); the first tag of
 * all when `runs` is empty or none of them has a tag.
 * @param {Object<string, string[]>} runTags the `runs` route response
 * @param {string[]} runs the selected runs
 * @returns {string|null}
 */
export function defaultTag(runTags, runs) {
  const byName = (a, b) => a.localeCompare(b, undefined, { numeric: true });
  const all = [...new Set(Object.values(runTags).flat())].sort(byName);
  const counts = new Map();
  for (const run of runs) for (const tag of Object.hasOwn(runTags, run) ? runTags[run] : []) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  let best = null;
  for (const tag of all) {
    if ((counts.get(tag) ?? 0) > (counts.get(best) ?? 0)) best = tag;
  }
  return best ?? all[0] ?? null;
}
