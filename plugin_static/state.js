// Selection state, URL presets, step resolution and polling.
import { COLOUR_SCALES, NORMALIZATIONS } from "./matrix-math.js";
import { parseMetric, parseView } from "./pivot.js";
import { DEFAULT_THRESHOLDS, parseThresholds } from "./long-tail.js";
import { DEFAULT_SUPPORT_THRESHOLD, parseSupportThreshold } from "./significance.js";
import { DEFAULT_COLUMN_SET, parseColumnSet } from "./table-columns.js";

/** Most runs selected when the URL names none. */
export const DEFAULT_RUN_LIMIT = 10;

/** Seconds between polls for new runs and steps. */
export const DEFAULT_POLL_SECONDS = 5;

/**
 * State that only changes which table rows are shown and how: changing it
 * redraws the table rows, without loading data or redrawing other views.
 */
export const TABLE_ONLY_KEYS = ["classFilter", "sort", "supportThreshold"];

/** The imbalance card's scales and orders, and the trends' metrics: [value, label]. */
export const IMBALANCE_SCALES = [
  ["linear", "Linear"],
  ["log", "Log"],
];
export const IMBALANCE_ORDERS = [
  ["support", "Support (largest first)"],
  ["predicted", "Predicted (largest first)"],
  ["ratio", "Predicted ÷ support"],
  ["index", "Class order"],
];
export const TREND_METRICS = [
  ["recall", "Recall"],
  ["f1", "F1"],
  ["both", "Recall and F1"],
];

/**
 * The initial selection state.
 * @returns {Object}
 */
export function initialState() {
  return {
    tag: null,
    selectedRuns: [],
    baselines: [], // runs the user chose as baselines; each class set uses its own (see resolveBaselines)
    tableStep: null, // null follows the latest step
    view: "table", // the report card's view: "table" (side by side) or "pivot"
    pivotMetric: "recall", // the pivot's metric: "recall", "precision" or "f1"
    tableColumns: DEFAULT_COLUMN_SET, // the side-by-side table's column set (tables with curves): "decision" or "ranking"
    sort: { column: "index", run: null, direction: "asc" },
    classFilter: "",
    supportThreshold: DEFAULT_SUPPORT_THRESHOLD,
    thresholds: { ...DEFAULT_THRESHOLDS }, // long-tail buckets: many-shot above `many`, few-shot below `few`
    grouped: false, // the report and matrix rolled up to the tag's class groups
    curveClass: null, // the curves panel's class (a name); null: the worst by average precision
    matrix: {
      run: null,
      step: null,
      normalize: "none",
      colour: "row",
      compare: "none",
      otherRun: null,
      otherStep: null,
    },
    trends: { metric: "recall", worstCount: 12, pinned: null, classSet: 0 }, // classSet: which class set the charts draw
    imbalance: { run: null, step: null, scale: "linear", order: "support" },
  };
}

/**
 * A minimal observable store. `set` merges a shallow patch; `merge` merges
 * into one nested section (e.g. `merge("matrix", {normalize: "true"})`).
 * Listeners receive the new state and the previous one.
 * @param {Object} state the initial state
 */
