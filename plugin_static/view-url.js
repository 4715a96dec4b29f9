// The view written into the page's own URL (replacing its history entry), so that a link to it
// (the header's "Link to this view": inside TensorBoard's tab the address bar stays at #imbalance)
// opens the same view.
import { selectionSearch, wantedRuns } from "./state.js";

/**
 * What the URL keeps of the view (see selectionSearch in state.js).
 * @param {Object} state the store's state
 * @param {Object} shown
 * @param {string[]} shown.selected the selected runs shown
 * @param {Map<string, {baseline: boolean, index: number}>} [shown.away] runs wanted but not listed now
 *   (see followRunList in state.js): kept in the URL in their places, a baseline among them first
 * @param {string[]} shown.baselines the baseline of each class set
 * @param {boolean} shown.canGroup the runs have class groups
 * @param {string|null} shown.curveClass the curves panel's class, null for its default
 * @param {boolean} shown.sortChosen the user (or the link) chose the table's sort
 * @returns {Object} the selection for selectionSearch
 */
export function urlSelection(state, { selected, away = new Map(), baselines, canGroup, curveClass, sortChosen }) {
  const awayBaselines = [...away].filter(([, { baseline }]) => baseline).map(([run]) => run);
  return {
    thresholds: state.thresholds,
    grouped: canGroup && state.grouped,
    runs: wantedRuns(selected, away),
    tag: state.tag,
    baselines: [...awayBaselines, ...baselines.filter((run) => !awayBaselines.includes(run))],
    step: state.tableStep,
    view: state.view,
    metric: state.pivotMetric,
    columns: state.tableColumns,
    curveClass,
    supportThreshold: state.supportThreshold,
    matrixRun: state.matrix.run,
    normalize: state.matrix.normalize,
    matrixStep: state.matrix.step,
    imbalanceStep: state.imbalance.step,
    colour: state.matrix.colour,
    imbalanceRun: state.imbalance.run,
    imbalanceScale: state.imbalance.scale,
    imbalanceOrder: state.imbalance.order,
    trendsMetric: state.trends.metric,
    classFilter: state.classFilter,
    sort: sortChosen ? state.sort : null,
  };
}

/**
 * Writes selections into the page's URL and keeps the link to the view on it.
 * @param {Object} options
 * @param {{href: string}} options.viewLink the link to this view
 * @param {Location} [options.location]
 * @param {History} [options.history]
 * @returns {{write: (selection: Object) => void,
 *   writeTableChoices: (choices: {supportThreshold: number, classFilter: string, sort: Object|null}) => void}}
 *   `write`: writes a selection ({@link urlSelection}) and keeps it; `writeTableChoices`: the kept
 *   selection with the table's own choices (the table redraws its rows alone), once one was written
 */
export function createViewUrl({ viewLink, location = globalThis.location, history = globalThis.history }) {
  let written = null; // the selection last written
  function write(selection) {
    written = selection;
    const search = selectionSearch(location.search, selection);
    if (search === location.search) return;
    try {
      history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
    } catch (error) {
      console.warn("imbalance: could not update the URL:", error.message);
    }
    viewLink.href = location.href;
  }
  return {
    write,
    writeTableChoices({ supportThreshold, classFilter, sort }) {
      if (written) write({ ...written, supportThreshold, classFilter, sort });
    },
  };
}
