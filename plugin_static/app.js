// The dashboard controller: wires the page's parts together (views/page-layout.js, the report card's
// controls, the views) and loads the data each view needs for the current selection;
// run-following.js follows the run list, view-url.js writes the view into the URL.
import { createDataSource } from "./data-source.js";
import { el, isolatedText, replaceChildren } from "./dom.js";
import { runText } from "./format.js";
import { RUN_COLOURS, runDashes } from "./run-looks.js";
import { assignColours, buildPivot, classCountText, groupByClassSet, pivotMetricOptions, resolveBaselines } from "./pivot.js";
import { buildReportTables, defaultSort, hasCurves } from "./report-table.js";
import { createRunFollower } from "./run-following.js";
import { awayLines, tableMessage as runsMessage, tableNote } from "./run-messages.js";
import { createCheckTimes, createStatusLine } from "./status-line.js";
import { hasColumnChoice } from "./table-columns.js";
import {
  DEFAULT_RUN_LIMIT,
  createStore,
  debounce,
  dropAwayBaselines,
  initialState,
  onlyTableChanged,
  resolveStep,
  startPolling,
  unionSteps,
} from "./state.js";
import { createViewUrl, urlSelection } from "./view-url.js";
import { loadCurves, loadImbalance, loadMatrix, loadTableColumns, loadTrends } from "./view-data.js";
import { createCurvesView } from "./views/curves.js";
import { showDifferences, significanceLegend } from "./views/delta.js";
import { getStarted } from "./views/get-started.js";
import { createExamplesPanel } from "./views/examples.js";
import { createImbalanceView } from "./views/imbalance.js";
import { createMatrixView } from "./views/matrix.js";
import { createPageLayout } from "./views/page-layout.js";
import { createPivotView } from "./views/pivot.js";
import { createPickers } from "./views/pickers.js";
import { createReportControls } from "./views/report-controls.js";
import { createTableView } from "./views/table.js";
import { createTrendsView } from "./views/trends.js";

/** Name of the `performance` mark set when the first full render is done. */
export const FIRST_RENDER_MARK = "imbalance-first-render";

/** Quiet time after the last keystroke in the class filter before the rows are filtered. */
export const FILTER_DELAY_MS = 150;

/**
 * Starts the dashboard in `root`.
 * @param {Object} options
 * @param {HTMLElement} options.root element to render into
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {ReturnType<import("./state.js").readPresets>} options.presets
 * @returns {{refresh: () => Promise<void>, stop: () => void}}
 */
