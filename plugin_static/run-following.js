// Following the run list while the page is open: what the link or the user did not choose, filled
// in (first load, new runs); selected runs that leave the log directory, and runs the link names
// that are not listed yet, set aside in `away` and taken back when they appear (followRunList in
// state.js), or found under a new name
// (renamed-runs.js); and the poll that checks for new runs and steps.
import { defaultTag } from "./pivot.js";
import { followRenames } from "./renamed-runs.js";
import { linkedRuns, renamedText } from "./run-messages.js";
import { DEFAULT_RUN_LIMIT, followRunList } from "./state.js";

/**
 * The state patch that fills in what the URL or the user did not choose.
 * @param {Object} options
 * @param {Object} options.state the store's state now
 * @param {ReturnType<import("./state.js").readPresets>} options.presets the page URL's choices
 * @param {{allTags: () => string[], allRuns: () => string[], runTags: () => Object<string, string[]>,
 *   hasRun: (run: string) => boolean, runsWithTag: (tag: string|null) => string[]}} options.source
 *   the run list (see data-source.js)
 * @param {Map<string, Object>} options.away selected runs not in the log directory now; updated in
 *   place (followRunList), each with the time it was found gone (`since`); on the first load, the
 *   runs the link names that are not listed yet (`fromLink`), selected when they appear
 * @param {Map<string, string>} [options.renames] selected runs found under a new name: old → new
 * @param {boolean} options.firstLoad the presets apply (no runs were listed before)
 * @param {boolean} options.userChoseRuns the selection is the user's (or the link's) own
 * @param {() => Date} [options.now]
 * @returns {{patch: Object, note: string|null, userChoseRuns: boolean, sortChosen: boolean}} `note`:
 *   what the page says about the link's runs or renamed runs (null: nothing new to say, "": nothing
 *   to say any more); `sortChosen`: the link chose the table's sort
 * @example
 *   // A link naming "a" and "gone", opened on a log directory of "a" and "b":
 *   defaultsPatch({ state: initialState(), presets: readPresets("?run=a&run=gone"), source, away: new Map(), firstLoad: true, userChoseRuns: true })
 *   // {patch: {selectedRuns: ["a"], …}, note: null, …}; away: Map {"gone" => {fromLink: true, baseline: false, index: 1, since}}
 */
export function defaultsPatch({ state, presets, source, away, renames = new Map(), firstLoad, userChoseRuns, now = () => new Date() }) {
  const tags = source.allTags();
  let note = null;
  let presetRuns = firstLoad && presets.runs ? source.allRuns().filter((run) => presets.runs.includes(run)) : null;
  const linked = [...new Set(presets.runs)];
  const missing = presetRuns && source.allRuns().length ? linked.filter((run) => !presetRuns.includes(run)) : [];
  // TensorBoard may still be loading the log directory: the link's other runs are wanted until they appear.
  for (const run of missing) away.set(run, { fromLink: true, baseline: presets.baselines.includes(run), index: linked.indexOf(run) });
  if (presetRuns?.length === 0 && missing.length) {
    note = `The link names runs not in this log directory yet (${linkedRuns(missing)}); showing the first runs until one appears.`;
    userChoseRuns = false;
    presetRuns = null;
  }
  const arrived = firstLoad ? [] : [...away].filter(([run, { fromLink }]) => fromLink && source.hasRun(run)).map(([run]) => run);
  if (arrived.length && !userChoseRuns) {
    // The first runs stood in for the link's: its runs take their place.
    state = { ...state, tag: presets.tag, selectedRuns: [], baselines: [] };
    userChoseRuns = true;
    note = "";
  }
  // Without a tag (or an unknown one), the tag most of the selected runs have.
  const tag = tags.includes(state.tag)
    ? state.tag
    : tags.includes(presets.tag)
      ? presets.tag
      : defaultTag(source.runTags(), presetRuns ?? (arrived.length ? arrived : state.selectedRuns.filter((run) => source.hasRun(run))));
  const followed = firstLoad ? state : followRunList(followRenames(state, away, renames), away, (run) => source.hasRun(run));
  for (const [run, info] of away) if (!info.since) away.set(run, { ...info, since: now() }); // for its note
  if (renames.size) note = renamedText(renames);
  let selectedRuns = followed.selectedRuns.filter((run) => source.hasRun(run));
  if (!userChoseRuns && selectedRuns.length === 0) selectedRuns = source.runsWithTag(tag).slice(0, DEFAULT_RUN_LIMIT);
  if (presetRuns) selectedRuns = presetRuns;
  // The baselines chosen (one per class set); the others are resolved from the class sets when loaded.
  const baselines = (firstLoad ? presets.baselines ?? [] : followed.baselines).filter((run) => selectedRuns.includes(run));
  const patch = { tag, selectedRuns, baselines };
  let sortChosen = false;
  if (firstLoad) {
    patch.tableStep = presets.step;
    patch.view = presets.view;
    patch.pivotMetric = presets.metric;
    patch.tableColumns = presets.columns ?? state.tableColumns;
    patch.supportThreshold = presets.supportThreshold ?? state.supportThreshold;
    patch.thresholds = presets.thresholds ?? state.thresholds;
    patch.grouped = presets.grouped ?? state.grouped;
    patch.curveClass = presets.curveClass ?? null;
    const own = (step) => (step === undefined ? presets.step : step); // a view's own step, else the table's
    patch.matrix = {
      ...state.matrix, step: own(presets.matrixStep), run: presets.matrixRun,
      normalize: presets.normalize ?? state.matrix.normalize, colour: presets.colour ?? state.matrix.colour,
    };
    patch.imbalance = {
      ...state.imbalance, step: own(presets.imbalanceStep), run: presets.imbalanceRun ?? state.imbalance.run,
      scale: presets.imbalanceScale ?? state.imbalance.scale, order: presets.imbalanceOrder ?? state.imbalance.order,
    };
    patch.trends = { ...state.trends, metric: presets.trendsMetric ?? state.trends.metric };
    patch.classFilter = presets.classFilter ?? state.classFilter;
    if (presets.sort) {
      patch.sort = presets.sort;
      sortChosen = true;
    }
  }
  return { patch, note, userChoseRuns, sortChosen };
}

