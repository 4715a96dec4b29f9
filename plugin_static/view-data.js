// The data each view needs for the current selection, fetched in parallel.
// Every loader resolves (never rejects): failures become messages.
import { chooseCurveClass, noCurvesReason } from "./curves-data.js";
import { settle } from "./data-source.js";
import { runText } from "./format.js";
import { groupByClassSet, resolveBaselines } from "./pivot.js";
import { resolveStep } from "./state.js";

/**
 * The `report` options of one run: the long-tail thresholds and, when the
 * groups view is on and the run's tag has class groups, `group`.
 * @param {Selection} selection
 * @param {string} run
 * @param {{grouping?: boolean}} [use] `grouping: false` for per-class views
 * @returns {{many: number|null, few: number|null, group: boolean}} null thresholds: the route's defaults
 */
export function reportOptions({ source, state, tag }, run, { grouping = true } = {}) {
  return {
    many: state.thresholds?.many ?? null,
    few: state.thresholds?.few ?? null,
    group: grouping && Boolean(state.grouped) && (source.classGroupsOf?.(tag, run) ?? null) !== null,
  };
}

/**
 * The context every loader receives.
 * @typedef {Object} Selection
 * @property {ReturnType<import("./api.js").createApi>} api
 * @property {ReturnType<import("./data-source.js").createDataSource>} source
 * @property {Object} state the store's state
 * @property {string} tag
 * @property {string[]} selected selected runs that have the tag
 * @property {string[]} readable selected runs whose steps are known
 * @property {string|null} baseline the first class set's baseline (the matrix's and imbalance view's default run)
 * @property {string[]} [baselines] the runs the user chose as baselines (at most one per class set counts)
 * @property {(run: string) => string[]} [classSetOf] the runs of a run's class set (a matrix is subtracted only from those)
 */

/**
 * Reports of every selected run at the table's step (each run's own latest
 * step when following, else its last step not after the chosen one), and
 * for every run its `compare` response against its class set's baseline
 * (per-class differences with their significance). Each class set has its
 * own baseline ({@link import("./pivot.js").resolveBaselines} of
 * `selection.baselines`, the runs the user chose). A comparison that fails
 * leaves `comparison` null and says why in `comparisonError`; one that is
 * not made by design (groups) says why in `comparisonNote`. The table then
 * shows those differences untested.
 * @param {Selection} selection
 * @returns {Promise<Array<{run: string, step: number|null, report: Object|null, error: string|null,
 *   baseline: string|null, comparison: Object|null, comparisonError: string|null, comparisonNote: string|null}>>}
 */
export async function loadTableColumns(selection) {
  const { api, source, state, tag, selected } = selection;
  const columns = await Promise.all(
    selected.map(async (run) => {
      const step = resolveStep(source.stepsOf(tag, run), state.tableStep);
      if (step === null) return { run, step, report: null, error: source.errorOf(tag, run) ?? "No data" };
      const { value, error } = await settle(api.report(run, tag, step, reportOptions(selection, run)));
      return { run, step, report: value, error };
    }),
  );
  const baselines = resolveBaselines(columns, selection.baselines ?? (selection.baseline ? [selection.baseline] : []));
  const groups = groupByClassSet(columns, baselines);
  const none = { baseline: null, comparison: null, comparisonError: null, comparisonNote: null };
  return Promise.all(
    columns.map(async (column) => {
      const group = groups.find((candidate) => candidate.columns.includes(column));
      const base = group?.columns.find((candidate) => candidate.run === group.baseline);
      if (!base || column === base || !column.report) return { ...column, ...none, baseline: group?.baseline ?? null };
      const own = { ...none, baseline: base.run };
      if (reportOptions(selection, column.run).group) {
        // The compare route tests classes, not groups.
        return { ...column, ...own, comparisonNote: "differences of groups are not tested" };
      }
      const { value, error } = await settle(api.compare(column.run, tag, column.report.step, base.run, base.report.step));
      return { ...column, ...own, comparison: value, comparisonError: error };
    }),
  );
}