export function startApp({ root, api, presets }) {
  const store = createStore(initialState());
  const source = createDataSource(api);
  const away = new Map(); // selected runs not in the log directory now → {baseline, index, since} (run-following.js)
  let generation = 0;
  let lastTrendClasses = null;
  let lastOtherClassSets = []; // runs whose class set is not the one the trends draw
  let lastBaselines = []; // the baseline of each class set, as last drawn
  let firstRenderMarked = false;
  let refreshing = 0; // refreshes in flight
  let colourByRun = Object.create(null); // run -> colour, kept while the page lives
  let sortChosen = false; // the user sorted the table: many classes no longer start worst recall first
  let largeTableSort = null; // defaultSort of the tables last drawn

  // ---- layout -------------------------------------------------------------
  const layout = createPageLayout(root, { pollSeconds: presets.pollSeconds });
  const { sidebar, subtitle, status, pageMessage, linkNote, viewLink, skippedNote } = layout;
  const { reportSection, matrixSection, imbalanceSection, curvesSection, trendsSection, cardRow, sections } = layout;
  const checks = createCheckTimes(); // the status line's times
  const statusLine = createStatusLine({ element: status, checks, pollSeconds: presets.pollSeconds, listError: () => source.listError() });
  const viewUrl = createViewUrl({ viewLink });

  // ---- actions ------------------------------------------------------------
  const pickers = createPickers(sidebar, {
    onTag: (tag) => {
      const state = store.get();
      lastTrendClasses = null;
      // A tag none of whose runs is selected starts with its first runs selected, not an empty page.
      const withTag = source.runsWithTag(tag);
      const none = !state.selectedRuns.some((run) => withTag.includes(run));
      store.set({
        tag,
        selectedRuns: none ? [...state.selectedRuns, ...withTag.slice(0, DEFAULT_RUN_LIMIT)] : state.selectedRuns,
        tableStep: null,
        matrix: { ...state.matrix, step: null, otherStep: null },
        imbalance: { ...state.imbalance, step: null },
        trends: { ...state.trends, pinned: null, classSet: 0 },
        baselines: [],
      });
    },
    onRuns: (runs) => {
      runList.chooseRuns();
      linkNote.hidden = true;
      away.clear(); // the user's own choice replaces what was set aside
      const { baselines } = store.get();
      store.set({ selectedRuns: runs, baselines: baselines.filter((run) => runs.includes(run)) });
    },
    // A new baseline for one class set; the other sets keep theirs.
    onBaseline: (run, classSet) => {
      dropAwayBaselines(away);
      const baselines = lastBaselines.map((current, index) => (index === classSet ? run : current));
      store.set({ baselines: baselines.length ? baselines : [run] });
    },
  });
  // Typing in the class filter only redraws the table rows, once the typing pauses.
  const applyFilter = debounce((classFilter) => store.set({ classFilter }), FILTER_DELAY_MS);
  const controls = createReportControls({ store });
  const pivotMessage = el("div", { class: "pivot-message", hidden: true, dataset: { testid: "pivot-message" } });
  const tableHost = el("div", { class: "report-view", dataset: { testid: "table-view" } });
  const pivotHost = el("div", { class: "report-view", hidden: true, dataset: { testid: "pivot-view" } });
  const legend = significanceLegend();
  reportSection.body.append(controls.element, legend, tableHost, pivotHost);
  pivotHost.append(pivotMessage);
  const pivot = createPivotView(pivotHost);
  const table = createTableView(tableHost, {
    onStep: (tableStep) => store.set({ tableStep }),
    onSort: (sort) => {
      sortChosen = true;
      store.set({ sort });
    },
    onFilter: (classFilter) => {
      document.body.dataset.state = "loading";
      applyFilter(classFilter);
    },
    onSupportThreshold: (supportThreshold) => store.set({ supportThreshold }),
  });
  // The examples behind a cell, of the matrix's run at the matrix's step.
  let matrixShown = { run: null, tag: null, step: null };
  const examples = createExamplesPanel({ api });
  const matrix = createMatrixView(matrixSection.body, {
    onChange: (patch) => store.merge("matrix", patch),
    onExamples: (cell) => {
      if (matrixShown.run !== null && matrixShown.step !== null) examples.open({ ...matrixShown, ...cell });
    },
  });
  matrixSection.body.append(examples.element);
  const imbalance = createImbalanceView(imbalanceSection.body, { onChange: (patch) => store.merge("imbalance", patch) });
  const trends = createTrendsView(trendsSection.body, { onChange: (patch) => store.merge("trends", patch) });
  const curves = createCurvesView(curvesSection.body, { onClass: (curveClass) => store.set({ curveClass }) });

  // ---- data ---------------------------------------------------------------
  // A run keeps its colour when other runs appear or disappear; the selected
  // runs get theirs first, distinct while the palette lasts.
  const colours = (selected, available) => {
    colourByRun = assignColours(selected, colourByRun, RUN_COLOURS);
    colourByRun = assignColours(available, colourByRun, RUN_COLOURS);
    return colourByRun;
  };

  /** The run list could not be read and no runs are known (a failed check with runs known keeps them, see poll in run-following.js). */
  const listFailed = () => Boolean(source.listError()) && source.allRuns().length === 0;

  function pageMessageFor(available, selected) {
    if (listFailed()) return `Could not load runs: ${source.listError()}`;
    if (selected.length === 0 && away.size) return awayLines(away).join("\n");
    if (available.length === 0) {
      return "No confusion matrices in this log directory yet. Log them with tb_imbalance while training:";
    }
    if (selected.length === 0) return "No run selected. Choose runs in the list on the left.";
    return null;
  }

  /** The report's message: runs set aside, runs that failed to load, untested differences. */
  const tableMessage = (columns) => runsMessage(columns, away);

  /** The table's sort: the chosen one, or for many classes worst recall first (see defaultSort). */
  function tableSort() {
    return (!sortChosen && largeTableSort) || store.get().sort;
  }

  // ---- refresh ------------------------------------------------------------
  /** Marks the page ready once no refresh runs and no filter input waits. */
  function markReady() {
    if (refreshing === 0 && !applyFilter.pending()) document.body.dataset.state = "ready";
  }

  /** Redraws the table rows for the current filter, sort and support threshold. */
  function refreshTableRows() {
    const { classFilter, supportThreshold, sort } = store.get();
    table.updateRows({ filter: classFilter, sort: tableSort(), supportThreshold });
    viewUrl.writeTableChoices({ supportThreshold, classFilter, sort: sortChosen ? sort : null });
    markReady();
  }

  /** Loads what the current selection needs, then redraws every view. */
  async function refresh() {
    refreshing++;
    try {
      await load();
    } finally {
      refreshing--;
      showStatus();
      markReady();
    }
  }

  async function load() {
    const id = ++generation;
    document.body.dataset.state = "loading";
    statusLine.loading();
    const state = store.get();
    const { tag } = state;
    const available = source.runsWithTag(tag);
    const selected = state.selectedRuns.filter((run) => available.includes(run));
    await source.ensureSteps(tag, selected);
    if (id !== generation) return;

    const readable = selected.filter((run) => source.stepsOf(tag, run)?.length);
    api.keepFor(readable.length);
    // Each class set has its own baseline: known once the reports say which runs share classes.
    const chosen = state.baselines.filter((run) => readable.includes(run));
    const columns = await loadTableColumns({ api, source, state, tag, selected, readable, baselines: chosen });
    if (id !== generation) return;
    const baselines = resolveBaselines(columns, chosen);
    const classSets = groupByClassSet(columns, baselines);
    lastBaselines = baselines;
    // One run per class set: no difference to the baseline to explain (the sidebar says what would give one).
    showDifferences(legend, classSets.some((set) => set.columns.length > 1));
    // The first class set's baseline is the matrix's and the imbalance view's default run.
    const baseline = classSets[0]?.baseline ?? readable[0] ?? null;
    // The runs a matrix can be subtracted from: those of its class set (all readable ones before reports say).
    const classSetOf = (run) => classSets.find((set) => set.columns.some((column) => column.run === run))?.columns.map((column) => column.run) ?? readable;
    const selection = { api, source, state, tag, selected, readable, baseline, baselines, classSetOf };
    // The trends draw one class set: its runs, ranked by its baseline.
    const trendSetIndex = Math.min(state.trends.classSet ?? 0, Math.max(classSets.length - 1, 0));
    const trendSet = classSets[trendSetIndex] ?? null;
    const trendRuns = trendSet ? readable.filter((run) => trendSet.columns.some((column) => column.run === run)) : readable;
    const trendBaseline = trendSet?.baseline ?? baseline;
    const [matrixData, imbalanceData, trendData, curveData] = await Promise.all([
      loadMatrix(selection),
      loadImbalance(selection),
      loadTrends({ ...selection, readable: trendRuns, baseline: trendBaseline }),
      loadCurves(selection),
    ]);
    if (id !== generation) return;
    const setLabel = (set, index) => `class set ${index + 1} (${set.classNames.length} classes)`;
    lastTrendClasses = trendData?.classes ?? null;
    lastOtherClassSets = [...readable.filter((run) => !trendRuns.includes(run)), ...(trendData?.otherClassSets ?? [])];
    const runColours = colours(selected, available);
    const dashes = runDashes(runColours, RUN_COLOURS); // lines tell runs apart without their colours too

    pickers.update({
      tags: source.allTags(),
      tag,
      runs: available,
      selectedRuns: selected,
      classSets: classSets.map((set, index) => ({ label: setLabel(set, index), runs: set.columns.map((column) => column.run), baseline: set.baseline })),
      colours: runColours,
      // Without a prototype: a run named "constructor" or "toString" has no error of Object's.
      stepErrors: Object.assign(Object.create(null), Object.fromEntries(available.filter((run) => source.errorOf(tag, run)).map((run) => [run, source.errorOf(tag, run)]))),
    });

    const message = pageMessageFor(available, selected);
    pageMessage.hidden = !message;
    replaceChildren(pageMessage, ...isolatedText(message ?? ""));
    if (available.length === 0 && !source.listError() && !away.size) pageMessage.append(getStarted(presets.pollSeconds > 0));
    pageMessage.classList.toggle("error", listFailed());
    sections.hidden = Boolean(message);
    skippedNote.update(message ? [] : selected.map((run) => ({ run, skipped: source.skippedOf(tag, run) })));
    // Without readable data only the report card stays, to show the errors.
    cardRow.hidden = readable.length === 0;
    trendsSection.element.hidden = readable.length === 0;
    // Only runs logged with scores have curves: without any, no panel.
    curvesSection.element.hidden = !curveData.shown;
    document.body.dataset.view = listFailed() ? "error" : message ? "empty" : "report";

    const shownColumns = columns.filter((column) => column.report);
    const tableSteps = unionSteps(selected.map((run) => source.stepsOf(tag, run)));
    const tableStep = resolveStep(tableSteps, state.tableStep);
    const pivotShown = state.view === "pivot";
    tableHost.hidden = pivotShown;
    pivotHost.hidden = !pivotShown;
    const canGroup = readable.some((run) => source.classGroupsOf(tag, run) !== null);
    controls.update({
      view: state.view,
      steps: tableSteps,
      wantedStep: state.tableStep,
      longTail: readable.some((run) => source.hasTrainCounts(tag, run)),
      thresholds: state.thresholds,
      canGroup,
      grouped: state.grouped,
      metrics: pivotMetricOptions(hasCurves(columns), state.pivotMetric),
      metric: state.pivotMetric,
    });
    if (pivotShown) {
      const pivotText = tableMessage(columns);
      pivotMessage.hidden = !pivotText;
      replaceChildren(pivotMessage, ...isolatedText(pivotText ?? ""));
      pivot.update({
        groups: shownColumns.length ? buildPivot(columns, baselines, state.pivotMetric) : null,
        note: tableNote(columns),
        metric: state.pivotMetric,
        colours: runColours,
      });
    }
    // The hidden view is drawn when it is shown (switching views redraws).
    const tables = !pivotShown && shownColumns.length ? buildReportTables(columns, baselines) : null;
    const nextDefault = defaultSort(tables);
    // Kept as the same object while it says the same, so that the table redraws no headers for it.
    if (JSON.stringify(nextDefault) !== JSON.stringify(largeTableSort)) largeTableSort = nextDefault;
    controls.updateColumns({ shown: !pivotShown && Boolean(tables?.some(hasColumnChoice)), columns: state.tableColumns });
    if (!pivotShown) table.update({
      tables,
      steps: tableSteps,
      wantedStep: state.tableStep,
      step: tableStep,
      // Table-only state may have changed while this refresh loaded: use the current one.
      sort: tableSort(),
      filter: store.get().classFilter,
      supportThreshold: store.get().supportThreshold,
      colours: runColours,
      tag: tag ?? "",
      columns: state.tableColumns,
      message: tableMessage(columns),
      note: tableNote(columns),
    });

    const matrixGrouped = Boolean(state.grouped && matrixData.run !== null && source.classGroupsOf(tag, matrixData.run) !== null);
    matrixShown = { run: matrixData.run, tag, step: matrixData.report ? matrixData.step : null };
    matrix.update({
      runs: readable,
      run: matrixData.run,
      steps: matrixData.steps,
      wantedStep: state.matrix.step,
      step: matrixData.step,
      report: matrixData.report,
      settings: state.matrix,
      labelA: state.matrix.compare === "steps" || matrixData.run === null ? `step ${matrixData.step}` : `${runText(matrixData.run)}, step ${matrixData.step}`,
      other: matrixData.other,
      otherRuns: classSetOf(matrixData.run).filter((run) => run !== matrixData.run),
      grouped: matrixGrouped,
      message: matrixData.error ?? matrixData.other?.error ?? null,
      note: matrixData.other?.note ?? null,
    });
    examples.update({ ...matrixShown, grouped: matrixGrouped });

    imbalance.update({
      runs: readable,
      run: imbalanceData.run,
      steps: imbalanceData.steps,
      wantedStep: state.imbalance.step,
      report: imbalanceData.report,
      settings: state.imbalance,
      thresholds: state.thresholds,
      message: imbalanceData.error,
    });

    trends.update({
      runs: trendRuns.map((run) => ({ run, colour: runColours[run], dash: dashes[run] })),
      baseline: trendBaseline,
      classSets: classSets.map(setLabel),
      classSet: trendSetIndex,
      series: trendData?.series ?? {},
      classIndices: trendData?.classIndices ?? [],
      names: trendData?.names ?? [],
      metric: state.trends.metric,
      worstCount: state.trends.worstCount,
      pinned: trendData?.pinned ?? null,
      markerStep: state.tableStep === null ? null : tableStep,
      rankedBy: `${state.trends.metric === "f1" ? "F1" : "recall"} (${trendBaseline === null ? "baseline" : runText(trendBaseline)}, latest step)`,
      message: trendData?.error ?? null,
    });

    curves.update({ ...curveData, colours: runColours, dashes });

    const subtitleParts = [tag, classCountText(classSets, canGroup && state.grouped), available.length ? `${selected.length} of ${available.length} runs` : null];
    subtitle.textContent = subtitleParts.filter(Boolean).join(" · ");
    viewUrl.write(urlSelection(state, { selected, away, baselines, canGroup, curveClass: curveData.isDefault ? null : curveData.className, sortChosen }));
    if (!firstRenderMarked) {
      // Lets benchmarks read the time from navigation to the first full render.
      performance.mark(FIRST_RENDER_MARK);
      firstRenderMarked = true;
    }
  }

  // ---- status and polling (run-following.js) -------------------------------
  /** The status line: when the server last answered, and when that last brought something new. */
  function showStatus() {
    if (refreshing > 0) return; // the refresh shows it when it is done
    statusLine.show();
  }

  store.subscribe((state, previous) => {
    if (onlyTableChanged(previous, state)) refreshTableRows();
    else refresh();
  });
  const runList = createRunFollower({
    store,
    source,
    presets,
    away,
    checks,
    classesOf: (run) => (lastOtherClassSets.includes(run) ? null : lastTrendClasses),
    showNote: (text) => {
      replaceChildren(linkNote, ...isolatedText(text));
      linkNote.hidden = !text;
    },
    onSortChosen: () => {
      sortChosen = true;
    },
    refresh,
    showStatus,
  });
  const stop = startPolling(runList.poll, presets.pollSeconds);
  runList.checkRunList().then(() => runList.applyDefaults());
  return { refresh, stop };
}