/**
 * Follows the run list for the page: fills in the defaults, checks the server, takes in new runs and steps.
 * @param {Object} options
 * @param {{get: () => Object, set: (patch: Object) => void}} options.store
 * @param {ReturnType<import("./data-source.js").createDataSource>} options.source
 * @param {ReturnType<import("./state.js").readPresets>} options.presets
 * @param {Map<string, Object>} options.away selected runs not in the log directory now (see defaultsPatch)
 * @param {ReturnType<import("./status-line.js").createCheckTimes>} options.checks the status line's times
 * @param {(run: string) => Array|null} options.classesOf the classes a run's trends drew, to refresh its steps with
 * @param {(text: string) => void} options.showNote shows a note about the link's runs or renamed runs ("": hides it)
 * @param {() => void} options.onSortChosen the link chose the table's sort
 * @param {() => Promise<void>} options.refresh reloads and redraws the page
 * @param {() => void} options.showStatus redraws the status line
 * @returns {{applyDefaults: (renames?: Map<string, string>) => void, checkRunList: () => Promise<boolean>,
 *   poll: () => Promise<void>, chooseRuns: () => void}} `chooseRuns`: the user chose the selection
 */
export function createRunFollower({ store, source, presets, away, checks, classesOf, showNote, onSortChosen, refresh, showStatus }) {
  let userChoseRuns = Boolean(presets.runs);
  let defaultsApplied = false;

  /**
   * Fills in what the URL or the user did not choose (first load, new runs).
   * @param {Map<string, string>} [renames] selected runs found under a new name: old → new
   */
  function applyDefaults(renames = new Map()) {
    const result = defaultsPatch({ state: store.get(), presets, source, away, renames, firstLoad: !defaultsApplied, userChoseRuns });
    userChoseRuns = result.userChoseRuns;
    if (result.note !== null) showNote(result.note);
    if (result.sortChosen) onSortChosen();
    // A link opened before any run is written keeps its presets for the first runs that arrive.
    defaultsApplied = source.allRuns().length > 0;
    store.set(result.patch);
  }

  /** Reloads the run list, noting when the server answered and whether the list changed. */
  async function checkRunList() {
    const before = JSON.stringify(source.runTags());
    const changed = await source.loadRunList();
    // An answer after failed checks is not new data unless the list differs.
    if (source.listError()) checks.failed();
    else checks.answered(JSON.stringify(source.runTags()) !== before);
    return changed;
  }

  /** Selected runs that left and came into the run list under another name since `listed`: old → new. */
  function findRenamed(listed) {
    const { tag, selectedRuns } = store.get();
    const gone = [...new Set([...away.keys(), ...selectedRuns])].filter((run) => !source.hasRun(run));
    return source.renamedRuns(tag, gone, source.runsWithTag(tag).filter((run) => !listed.has(run) && !selectedRuns.includes(run)));
  }

  /** Picks up new runs and new steps; redraws only when something changed. */
  async function poll() {
    const listed = new Set(source.allRuns());
    const changed = await checkRunList();
    if (checks.times().failed && listed.size) {
      showStatus(); // no answer (TensorBoard restarting, the network): what the page shows stays, the status line says so
      return;
    }
    if (changed) {
      applyDefaults(await findRenamed(listed)); // redraws through the store
      return;
    }
    const { tag, selectedRuns } = store.get();
    const runs = selectedRuns.filter((run) => source.runsWithTag(tag).includes(run));
    if (await source.refreshSteps(tag, runs, classesOf)) {
      checks.newData();
      await refresh();
    } else {
      showStatus(); // nothing new: the line still says when the server last answered
    }
  }

  return {
    applyDefaults,
    checkRunList,
    poll,
    chooseRuns() {
      userChoseRuns = true;
    },
  };
}