async function loadComparison(selection, run, step, steps) {
  const { api, source, state, tag, readable } = selection;
  const { compare } = state.matrix;
  if (compare === "runs") {
    const candidates = (selection.classSetOf?.(run) ?? readable).filter((other) => other !== run);
    const otherRun = candidates.includes(state.matrix.otherRun) ? state.matrix.otherRun : (candidates[0] ?? null);
    if (otherRun === null) {
      // Not an error: what the selection lacks for a comparison, said as a note.
      const note = readable.length < 2
        ? "Nothing to compare with yet: select a second run with the same classes in the run list."
        : "No other selected run has this run's classes: select one with the same class names (in the same order) in the run list.";
      return { run: null, report: null, error: null, note };
    }
    const otherStep = resolveStep(source.stepsOf(tag, otherRun), step);
    const { value, error } = await settle(api.report(otherRun, tag, otherStep, reportOptions(selection, otherRun)));
    return { run: otherRun, step: otherStep, label: `${runText(otherRun)}, step ${otherStep}`, report: value, error };
  }
  if (compare === "steps") {
    if (steps.length < 2) {
      return { run: null, report: null, error: null, note: `Only one step of this run is logged (step ${step}): there is no other step to compare it with yet.` };
    }
    // Default to the previous step: "what changed in the last epoch".
    const previous = steps[Math.max(steps.indexOf(step) - 1, 0)];
    const otherStep = steps.includes(state.matrix.otherStep) ? state.matrix.otherStep : previous;
    const { value, error } = await settle(api.report(run, tag, otherStep, reportOptions(selection, run)));
    return { run, step: otherStep, label: `step ${otherStep}`, report: value, error };
  }
  return null;
}

/**
 * The matrix view's run A and, when comparing, B (another run at the same
 * step, or another step of the same run).
 * @param {Selection} selection
 * @returns {Promise<{run: string|null, steps: number[], step: number|null,
 *   report: Object|null, error: string|null, other: Object|null}>}
 */
export async function loadMatrix(selection) {
  const { api, source, state, tag, readable, baseline } = selection;
  const run = readable.includes(state.matrix.run) ? state.matrix.run : baseline;
  const steps = source.stepsOf(tag, run) ?? [];
  const step = resolveStep(steps, state.matrix.step);
  if (run === null) return { run, steps, step, report: null, error: null, other: null };
  const [a, other] = await Promise.all([settle(api.report(run, tag, step, reportOptions(selection, run))), loadComparison(selection, run, step, steps)]);
  const sameClasses = !a.value || !other?.report || JSON.stringify(a.value.class_names) === JSON.stringify(other.report.class_names);
  return {
    run,
    steps,
    step,
    report: a.value,
    error: a.error,
    other: sameClasses ? other : { ...other, report: null, error: "The two matrices have different classes and cannot be subtracted." },
  };
}

/**
 * The imbalance view's report.
 * @param {Selection} selection
 * @returns {Promise<{run: string|null, steps: number[], report: Object|null, error: string|null}>}
 */
export async function loadImbalance(selection) {
  const { api, source, state, tag, readable, baseline } = selection;
  const run = readable.includes(state.imbalance.run) ? state.imbalance.run : baseline;
  const steps = source.stepsOf(tag, run) ?? [];
  if (run === null) return { run, steps, report: null, error: null };
  // Always per class: the recall-vs-training-count plot is about classes.
  const options = reportOptions(selection, run, { grouping: false });
  const { value, error } = await settle(api.report(run, tag, resolveStep(steps, state.imbalance.step), options));
  return { run, steps, report: value, error };
}

/**
 * Indices of the `count` classes with the lowest score (recall or F1),
 * ignoring classes without samples; in class order.
 * @param {Object} report a `report` route response
 * @param {"recall"|"f1"|"both"} metric "both" ranks by recall
 * @param {number} count
 * @returns {number[]}
 */
export function worstClasses(report, metric, count) {
  const scores = report.per_class[metric === "f1" ? "f1" : "recall"];
  const support = report.per_class.support;
  const indices = scores.map((_, index) => index);
  if (indices.length <= count) return indices;
  const withSamples = indices.filter((index) => support[index] > 0);
  const candidates = withSamples.length ? withSamples : indices;
  candidates.sort((a, b) => scores[a] - scores[b] || a - b);
  return candidates.slice(0, count).sort((a, b) => a - b);
}

