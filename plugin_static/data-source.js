// What the dashboard knows about the server: runs and tags, the steps of
// each run, the logged steps the server left out, per-run errors, and cached
// per-class series.
import { noteRunNames } from "./format.js";
import { holdsSteps } from "./renamed-runs.js";

const byName = (a, b) => a.localeCompare(b, undefined, { numeric: true });

/**
 * A readable message for an API error.
 * @param {Error & {status?: number}} error
 * @returns {string}
 */
export function describeError(error) {
  if (error?.status === 404) return `Not found: ${error.message}`;
  if (error?.status) return `Error ${error.status}: ${error.message}`;
  return error?.message ?? String(error);
}

/**
 * Awaits `promise` and returns `{value, error}` instead of throwing.
 * @template T
 * @param {Promise<T>} promise
 * @returns {Promise<{value: T|null, error: string|null}>}
 */
export async function settle(promise) {
  try {
    return { value: await promise, error: null };
  } catch (error) {
    return { value: null, error: describeError(error) };
  }
}

/**
 * Server state shared by all views.
 * @param {ReturnType<import("./api.js").createApi>} api
 */
export function createDataSource(api) {
  let runTags = {};
  let listError = null;
  const steps = new Map(); // tag -> Map(run -> steps)
  const loggedAt = new Map(); // tag -> Map(run -> Map(step -> wall time)), from the series
  const errors = new Map(); // tag -> Map(run -> message)
  const skipped = new Map(); // tag -> Map(run -> [{step, reason}])
  const extras = new Map(); // tag -> Map(run -> {classGroups, trainCounts}) (fixed per tag: first metadata wins)
  const series = new Map(); // JSON [run, tag, classes] -> Promise
  const left = new Map(); // tag -> Map(run -> Map(step -> wall time)) of runs that left the run list

  const table = (maps, tag) => {
    if (!maps.has(tag)) maps.set(tag, new Map());
    return maps.get(tag);
  };
  /** Whether a step of `run` seen before was logged again (another wall time); remembers the new ones. */
  const rewritten = (walls, run, fresh) => {
    const before = walls.get(run);
    const now = new Map((fresh.steps ?? []).map((step, index) => [step, fresh.wall_times?.[index]]));
    walls.set(run, now);
    if (!before) return false;
    for (const [step, wall] of now) if (before.has(step) && before.get(step) !== wall) return true;
    return false;
  };

  const forgetSeries = (run, tag) => {
    for (const key of series.keys()) {
      const [keyRun, keyTag] = JSON.parse(key);
      if (keyRun === run && keyTag === tag) series.delete(key);
    }
  };
  /** Drops all that is known of a run's tag that left the run list: what comes back under its name is new. */
  const forgetLeft = (run, tag) => {
    const walls = loggedAt.get(tag)?.get(run);
    if (walls?.size) table(left, tag).set(run, walls); // to know it again under another name
    for (const maps of [steps, loggedAt, errors, skipped, extras]) maps.get(tag)?.delete(run);
    forgetSeries(run, tag);
    api.forgetRun(run, tag);
  };

  return {
    /** @returns {string[]} every run, sorted by name */
    allRuns: () => Object.keys(runTags).sort(byName),
    /** @returns {string[]} every tag of any run, sorted */
    allTags: () => [...new Set(Object.values(runTags).flat())].sort(byName),
    /** @param {string} tag @returns {string[]} runs that have `tag` */
    runsWithTag(tag) {
      return this.allRuns().filter((run) => runTags[run]?.includes(tag));
    },
    /** @returns {Object<string, string[]>} each run's tags (the `runs` route response) */
    runTags: () => runTags,
    /** @param {string} run @returns {boolean} whether the run is listed */
    hasRun: (run) => Object.hasOwn(runTags, run),
    /** @returns {number[]|undefined} ascending steps of one run and tag */
    stepsOf: (tag, run) => steps.get(tag)?.get(run),
    /** @returns {string|undefined} why the steps of a run could not be read */
    errorOf: (tag, run) => errors.get(tag)?.get(run),
    /**
     * Logged steps of a run that the server leaves out (e.g. logged with
     * another class set than the tag's first step), with the reason.
     * @returns {Array<{step: number, reason: string}>}
     */
    skippedOf: (tag, run) => skipped.get(tag)?.get(run) ?? [],
    /**
     * The class groups a run's tag was logged with, or null.
     * @returns {Object<string, string[]>|null}
     */
    classGroupsOf: (tag, run) => extras.get(tag)?.get(run)?.classGroups ?? null,
    /** @returns {boolean} whether a run's tag was logged with training counts per class */
    hasTrainCounts: (tag, run) => Boolean(extras.get(tag)?.get(run)?.trainCounts),
    /** @returns {string|null} why the run list could not be read */
    listError: () => listError,

    /**
     * Reloads the run list.
     * @returns {Promise<boolean>} whether it changed
     */
    async loadRunList() {
      try {
        const next = await api.runs();
        const changed = JSON.stringify(next) !== JSON.stringify(runTags) || listError !== null;
        for (const [run, tags] of Object.entries(runTags)) {
          const kept = Object.hasOwn(next, run) ? next[run] : [];
          for (const tag of tags) if (!kept.includes(tag)) forgetLeft(run, tag);
        }
        runTags = next;
        noteRunNames(Object.keys(next));
        listError = null;
        return changed;
      } catch (error) {
        listError = describeError(error);
        return true;
      }
    },

    /**
     * Which of `gone` (runs that left the run list) `run` is, moved or renamed on disk: the one all of
     * whose steps seen before `run` holds, each at the same wall time. One `series` request (of one
     * class) when a run of `gone` had its steps seen.
     * @param {string} tag
     * @param {string} run a run that came into the run list
     * @param {string[]} gone
     * @returns {Promise<string|null>}
     */
    async renamedFrom(tag, run, gone) {
      const seen = gone.filter((name) => left.get(tag)?.has(name));
      if (seen.length === 0) return null;
      const { value } = await settle(api.series(run, tag, [0]));
      return seen.find((name) => holdsSteps(left.get(tag).get(name), value)) ?? null;
    },

    /**
     * Runs of `gone` that came into the run list as one of `arrived` ({@link renamedFrom}, in turn).
     * @param {string} tag
     * @param {string[]} gone runs that left the run list
     * @param {string[]} arrived runs that came into it
     * @returns {Promise<Map<string, string>>} old name → new name
     */
    async renamedRuns(tag, gone, arrived) {
      const renames = new Map();
      for (const run of gone.length ? arrived : []) {
        const from = await this.renamedFrom(tag, run, gone.filter((name) => !renames.has(name)));
        if (from !== null) renames.set(from, run);
      }
      return renames;
    },

    /**
     * Reads the steps of runs not seen yet (their latest report carries them).
     * @param {string} tag
     * @param {string[]} runs
     */
    async ensureSteps(tag, runs) {
      const known = table(steps, tag);
      const failed = table(errors, tag);
      await Promise.all(
        runs
          .filter((run) => !known.has(run) && !failed.has(run))
          .map(async (run) => {
            try {
              const report = await api.report(run, tag);
              known.set(run, report.steps);
              table(skipped, tag).set(run, report.skipped_steps ?? []);
              table(extras, tag).set(run, {
                classGroups: report.class_groups && Object.keys(report.class_groups).length ? report.class_groups : null,
                trainCounts: Array.isArray(report.per_class?.train_count),
              });
            } catch (error) {
              failed.set(run, describeError(error));
            }
          }),
      );
    },

    /**
     * Per-class series of one run (cached until its steps change).
     * @param {string} run
     * @param {string} tag
     * @param {number[]|null} classes
     * @returns {Promise<Object>}
     */
    series(run, tag, classes) {
      const key = JSON.stringify([run, tag, classes]);
      if (!series.has(key)) {
        const promise = api.series(run, tag, classes);
        promise.then((fresh) => {
          const walls = table(loggedAt, tag);
          if (!walls.has(run)) rewritten(walls, run, fresh); // when the steps drawn were logged, for refreshSteps
        }, () => series.delete(key));
        series.set(key, promise);
      }
      return series.get(key);
    },

    /**
     * Asks the server for the current steps of `runs` (through their series
     * for `classes`, which the trends view needs anyway).
     * @param {string} tag
     * @param {string[]} runs
     * @param {number[]|null|((run: string) => number[]|null)} classes the same
     *   for every run, or each run's (class indices only fit runs of one class set)
     * @returns {Promise<boolean>} whether any run's steps, left-out steps or error changed
     */
    async refreshSteps(tag, runs, classesFor) {
      const classesOf = typeof classesFor === "function" ? classesFor : () => classesFor;
      const known = table(steps, tag);
      const failed = table(errors, tag);
      let changed = false;
      await Promise.all(
        runs.map(async (run) => {
          const classes = classesOf(run);
          try {
            const fresh = await api.series(run, tag, classes);
            if (rewritten(table(loggedAt, tag), run, fresh)) {
              api.forgetRun(run, tag); // the run was logged anew: its cached steps hold old data
              forgetSeries(run, tag);
              changed = true;
            }
            if (JSON.stringify(known.get(run)) !== JSON.stringify(fresh.steps)) {
              known.set(run, fresh.steps);
              forgetSeries(run, tag);
              changed = true;
            }
            const freshSkipped = fresh.skipped_steps ?? [];
            if (JSON.stringify(table(skipped, tag).get(run) ?? []) !== JSON.stringify(freshSkipped)) {
              table(skipped, tag).set(run, freshSkipped);
              changed = true;
            }
            series.set(JSON.stringify([run, tag, classes]), Promise.resolve(fresh));
            if (failed.delete(run)) changed = true;
          } catch (error) {
            const message = describeError(error);
            if (failed.get(run) !== message) changed = true;
            failed.set(run, message);
          }
        }),
      );
      return changed;
    },
  };
}