export function createStore(state) {
  const listeners = new Set();
  const update = (next) => {
    const previous = state;
    state = next;
    listeners.forEach((listener) => listener(state, previous));
  };
  return {
    get: () => state,
    set(patch) {
      update({ ...state, ...patch });
    },
    merge(section, patch) {
      update({ ...state, [section]: { ...state[section], ...patch } });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Top-level keys whose values differ between two states (compared by
 * identity for objects, by value for primitives).
 * @param {Object} previous
 * @param {Object} next
 * @returns {string[]}
 */
export function changedKeys(previous, next) {
  const keys = new Set([...Object.keys(previous ?? {}), ...Object.keys(next ?? {})]);
  return [...keys].filter((key) => !Object.is(previous?.[key], next?.[key]));
}

/**
 * Whether going from `previous` to `next` changed nothing but table-only
 * state ({@link TABLE_ONLY_KEYS}), so that at most the table rows need
 * redrawing (true when nothing changed at all).
 * @param {Object} previous
 * @param {Object} next
 * @returns {boolean}
 */
export function onlyTableChanged(previous, next) {
  return changedKeys(previous, next).every((key) => TABLE_ONLY_KEYS.includes(key));
}

/**
 * Calls `action` once input has been quiet for `delayMs`; `pending()` says
 * whether a call is waiting, `cancel()` drops it.
 * @template {any[]} A
 * @param {(...args: A) => void} action
 * @param {number} delayMs
 * @param {{setTimeout?: Function, clearTimeout?: Function}} [timers] for tests
 * @returns {((...args: A) => void) & {pending: () => boolean, cancel: () => void}}
 */
export function debounce(action, delayMs, timers = globalThis) {
  let timer = null;
  const debounced = (...args) => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = null;
      action(...args);
    }, delayMs);
  };
  debounced.pending = () => timer !== null;
  debounced.cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

function list(value) {
  return value
    ? value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean)
    : null;
}

