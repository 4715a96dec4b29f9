// Imbalance at a glance: per class, how many samples it has (support) next
// to how often the model predicts it.
import { el, field, replaceChildren, select, setOptions } from "../dom.js";
import { formatCount, runLabel } from "../format.js";
import { createStepSlider } from "./step-slider.js";
import { createVirtualRows } from "./virtual-rows.js";

const ROW_HEIGHT = 30;
const SCALES = [
  ["linear", "Linear"],
  ["log", "Log"],
];
const ORDERS = [
  ["support", "Support (largest first)"],
  ["predicted", "Predicted (largest first)"],
  ["ratio", "Predicted ÷ support"],
  ["index", "Class order"],
];

/**
 * Creates the imbalance section.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(patch: Object) => void} actions.onChange merges into the imbalance settings
 * @returns {{update: (view: Object) => void}}
 */
export function createImbalanceView(container, { onChange }) {
  let scaleOf = () => 0;

  const runSelect = select([], null, { dataset: { testid: "imbalance-run" } });
  runSelect.addEventListener("change", () => onChange({ run: runSelect.value, step: null }));
  const slider = createStepSlider({ testid: "imbalance", onChange: (step) => onChange({ step }) });
  const scaleSelect = select(SCALES, "linear", { dataset: { testid: "imbalance-scale" } });
  scaleSelect.addEventListener("change", () => onChange({ scale: scaleSelect.value }));
  const orderSelect = select(ORDERS, "support", { dataset: { testid: "imbalance-order" } });
  orderSelect.addEventListener("change", () => onChange({ order: orderSelect.value }));

  const summary = el("div", { class: "stat-row", dataset: { testid: "imbalance-summary" } });
  const list = el("div", { class: "bar-list" });
  const scroller = el("div", { class: "bar-scroll", dataset: { testid: "imbalance-chart" } }, list);
  const message = el("div", { class: "section-message", hidden: true });

  container.append(
    el("div", { class: "toolbar" }, field("Run", runSelect), slider.element),
    el("div", { class: "toolbar" }, field("Scale", scaleSelect), field("Order", orderSelect)),
    message,
    summary,
    el(
      "div",
      { class: "legend" },
      el("span", { class: "legend-item" }, el("span", { class: "swatch bar-support" }), "support (true samples)"),
      el("span", { class: "legend-item" }, el("span", { class: "swatch bar-predicted" }), "predicted as the class"),
    ),
    scroller,
  );

  const virtualRows = createVirtualRows({
    scroller,
    body: list,
    rowHeight: ROW_HEIGHT,
    renderSpacer: (height) => el("div", { class: "spacer", style: { height: `${height}px` } }),
    renderRow: (row) => {
      const ratio = row.support ? row.predicted / row.support : null;
      const tone = ratio === null ? "" : ratio < 0.8 ? " under" : ratio > 1.25 ? " over" : "";
      return el(
        "div",
        {
          class: "bar-row",
          dataset: { testid: "imbalance-row", class: row.name, support: String(row.support), predicted: String(row.predicted) },
          title: `${row.name}: support ${formatCount(row.support)}, predicted ${formatCount(row.predicted)}`,
        },
        el("span", { class: "bar-label" }, row.name),
        el(
          "span",
          { class: "bars" },
          el("span", { class: "bar bar-support", style: { width: `${scaleOf(row.support) * 100}%` } }),
          el("span", { class: "bar bar-predicted", style: { width: `${scaleOf(row.predicted) * 100}%` } }),
        ),
        el(
          "span",
          { class: "bar-numbers" },
          `${formatCount(row.support)} / ${formatCount(row.predicted)}`,
          el("span", { class: `ratio${tone}` }, ratio === null ? "" : `×${ratio.toFixed(2)}`),
        ),
      );
    },
  });

  function sortRows(rows, order) {
    const key = {
      support: (row) => -row.support,
      predicted: (row) => -row.predicted,
      ratio: (row) => (row.support ? row.predicted / row.support : Infinity),
      index: (row) => row.index,
    }[order];
    return rows.sort((a, b) => key(a) - key(b) || a.index - b.index);
  }

  function drawSummary(rows) {
    const present = rows.filter((row) => row.support > 0);
    const supports = present.map((row) => row.support);
    const largest = Math.max(...supports);
    const smallest = Math.min(...supports);
    const neverPredicted = present.filter((row) => row.predicted === 0).length;
    const stat = (label, value, testid) =>
      el("div", { class: "stat", dataset: { testid } }, el("span", { class: "stat-value" }, value), el("span", { class: "stat-label" }, label));
    replaceChildren(
      summary,
      stat("classes", String(rows.length), "stat-classes"),
      stat("largest ÷ smallest support", present.length ? `${(largest / smallest).toFixed(1)}×` : "–", "stat-imbalance-ratio"),
      stat("classes never predicted", String(neverPredicted), "stat-never-predicted"),
      stat("classes without samples", String(rows.length - present.length), "stat-empty"),
    );
  }

  return {
    /**
     * @param {{runs: string[], run: string|null, steps: number[], wantedStep: number|null,
     *   report: Object|null, settings: {scale: string, order: string}, message: string|null}} view
     */
    update(view) {
      setOptions(runSelect, view.runs.map((run) => [run, runLabel(run)]), view.run);
      slider.update(view.steps, view.wantedStep);
      scaleSelect.value = view.settings.scale;
      orderSelect.value = view.settings.order;
      message.hidden = !view.message;
      message.textContent = view.message ?? "";
      if (!view.report) {
        replaceChildren(summary);
        virtualRows.setRows([]);
        scroller.hidden = true;
        return;
      }
      scroller.hidden = false;
      const { support, predicted } = view.report.per_class;
      const rows = view.report.class_names.map((name, index) => ({ index, name, support: support[index], predicted: predicted[index] }));
      const max = Math.max(1, ...support, ...predicted);
      scaleOf = view.settings.scale === "log" ? (value) => Math.log1p(value) / Math.log1p(max) : (value) => value / max;
      drawSummary(rows);
      virtualRows.setRows(sortRows(rows, view.settings.order));
    },
  };
}
