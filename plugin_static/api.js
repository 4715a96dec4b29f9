// Data access: the plugin's HTTP routes, nothing else.
import { DEFAULT_THRESHOLDS } from "./long-tail.js";

/** An HTTP error from the plugin backend, with the server's message. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status (0 for network failures)
   */
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

// Reports and comparisons at fixed steps change only when a run is written anew (its directory
// deleted and logged again; see forgetRun): keep the most recent ones, at least 64 and at least
// what one view of the selected runs asks for (see keepFor).
const REPORT_CACHE_SIZE = 64;
// Entries one view asks for per selected run: reports at two steps (the table's, the latest),
// a comparison, curves, and one more for the matrix's or the imbalance card's step.
const ENTRIES_PER_RUN = 6;

/**
 * The client for the plugin routes.
 * @param {URL|string} baseUrl URL of the plugin's route folder, e.g.
 *   `new URL("./", import.meta.url)` from index.js (keeps `--path_prefix`)
 */
export function createApi(baseUrl) {
  const reports = new Map();
  let cacheSize = REPORT_CACHE_SIZE;

  async function getJson(route, params = {}) {
    const url = new URL(route, baseUrl);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (error) {
      throw new ApiError(`Cannot reach TensorBoard (${error.message})`, 0);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Non-JSON error pages fall through to the status message below.
    }
    if (!response.ok) {
      const detail = body && typeof body.error === "string" ? body.error : response.statusText;
      throw new ApiError(detail || `HTTP ${response.status}`, response.status);
    }
    return body;
  }

  function remember(key, promise) {
    reports.set(key, promise);
    while (reports.size > cacheSize) reports.delete(reports.keys().next().value);
    promise.catch(() => reports.delete(key));
    return promise;
  }

  return {
    /**
     * Sizes the cache for a view of `runs` selected runs: a view redrawn after a change of one of
     * its settings then finds every report it drew (a cache smaller than one view's reports
     * evicts its own entries and fetches every run again at each change).
     * @param {number} runs
     */
    keepFor(runs) {
      cacheSize = Math.max(REPORT_CACHE_SIZE, ENTRIES_PER_RUN * runs);
    },

    /**
     * Runs and their tags.
     * @returns {Promise<Object<string, string[]>>}
     */
    runs() {
      return getJson("runs");
    },

    /**
     * Drops what is cached of `run` and `tag` (reports, comparisons with it, examples, curves):
     * the run was written anew, so its steps may hold other data.
     * @param {string} run
     * @param {string} tag
     */
    forgetRun(run, tag) {
      for (const key of [...reports.keys()]) {
        const parts = JSON.parse(key);
        if (parts.includes(run) && parts.includes(tag)) reports.delete(key);
      }
    },

    /**
     * The report of one run and tag at `step`, or at the latest step when
     * `step` is null. Reports of fixed steps are cached.
     * @param {string} run
     * @param {string} tag
     * @param {number|null} [step]
     * @param {{many?: number, few?: number, group?: boolean}} [options] long-tail
     *   thresholds (the route's defaults when omitted) and `group`: roll up to
     *   the tag's class groups
     * @returns {Promise<Object>}
     */
    report(run, tag, step = null, options = {}) {
      const extra = {
        many: options.many ?? null,
        few: options.few ?? null,
        group: options.group ? 1 : null,
      };
      // Keyed by the thresholds the route applies, so that a report asked for without them (the
      // latest step, when the run is first seen) answers the same report asked for with the defaults.
      const keyOf = (atStep) =>
        JSON.stringify([run, tag, atStep, extra.many ?? DEFAULT_THRESHOLDS.many, extra.few ?? DEFAULT_THRESHOLDS.few, extra.group]);
      if (step === null || step === undefined) {
        return getJson("report", { run, tag, ...extra }).then((report) => {
          remember(keyOf(report.step), Promise.resolve(report));
          return report;
        });
      }
      const key = keyOf(step);
      const cached = reports.get(key);
      if (cached) {
        reports.delete(key);
        reports.set(key, cached);
        return cached;
      }
      return remember(key, getJson("report", { run, tag, step, ...extra }));
    },

    /**
     * Per-class recall and precision of `run` minus `baseline`, with the
     * 95% interval of each difference and whether it is significant.
     * Comparisons of fixed steps are cached.
     * @param {string} run
     * @param {string} tag
     * @param {number|null} step the run's step; its latest when null
     * @param {string} baseline
     * @param {number|null} baselineStep the baseline's step; its latest when null
     * @returns {Promise<Object>}
     */
    compare(run, tag, step, baseline, baselineStep) {
      const params = { run, tag, step, baseline, baseline_step: baselineStep };
      if (step === null || step === undefined || baselineStep === null || baselineStep === undefined) {
        return getJson("compare", params);
      }
      const key = JSON.stringify(["compare", run, tag, step, baseline, baselineStep]);
      const cached = reports.get(key);
      if (cached) {
        reports.delete(key);
        reports.set(key, cached);
        return cached;
      }
      return remember(key, getJson("compare", params));
    },

    /**
     * The examples kept for one confusion-matrix cell (true class
     * `trueIndex`, predicted class `predIndex`) at `step`, or at the latest
     * step with examples when `step` is null. Examples of fixed steps are cached.
     * @param {string} run
     * @param {string} tag
     * @param {number|null} step
     * @param {number} trueIndex
     * @param {number} predIndex
     * @returns {Promise<Object>} `{step, steps, true, pred, true_name, pred_name,
     *   count, scores, cut, examples: [...]}`; rejects with the route's message
     *   (404 when the run/tag or the step has no examples)
     */
    examples(run, tag, step, trueIndex, predIndex) {
      const params = { run, tag, step, true: trueIndex, pred: predIndex };
      if (step === null || step === undefined) return getJson("examples", params);
      const key = JSON.stringify(["examples", run, tag, step, trueIndex, predIndex]);
      const cached = reports.get(key);
      if (cached) {
        reports.delete(key);
        reports.set(key, cached);
        return cached;
      }
      return remember(key, getJson("examples", params));
    },

    /**
     * One class's precision-recall, ROC and reliability curves of a run at
     * `step` (its latest step with curves when null). Curves of fixed steps are cached.
     * @param {string} run
     * @param {string} tag
     * @param {number|null} step
     * @param {number} classIndex
     * @returns {Promise<Object>} `{step, steps, class_index, class_name, pr, roc,
     *   reliability, average_precision, roc_auc, calibration_error, operating_point}`;
     *   rejects with the route's message (404 when that step has no curves)
     */
    curves(run, tag, step, classIndex) {
      const params = { run, tag, step, class: classIndex };
      if (step === null || step === undefined) return getJson("curves", params);
      const key = JSON.stringify(["curves", run, tag, step, classIndex]);
      const cached = reports.get(key);
      if (cached) {
        reports.delete(key);
        reports.set(key, cached);
        return cached;
      }
      return remember(key, getJson("curves", params));
    },

    /**
     * The absolute URL of a route URL relative to the plugin root (an
     * example's `image`); null when it would leave the plugin's routes.
     * @param {string} relative e.g. `example_image?run=R&tag=T&step=3&index=1`
     * @returns {string|null}
     */
    resolve(relative) {
      const root = new URL(baseUrl);
      let url;
      try {
        url = new URL(String(relative), root);
      } catch {
        return null;
      }
      return url.origin === root.origin && url.pathname.startsWith(root.pathname) ? url.href : null;
    },

    /**
     * Per-class scores of one run across all steps.
     * @param {string} run
     * @param {string} tag
     * @param {number[]|null} [classes] class indices; all classes when null
     * @returns {Promise<Object>}
     */
    series(run, tag, classes = null) {
      return getJson("series", { run, tag, classes: classes ? classes.join(",") : null });
    },
  };
}