function integer(value) {
  if (value === null || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/** One of `options`' values ([value, label] pairs), or null. */
function oneOf(value, options) {
  return options.some(([key]) => key === value) ? value : null;
}

/** A view's own step: undefined when the link does not say (it follows `step`), null for "latest". */
function ownStep(value) {
  if (value === null) return undefined;
  return value === "latest" ? null : integer(value) ?? undefined;
}

/** `sort=<column>:<asc|desc>` and `sort_run=<run>` as the table's sort, or null. */
function parseSort(value, run) {
  const match = /^([\w-]+):(asc|desc)$/.exec(value ?? "");
  return match ? { column: match[1], run: run || null, direction: match[2] } : null;
}

/** The value a sort the user chose is written as (class order too: many classes start worst first), or null. */
function sortParam(sort) {
  return sort ? `${sort.column}:${sort.direction}` : null;
}

/**
 * Selection presets from the iframe URL, e.g.
 * `?name=imbalance&runs=a,b&baseline=a&tag=confusion_matrix&step=3&view=pivot&metric=f1&poll=2&min_support=50&many=50&few=10&group=1`.
 * `many` / `few` are the long-tail thresholds (the defaults when missing or
 * invalid), `group=1` rolls the report and matrix up to class groups,
 * `curve_class` names the curves panel's class (by name; the class with the
 * worst average precision when missing or unknown), `columns` the side-by-side
 * table's column set for runs with curves ("decision", the default, or
 * "ranking"; see {@link import("./table-columns.js").COLUMN_SETS}).
 * `run` may also be repeated (`run=a&run=b`) for names containing commas;
 * `baseline` is repeated, one per class set, when the runs have several
 * (`baselines` lists them all; `baseline` is the first).
 * `view` is "table" (default) or "pivot"; `metric` the pivot's "recall"
 * (default), "precision" or "f1". Without `tag`, the dashboard picks the tag
 * most of `runs` have. `step` is the table's step, and the matrix's and the
 * imbalance card's unless `matrix_step` / `imbalance_step` say otherwise (a
 * step, or "latest"); `colour` is the matrix's colour scale, `imbalance_run`,
 * `imbalance_scale` and `imbalance_order` the imbalance card's settings,
 * `trends` the trends' metric, `filter` the table's class filter and
 * `sort=<column>:<asc|desc>` (with `sort_run`) its sort.
 * @param {string} search `window.location.search`
 * @returns {{runs: string[]|null, baseline: string|null, baselines: string[], tag: string|null,
 *   step: number|null, view: "table"|"pivot", metric: "recall"|"precision"|"f1",
 *   matrixRun: string|null, normalize: string|null,
 *   supportThreshold: number, thresholds: {many: number, few: number}, grouped: boolean,
 *   curveClass: string|null, columns: string, pollSeconds: number, matrixStep: number|null|undefined,
 *   imbalanceStep: number|null|undefined, colour: string|null, imbalanceRun: string|null,
 *   imbalanceScale: string|null, imbalanceOrder: string|null, trendsMetric: string|null,
 *   classFilter: string|null, sort: {column: string, run: string|null, direction: string}|null}}
 */
export function readPresets(search) {
  const params = new URLSearchParams(search);
  const repeated = params.getAll("run");
  const poll = integer(params.get("poll"));
  return {
    runs: repeated.length ? repeated : list(params.get("runs")),
    baseline: params.get("baseline"),
    baselines: params.getAll("baseline"),
    tag: params.get("tag"),
    step: integer(params.get("step")),
    view: parseView(params.get("view")),
    metric: parseMetric(params.get("metric")),
    matrixRun: params.get("matrix_run"),
    normalize: NORMALIZATIONS.some(([key]) => key === params.get("normalize")) ? params.get("normalize") : null,
    supportThreshold: parseSupportThreshold(params.get("min_support")),
    thresholds: parseThresholds(params.get("many"), params.get("few")) ?? { ...DEFAULT_THRESHOLDS },
    grouped: params.get("group") === "1",
    curveClass: params.get("curve_class"),
    columns: parseColumnSet(params.get("columns")),
    pollSeconds: poll === null ? DEFAULT_POLL_SECONDS : poll,
    matrixStep: ownStep(params.get("matrix_step")),
    imbalanceStep: ownStep(params.get("imbalance_step")),
    colour: oneOf(params.get("colour"), COLOUR_SCALES),
    imbalanceRun: params.get("imbalance_run"),
    imbalanceScale: oneOf(params.get("imbalance_scale"), IMBALANCE_SCALES),
    imbalanceOrder: oneOf(params.get("imbalance_order"), IMBALANCE_ORDERS),
    trendsMetric: oneOf(params.get("trends"), TREND_METRICS),
    classFilter: params.get("filter"),
    sort: parseSort(params.get("sort"), params.get("sort_run")),
  };
}

/** URL parameters that {@link selectionSearch} writes (the others are kept as they are). */
export const SELECTION_PARAMS = ["runs", "run", "tag", "baseline", "step", "view", "metric", "many", "few", "group", "curve_class", "columns"];

/**
 * The iframe URL's query with the current selection written in, so that a
 * link reproduces the view ({@link readPresets} reads it back). Parameters
 * that are not part of the selection (`name`, `poll`, …) are kept, and so
 * are the parameters of the settings below the table (`min_support`,
 * `matrix_run`, `normalize`, `matrix_step`, `colour`, `imbalance_*`, `trends`,
 * `filter`, `sort`) unless the setting is given (then written when not the
 * default; a view's own step when it is not the table's).
 * Runs are written as `runs=a,b`, or as repeated `run=` when a name holds a
 * comma or starts or ends with a space; defaults (latest step, table view, recall) are left out.
 * `baselines` (one per class set) are written as repeated `baseline=`;
 * a single `baseline` as one.
 * @param {string} search the current `window.location.search`
 * @param {{runs: string[], tag: string|null, baseline?: string|null, baselines?: string[], step: number|null,
 *   view: string, metric: string, thresholds?: {many: number, few: number}, grouped?: boolean,
 *   curveClass?: string|null, columns?: string, supportThreshold?: number, matrixRun?: string|null,
 *   normalize?: string, matrixStep?: number|null, imbalanceStep?: number|null, colour?: string,
 *   imbalanceRun?: string|null, imbalanceScale?: string, imbalanceOrder?: string, trendsMetric?: string,
 *   classFilter?: string, sort?: {column: string, run: string|null, direction: string}|null}} selection
 *   thresholds are written only when not the defaults, `group=1` only when grouped,
 *   `curve_class` only when a class was chosen, `columns` only when not the default
 * @returns {string} the new query, starting with "?"
 * @example
 *   selectionSearch("?name=imbalance", {runs: ["a", "b"], tag: "t", baseline: "a",
 *     step: null, view: "pivot", metric: "f1"})
 *   // "?name=imbalance&runs=a%2Cb&tag=t&baseline=a&view=pivot&metric=f1"
 */
export function selectionSearch(search, {
  runs, tag, baseline, baselines, step, view, metric, thresholds, grouped, curveClass, columns, supportThreshold, matrixRun, normalize,
  matrixStep, imbalanceStep, colour, imbalanceRun, imbalanceScale, imbalanceOrder, trendsMetric, classFilter, sort,
}) {
  const params = new URLSearchParams(search);
  for (const key of SELECTION_PARAMS) params.delete(key);
  // `runs=a, b` (a hand-written link) is read trimmed: names with a comma or edge spaces go one by one.
  if (runs.some((run) => run.includes(",") || run !== run.trim())) for (const run of runs) params.append("run", run);
  else params.set("runs", runs.join(","));
  if (tag !== null && tag !== undefined) params.set("tag", tag);
  if (baselines?.length) for (const run of baselines) params.append("baseline", run);
  else if (baseline !== null && baseline !== undefined) params.set("baseline", baseline);
  if (step !== null && step !== undefined) params.set("step", String(step));
  if (view && view !== "table") params.set("view", view);
  if (metric && metric !== "recall") params.set("metric", metric);
  if (thresholds && (thresholds.many !== DEFAULT_THRESHOLDS.many || thresholds.few !== DEFAULT_THRESHOLDS.few)) {
    params.set("many", String(thresholds.many));
    params.set("few", String(thresholds.few));
  }
  if (grouped) params.set("group", "1");
  if (curveClass !== null && curveClass !== undefined) params.set("curve_class", curveClass);
  if (columns && columns !== DEFAULT_COLUMN_SET) params.set("columns", columns);
  const ownStepParam = (own) => (own === (step ?? null) ? null : own === null ? "latest" : String(own));
  const written = [
    ["min_support", supportThreshold, supportThreshold === DEFAULT_SUPPORT_THRESHOLD ? null : String(supportThreshold)],
    ["matrix_run", matrixRun, matrixRun],
    ["normalize", normalize, normalize === "none" ? null : normalize],
    ["matrix_step", matrixStep, ownStepParam(matrixStep)],
    ["imbalance_step", imbalanceStep, ownStepParam(imbalanceStep)],
    ["colour", colour, colour === "row" ? null : colour],
    ["imbalance_run", imbalanceRun, imbalanceRun],
    ["imbalance_scale", imbalanceScale, imbalanceScale === "linear" ? null : imbalanceScale],
    ["imbalance_order", imbalanceOrder, imbalanceOrder === "support" ? null : imbalanceOrder],
    ["trends", trendsMetric, trendsMetric === "recall" ? null : trendsMetric],
    ["filter", classFilter, classFilter || null],
    ["sort", sort, sortParam(sort)],
    ["sort_run", sort, sortParam(sort) && sort.run],
  ];
  for (const [key, given, value] of written) {
    if (given === undefined) continue; // not part of this call's selection: kept as it is
    params.delete(key);
    if (value !== null && value !== undefined) params.set(key, value);
  }
  return "?" + params.toString();
}

/**
 * The runs wanted: the selection with the runs set aside in `away` (see {@link followRunList}) back
 * in their places, every index in `away` counting over it.
 * @param {string[]} selectedRuns
 * @param {Map<string, {index: number}>} away
 * @returns {string[]}
 * @example
 *   wantedRuns(["a", "c"], new Map([["b", { baseline: false, index: 1 }]])) // ["a", "b", "c"]
 */
export function wantedRuns(selectedRuns, away) {
  const full = [...selectedRuns];
  for (const [run, { index }] of [...away].sort((a, b) => a[1].index - b[1].index)) {
    if (!full.includes(run)) full.splice(Math.min(index, full.length), 0, run);
  }
  return full;
}

/**
 * The run selection after the run list changed. Selected runs that left the
 * log directory (deleted, or being written again) are set aside in `away`
 * with whether they were a chosen baseline and their place in the selection,
 * and selected again, in that place (so a default baseline, the first run,
 * is the baseline again) and as chosen baseline too, when they come back.
 * @param {{selectedRuns: string[], baselines: string[]}} state
 * @param {Map<string, {baseline: boolean, index: number}>} away runs set aside → was a chosen
 *   baseline, place in the selection (other fields of an entry are kept); updated in place
 * @param {(run: string) => boolean} hasRun whether the log directory has the run now
 * @returns {{selectedRuns: string[], baselines: string[]}}
 * @example
 *   const away = new Map();
 *   followRunList({ selectedRuns: ["base", "b"], baselines: ["base"] }, away, (run) => run !== "base");
 *   // {selectedRuns: ["b"], baselines: []}; away: Map {"base" => {baseline: true, index: 0}}
 *   followRunList({ selectedRuns: ["b"], baselines: [] }, away, () => true);
 *   // {selectedRuns: ["base", "b"], baselines: ["base"]}; away is empty
 */
export function followRunList({ selectedRuns, baselines }, away, hasRun) {
  const full = wantedRuns(selectedRuns, away);
  full.forEach((run, index) => {
    if (!hasRun(run)) away.set(run, { ...away.get(run), baseline: away.get(run)?.baseline ?? baselines.includes(run), index });
  });
  const back = [...away.keys()].filter(hasRun);
  const restoredBaselines = back.filter((run) => away.get(run).baseline);
  for (const run of back) away.delete(run);
  return {
    selectedRuns: full.filter(hasRun),
    baselines: [...restoredBaselines, ...baselines.filter((run) => hasRun(run) && !restoredBaselines.includes(run))],
  };
}

/**
 * The user chose a baseline: the runs set aside by {@link followRunList} come back in their places,
 * no longer as baselines (the user's choice wins).
 * @param {Map<string, {baseline: boolean, index: number}>} away updated in place
 */
export function dropAwayBaselines(away) {
  for (const [run, info] of away) away.set(run, { ...info, baseline: false });
}

/**
 * The step of `steps` to show for a wanted step: the latest when `wanted`
 * is null, otherwise the largest step not after `wanted` (or the first).
 * @param {number[]|undefined} steps ascending
 * @param {number|null} wanted
 * @returns {number|null}
 */
export function resolveStep(steps, wanted) {
  if (!steps || steps.length === 0) return null;
  if (wanted === null || wanted === undefined) return steps[steps.length - 1];
  let chosen = steps[0];
  for (const step of steps) {
    if (step > wanted) break;
    chosen = step;
  }
  return chosen;
}

/**
 * Sorted union of several step lists.
 * @param {Array<number[]>} stepLists
 * @returns {number[]}
 */
export function unionSteps(stepLists) {
  const all = new Set();
  for (const steps of stepLists) for (const step of steps || []) all.add(step);
  return [...all].sort((a, b) => a - b);
}

/**
 * Calls `poll` every `seconds` (never overlapping, skipped while the page is
 * hidden, and at once when a hidden page is shown again, so that its status
 * line does not show a check from before). Returns a function that stops polling.
 * @param {() => Promise<void>} poll
 * @param {number} seconds 0 disables polling
 * @param {Document} [doc] the page (its `hidden` and `visibilitychange`)
 * @returns {() => void}
 */
export function startPolling(poll, seconds, doc = globalThis.document) {
  if (!(seconds > 0)) return () => {};
  let timer = null;
  let stopped = false;
  let running = false;
  const schedule = () => {
    if (!stopped) timer = setTimeout(tick, seconds * 1000);
  };
  const tick = async () => {
    clearTimeout(timer);
    if (running || stopped) return; // the check under way schedules the next
    if (!doc.hidden) {
      running = true;
      try {
        await poll();
      } catch (error) {
        console.warn("imbalance: polling failed:", error.message);
      } finally {
        running = false;
      }
    }
    schedule();
  };
  const shown = () => {
    if (!doc.hidden) tick();
  };
  doc.addEventListener("visibilitychange", shown);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    doc.removeEventListener("visibilitychange", shown);
  };
}
