// The report card's controls: its two views (side by side, pivot), the pivot's metric and step, the
// side-by-side table's columns, classes or class groups, and the long-tail thresholds. Each sets
// the page's state in the store; the page redraws them from it.
import { el, field, select, setOptions } from "../dom.js";
import { parseThresholds } from "../long-tail.js";
import { PIVOT_METRICS } from "../pivot.js";
import { COLUMN_SETS, DEFAULT_COLUMN_SET, sortForFields } from "../table-columns.js";
import { createStepSlider } from "./step-slider.js";

/**
 * The report card's row of controls.
 * @param {Object} options
 * @param {ReturnType<import("../state.js").createStore>} options.store the page's state
 * @returns {{element: HTMLElement, update: (shown: Object) => void,
 *   updateColumns: (shown: {shown: boolean, columns: string}) => void}} `update` takes `view`,
 *   `steps` and `wantedStep` (the pivot's step slider), `longTail` (the runs have training counts:
 *   the thresholds are shown), `thresholds`, `canGroup` (the runs have class groups), `grouped`,
 *   `metrics` (the pivot's metrics offered: `[key, label]` pairs) and `metric`; `updateColumns`
 *   whether the table's column sets are offered, and the one chosen
 */
export function createReportControls({ store }) {
  // The report card's two views: side by side (every score per run) and the pivot (one metric).
  const viewButton = (view, label) => {
    const button = el("button", { type: "button", class: "button", dataset: { testid: `view-${view}` } }, label);
    button.addEventListener("click", () => store.set({ view }));
    return button;
  };
  const viewButtons = { table: viewButton("table", "Side by side"), pivot: viewButton("pivot", "Pivot") };
  const metricSelect = select(
    PIVOT_METRICS.map((metric) => [metric.key, metric.label]),
    "recall",
    { dataset: { testid: "pivot-metric" } },
  );
  metricSelect.addEventListener("change", () => store.set({ pivotMetric: metricSelect.value }));
  const metricField = field("Metric", metricSelect);
  // The side-by-side table's columns, when a run has curves: the decision's scores or the ranking and calibration ones.
  const columnsSelect = select(
    COLUMN_SETS.map((set) => [set.key, set.label]),
    DEFAULT_COLUMN_SET,
    { class: "columns-select", dataset: { testid: "table-columns" } },
  );
  columnsSelect.addEventListener("change", () => {
    const columnSet = COLUMN_SETS.find((set) => set.key === columnsSelect.value) ?? COLUMN_SETS[0];
    // A sort by a column the new set does not show falls back to class order.
    store.set({ tableColumns: columnSet.key, sort: sortForFields(store.get().sort, columnSet.fields) });
  });
  const columnsField = field("Columns", columnsSelect);
  const pivotSlider = createStepSlider({ testid: "pivot", label: "Report step", onChange: (tableStep) => store.set({ tableStep }) });
  // Long-tail thresholds (shown when the runs have training counts per class).
  const manyInput = el("input", { type: "number", min: "1", step: "1", class: "number-input", dataset: { testid: "threshold-many" } });
  const fewInput = el("input", { type: "number", min: "0", step: "1", class: "number-input", dataset: { testid: "threshold-few" } });
  const thresholdFields = el(
    "div",
    {
      class: "threshold-fields",
      hidden: true,
      dataset: { testid: "long-tail-thresholds" },
      title: "Many-shot: more than this many training examples; few-shot: fewer than this many; medium-shot: in between (inclusive).",
    },
    field("Many-shot >", manyInput),
    field("Few-shot <", fewInput),
  );
  const onThreshold = () => {
    const thresholds = parseThresholds(manyInput.value, fewInput.value);
    const problem = thresholds ? "" : "Whole numbers ≥ 0, few-shot less than many-shot";
    for (const input of [manyInput, fewInput]) {
      input.setCustomValidity(problem);
      input.setAttribute("aria-invalid", String(Boolean(problem)));
    }
    const current = store.get().thresholds;
    if (thresholds && (thresholds.many !== current.many || thresholds.few !== current.few)) store.set({ thresholds });
  };
  manyInput.addEventListener("change", onThreshold);
  fewInput.addEventListener("change", onThreshold);
  // Classes / Groups (shown when the runs' tag has class groups).
  const groupButton = (grouped, label) => {
    const button = el("button", { type: "button", class: "button", dataset: { testid: grouped ? "show-groups" : "show-classes" } }, label);
    button.addEventListener("click", () => store.set({ grouped }));
    return button;
  };
  const groupButtons = { classes: groupButton(false, "Classes"), groups: groupButton(true, "Groups") };
  const groupSwitch = el(
    "div",
    { class: "button-group", role: "group", "aria-label": "Classes or groups", hidden: true, dataset: { testid: "group-switch" } },
    groupButtons.classes,
    groupButtons.groups,
  );
  const element = el(
    "div",
    { class: "view-switch" },
    el("div", { class: "button-group", role: "group", "aria-label": "View" }, viewButtons.table, viewButtons.pivot),
    metricField,
    columnsField,
    pivotSlider.element,
    groupSwitch,
    thresholdFields,
  );

  function update({ view, steps, wantedStep, longTail, thresholds, canGroup, grouped, metrics, metric }) {
    const pivotShown = view === "pivot";
    metricField.hidden = !pivotShown;
    pivotSlider.element.hidden = !pivotShown;
    for (const [key, button] of Object.entries(viewButtons)) button.setAttribute("aria-pressed", String(key === view));
    thresholdFields.hidden = !longTail;
    if (document.activeElement !== manyInput) manyInput.value = String(thresholds.many);
    if (document.activeElement !== fewInput) fewInput.value = String(thresholds.few);
    groupSwitch.hidden = !canGroup;
    groupButtons.classes.setAttribute("aria-pressed", String(!(canGroup && grouped)));
    groupButtons.groups.setAttribute("aria-pressed", String(canGroup && grouped));
    setOptions(metricSelect, metrics, metric);
    if (pivotShown) pivotSlider.update(steps, wantedStep);
  }

  function updateColumns({ shown, columns }) {
    columnsField.hidden = !shown;
    columnsSelect.value = columns;
  }

  return { element, update, updateColumns };
}