/**
 * The trends view's classes (chosen ones, or the worst of the baseline's
 * latest step) and their series for every readable run.
 * @param {Selection} selection
 * Runs whose classes differ from the baseline's get no series (listed in `otherClassSets`).
 * @returns {Promise<{names: string[], classIndices: number[], classes: number[]|null,
 *   pinned: number[]|null, series: Object<string, Object>, otherClassSets?: string[], error: string|null}|null>}
 *   `series`: by run name, without a prototype
 */
export async function loadTrends({ api, source, state, tag, readable, baseline }) {
  if (baseline === null) return null;
  const latest = await settle(api.report(baseline, tag, resolveStep(source.stepsOf(tag, baseline), null)));
  if (!latest.value) return { names: [], classIndices: [], classes: null, pinned: null, series: Object.create(null), error: latest.error };
  const names = latest.value.class_names;
  const pinned = state.trends.pinned?.filter((index) => index < names.length) ?? null;
  const classIndices = pinned ?? worstClasses(latest.value, state.trends.metric, state.trends.worstCount);
  const classes = classIndices.length === names.length ? null : classIndices;
  const series = Object.create(null); // by run name: "__proto__" or "constructor" is a key like any other
  const otherClassSets = [];
  await Promise.all(
    readable.map(async (run) => {
      if (run !== baseline) {
        // Class indices only mean the same classes in runs with the baseline's class set.
        const own = await settle(api.report(run, tag, resolveStep(source.stepsOf(tag, run), null)));
        if (own.value && JSON.stringify(own.value.class_names) !== JSON.stringify(names)) {
          otherClassSets.push(run);
          series[run] = { error: "its classes differ from the baseline's" };
          return;
        }
      }
      const { value, error } = await settle(source.series(run, tag, classes));
      series[run] = value ?? { error };
    }),
  );
  return { names, classIndices, classes, pinned, series, otherClassSets, error: null };
}

/**
 * The curves panel's class and, for every readable run at the table's step,
 * that class's curves (or why the run has none there). The class is the one
 * `state.curveClass` names, else the worst by average precision of the first
 * run with curves; runs are matched to it by class name. Reports are read per
 * class (never rolled up to groups).
 * @param {Selection} selection
 * @returns {Promise<{shown: boolean, names: string[], className: string|null, isDefault: boolean,
 *   reference: {run: string, step: number}|null,
 *   runs: Array<{run: string, step: number|null, curves: Object|null, reason: string|null}>}>}
 *   `shown`: whether any run has curves, or curves it cannot read; a run's `reason` says
 *   why it has none (the report's `curves_error` where its curves could not be read)
 */
export async function loadCurves(selection) {
  const { api, source, state, tag, readable } = selection;
  const reports = await Promise.all(
    readable.map(async (run) => {
      const step = resolveStep(source.stepsOf(tag, run), state.tableStep);
      const { value, error } = await settle(api.report(run, tag, step, reportOptions(selection, run, { grouping: false })));
      return { run, step: value?.step ?? step, report: value, error };
    }),
  );
  const reference = reports.find((entry) => entry.report?.has_curves) ?? null;
  const choice = reference ? chooseCurveClass(reference.report, state.curveClass ?? null) : null;
  const runs = await Promise.all(
    reports.map(async ({ run, step, report, error }) => {
      const none = { run, step, curves: null };
      if (!report) return { ...none, reason: error ?? "no report" };
      if (!report.has_curves || !choice) return { ...none, reason: report.curves_error ?? noCurvesReason(step) };
      const classIndex = report.class_names.indexOf(choice.name);
      if (classIndex < 0) return { ...none, reason: "its classes differ: it has no class of this name" };
      const curves = await settle(api.curves(run, tag, step, classIndex));
      return { ...none, curves: curves.value, reason: curves.error };
    }),
  );
  return {
    // Shown with curves, or to say why curves that were logged cannot be read (curves_error).
    shown: Boolean(reference) || reports.some((entry) => entry.report?.curves_error),
    names: reference?.report.class_names ?? [],
    className: choice?.name ?? null,
    isDefault: choice?.isDefault ?? true,
    reference: reference ? { run: reference.run, step: reference.step } : null,
    runs,
  };
}
