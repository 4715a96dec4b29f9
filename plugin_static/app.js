// The dashboard controller: page layout, loading the data each view needs
// for the current selection, and polling for new runs and steps.
import { createDataSource } from "./data-source.js";
import { el, replaceChildren } from "./dom.js";
import { buildReportTable } from "./report-table.js";
import {
  DEFAULT_RUN_LIMIT,
  createStore,
  debounce,
  initialState,
  onlyTableChanged,
  resolveStep,
  startPolling,
  unionSteps,
} from "./state.js";
import { loadImbalance, loadMatrix, loadTableColumns, loadTrends } from "./view-data.js";
import { createImbalanceView } from "./views/imbalance.js";
import { createMatrixView } from "./views/matrix.js";
import { createPickers } from "./views/pickers.js";
import { createSkippedNote } from "./views/skipped-note.js";
import { createTableView } from "./views/table.js";
import { createTrendsView } from "./views/trends.js";

// Tableau 10: distinct, print-friendly run colours.
const RUN_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/** Name of the `performance` mark set when the first full render is done. */
export const FIRST_RENDER_MARK = "imbalance-first-render";

/** Quiet time after the last keystroke in the class filter before the rows are filtered. */
export const FILTER_DELAY_MS = 150;

function section(testid, title, description) {
  const body = el("div", { class: "card-body" });
  const element = el(
    "section",
    { class: "card", dataset: { testid } },
    el("header", { class: "card-header" }, el("h2", {}, title), description ? el("p", { class: "card-description" }, description) : null),
    body,
  );
  return { element, body };
}

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
  let userChoseRuns = Boolean(presets.runs);
  let defaultsApplied = false;
  let generation = 0;
  let lastTrendClasses = null;
  let firstRenderMarked = false;
  let refreshing = 0; // refreshes in flight

  // ---- layout -------------------------------------------------------------
  const sidebar = el("aside", { class: "sidebar", "aria-label": "Selection" });
  const subtitle = el("span", { class: "page-subtitle", dataset: { testid: "page-subtitle" } });
  const status = el("span", { class: "page-status", role: "status", dataset: { testid: "page-status" } });
  const pageMessage = el("div", { class: "page-message", dataset: { testid: "page-message" } }, "Loading runs…");
  const skippedNote = createSkippedNote();
  const reportSection = section(
    "report",
    "Classification report",
    "Per-class precision, recall and F1 of each selected run; click a column header to sort. The bar under recall and precision is its 95% interval (hover for the numbers); differences to the baseline are coloured only when significant at 95%, n.s. otherwise.",
  );
  const matrixSection = section("matrix", "Confusion matrix", "Rows are true classes, columns predicted classes. Hover a cell for counts and shares.");
  const imbalanceSection = section("imbalance", "Imbalance at a glance", "How many samples each class has, next to how often the model predicts it.");
  const trendsSection = section("trends", "Per-class trends", "Recall and F1 of each class across steps, selected runs overlaid.");
  const cardRow = el("div", { class: "card-row" }, matrixSection.element, imbalanceSection.element);
  const sections = el("div", { class: "sections", hidden: true }, reportSection.element, cardRow, trendsSection.element);
  const main = el(
    "main",
    { class: "content" },
    el("header", { class: "page-header" }, el("h1", {}, "Imbalance"), subtitle, status),
    pageMessage,
    skippedNote.element,
    sections,
  );
  replaceChildren(root, el("div", { class: "app", dataset: { testid: "imbalance-root" } }, sidebar, main));

  // ---- actions ------------------------------------------------------------
  const pickers = createPickers(sidebar, {
    onTag: (tag) => {
      const state = store.get();
      lastTrendClasses = null;
      store.set({
        tag,
        tableStep: null,
        matrix: { ...state.matrix, step: null, otherStep: null },
        imbalance: { ...state.imbalance, step: null },
        trends: { ...state.trends, pinned: null },
      });
    },
    onRuns: (runs) => {
      userChoseRuns = true;
      const { baseline } = store.get();
      store.set({ selectedRuns: runs, baseline: runs.includes(baseline) ? baseline : (runs[0] ?? null) });
    },
    onBaseline: (baseline) => store.set({ baseline }),
  });
  // Typing in the class filter only redraws the table rows, once the typing pauses.
  const applyFilter = debounce((classFilter) => store.set({ classFilter }), FILTER_DELAY_MS);
  const table = createTableView(reportSection.body, {
    onStep: (tableStep) => store.set({ tableStep }),
    onSort: (sort) => store.set({ sort }),
    onFilter: (classFilter) => {
      document.body.dataset.state = "loading";
      applyFilter(classFilter);
    },
    onSupportThreshold: (supportThreshold) => store.set({ supportThreshold }),
  });
  const matrix = createMatrixView(matrixSection.body, { onChange: (patch) => store.merge("matrix", patch) });
  const imbalance = createImbalanceView(imbalanceSection.body, { onChange: (patch) => store.merge("imbalance", patch) });
  const trends = createTrendsView(trendsSection.body, { onChange: (patch) => store.merge("trends", patch) });

  // ---- data ---------------------------------------------------------------
  const colours = () =>
    Object.fromEntries(source.allRuns().map((run, index) => [run, RUN_COLOURS[index % RUN_COLOURS.length]]));

  /** Fills in what the URL or the user did not choose (first load, new runs). */
  function applyDefaults() {
    const state = store.get();
    const tags = source.allTags();
    const tag = tags.includes(state.tag) ? state.tag : tags.includes(presets.tag) ? presets.tag : (tags[0] ?? null);
    let selectedRuns = state.selectedRuns.filter((run) => source.hasRun(run));
    if (!userChoseRuns && selectedRuns.length === 0) selectedRuns = source.runsWithTag(tag).slice(0, DEFAULT_RUN_LIMIT);
    const firstLoad = !defaultsApplied;
    if (firstLoad && presets.runs) selectedRuns = source.allRuns().filter((run) => presets.runs.includes(run));
    let baseline = firstLoad && selectedRuns.includes(presets.baseline) ? presets.baseline : state.baseline;
    if (!selectedRuns.includes(baseline)) baseline = selectedRuns[0] ?? null;
    const patch = { tag, selectedRuns, baseline };
    if (firstLoad) {
      patch.tableStep = presets.step;
      patch.supportThreshold = presets.supportThreshold ?? state.supportThreshold;
      patch.matrix = { ...state.matrix, step: presets.step, run: presets.matrixRun, normalize: presets.normalize ?? state.matrix.normalize };
      patch.imbalance = { ...state.imbalance, step: presets.step };
    }
    defaultsApplied = true;
    store.set(patch);
  }

  function pageMessageFor(available, selected) {
    if (source.listError()) return `Could not load runs: ${source.listError()}`;
    if (available.length === 0) return "No confusion matrices found. Log them with tb_imbalance during training, then reload.";
    if (selected.length === 0) return "No run selected. Choose runs in the list on the left.";
    return null;
  }

  /** Runs that failed to load, and runs whose differences could not be tested. */
  function tableMessage(columns) {
    const lines = [
      ...columns.filter((column) => column.error).map((column) => `${column.run}: ${column.error}`),
      ...columns
        .filter((column) => column.comparisonError)
        .map((column) => `${column.run}: differences to the baseline are not tested (${column.comparisonError})`),
    ];
    return lines.length ? lines.join("\n") : null;
  }

  // ---- refresh ------------------------------------------------------------
  /** Marks the page ready once no refresh runs and no filter input waits. */
  function markReady() {
    if (refreshing === 0 && !applyFilter.pending()) document.body.dataset.state = "ready";
  }

  /** Redraws the table rows for the current filter, sort and support threshold. */
  function refreshTableRows() {
    const { classFilter, sort, supportThreshold } = store.get();
    table.updateRows({ filter: classFilter, sort, supportThreshold });
    markReady();
  }

  /** Loads what the current selection needs, then redraws every view. */
  async function refresh() {
    refreshing++;
    try {
      await load();
    } finally {
      refreshing--;
      markReady();
    }
  }

  async function load() {
    const id = ++generation;
    document.body.dataset.state = "loading";
    status.textContent = "Loading…";
    status.classList.add("busy");
    const state = store.get();
    const { tag } = state;
    const available = source.runsWithTag(tag);
    const selected = state.selectedRuns.filter((run) => available.includes(run));
    await source.ensureSteps(tag, selected);
    if (id !== generation) return;

    const readable = selected.filter((run) => source.stepsOf(tag, run)?.length);
    const baseline = readable.includes(state.baseline) ? state.baseline : (readable[0] ?? null);
    const selection = { api, source, state, tag, selected, readable, baseline };
    const [columns, matrixData, imbalanceData, trendData] = await Promise.all([
      loadTableColumns(selection),
      loadMatrix(selection),
      loadImbalance(selection),
      loadTrends(selection),
    ]);
    if (id !== generation) return;
    lastTrendClasses = trendData?.classes ?? null;
    const runColours = colours();

    pickers.update({
      tags: source.allTags(),
      tag,
      runs: available,
      selectedRuns: selected,
      baseline,
      colours: runColours,
      stepErrors: Object.fromEntries(available.filter((run) => source.errorOf(tag, run)).map((run) => [run, source.errorOf(tag, run)])),
    });

    const message = pageMessageFor(available, selected);
    pageMessage.hidden = !message;
    pageMessage.textContent = message ?? "";
    pageMessage.classList.toggle("error", Boolean(source.listError()));
    sections.hidden = Boolean(message);
    skippedNote.update(message ? [] : selected.map((run) => ({ run, skipped: source.skippedOf(tag, run) })));
    // Without readable data only the report card stays, to show the errors.
    cardRow.hidden = readable.length === 0;
    trendsSection.element.hidden = readable.length === 0;
    document.body.dataset.view = source.listError() ? "error" : message ? "empty" : "report";

    const shownColumns = columns.filter((column) => column.report);
    const tableSteps = unionSteps(selected.map((run) => source.stepsOf(tag, run)));
    const tableStep = resolveStep(tableSteps, state.tableStep);
    table.update({
      table: shownColumns.length ? buildReportTable(columns, baseline) : null,
      steps: tableSteps,
      wantedStep: state.tableStep,
      step: tableStep,
      // Table-only state may have changed while this refresh loaded: use the current one.
      sort: store.get().sort,
      filter: store.get().classFilter,
      supportThreshold: store.get().supportThreshold,
      colours: runColours,
      tag: tag ?? "",
      message: tableMessage(columns),
    });

    matrix.update({
      runs: readable,
      run: matrixData.run,
      steps: matrixData.steps,
      wantedStep: state.matrix.step,
      step: matrixData.step,
      report: matrixData.report,
      settings: state.matrix,
      labelA: state.matrix.compare === "steps" ? `step ${matrixData.step}` : `${matrixData.run}, step ${matrixData.step}`,
      other: matrixData.other,
      otherRuns: readable.filter((run) => run !== matrixData.run),
      message: matrixData.error ?? matrixData.other?.error ?? null,
    });

    imbalance.update({
      runs: readable,
      run: imbalanceData.run,
      steps: imbalanceData.steps,
      wantedStep: state.imbalance.step,
      report: imbalanceData.report,
      settings: state.imbalance,
      message: imbalanceData.error,
    });

    trends.update({
      runs: readable.map((run) => ({ run, colour: runColours[run] })),
      baseline,
      series: trendData?.series ?? {},
      classIndices: trendData?.classIndices ?? [],
      names: trendData?.names ?? [],
      metric: state.trends.metric,
      worstCount: state.trends.worstCount,
      pinned: trendData?.pinned ?? null,
      markerStep: state.tableStep === null ? null : tableStep,
      rankedBy: `${state.trends.metric === "f1" ? "F1" : "recall"} (${baseline ?? "baseline"}, latest step)`,
      message: trendData?.error ?? null,
    });

    const classCount = shownColumns[0]?.report.class_names.length ?? 0;
    const subtitleParts = [tag, classCount ? `${classCount} classes` : null, available.length ? `${selected.length} of ${available.length} runs` : null];
    subtitle.textContent = subtitleParts.filter(Boolean).join(" · ");
    status.classList.remove("busy");
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (!firstRenderMarked) {
      // Lets benchmarks read the time from navigation to the first full render.
      performance.mark(FIRST_RENDER_MARK);
      firstRenderMarked = true;
    }
  }

  // ---- polling ------------------------------------------------------------
  /** Picks up new runs and new steps; redraws only when something changed. */
  async function poll() {
    if (await source.loadRunList()) {
      applyDefaults(); // redraws through the store
      return;
    }
    const { tag, selectedRuns } = store.get();
    const runs = selectedRuns.filter((run) => source.runsWithTag(tag).includes(run));
    if (await source.refreshSteps(tag, runs, lastTrendClasses)) await refresh();
  }

  store.subscribe((state, previous) => {
    if (onlyTableChanged(previous, state)) refreshTableRows();
    else refresh();
  });
  const stop = startPolling(poll, presets.pollSeconds);
  source.loadRunList().then(applyDefaults);
  return { refresh, stop };
}
