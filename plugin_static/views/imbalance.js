// Imbalance at a glance: per class, how many samples it has (support) next
// to how often the model predicts it.
import { el, field, replaceChildren, select, setOptions, svg } from "../dom.js";
import { classText, formatCount, formatScore, shownName, shownRun } from "../format.js";
import { bucketOf, circlesPath, logScale, logTicks, nearestPoint } from "../long-tail.js";
import { IMBALANCE_ORDERS as ORDERS, IMBALANCE_SCALES as SCALES } from "../state.js";
import { createStepSlider } from "./step-slider.js";
import { hideTooltip, showTooltip } from "./tooltip.js";
import { createVirtualRows } from "./virtual-rows.js";
import { classNameElement } from "./class-name.js";

const ROW_HEIGHT = 30;
const PLOT = { width: 420, height: 200, left: 34, right: 10, top: 10, bottom: 30 };
const BUCKET_NAMES = { many: "many-shot", medium: "medium-shot", few: "few-shot" };
const POINT_RADIUS = 3.5;
/**
 * Up to this many classes each point of the long-tail plot is an element with its own
 * hover text; above, the points of one look (bucket, with or without validation examples)
 * are one path, and hovering finds the nearest point (10,000 elements slow the first render).
 */
const POINTS_AS_ELEMENTS = 1000;

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
  const slider = createStepSlider({ testid: "imbalance", label: "Imbalance step", onChange: (step) => onChange({ step }) });
  const scaleSelect = select(SCALES, "linear", { dataset: { testid: "imbalance-scale" } });
  scaleSelect.addEventListener("change", () => onChange({ scale: scaleSelect.value }));
  const orderSelect = select(ORDERS, "support", { dataset: { testid: "imbalance-order" } });
  orderSelect.addEventListener("change", () => onChange({ order: orderSelect.value }));

  const summary = el("div", { class: "stat-row", dataset: { testid: "imbalance-summary" } });
  const list = el("div", { class: "bar-list" });
  const scroller = el("div", { class: "bar-scroll", dataset: { testid: "imbalance-chart" } }, list);
  const message = el("div", { class: "section-message", hidden: true });
  // Recall against training examples per class (when the tag has class counts).
  const plot = el(
    "figure",
    { class: "long-tail-plot", hidden: true, dataset: { testid: "recall-vs-count" } },
    el("figcaption", {}, "Recall against training examples per class (log scale); dashed lines are the few-shot and many-shot thresholds."),
  );
  const plotHost = el("div", { class: "long-tail-plot-body" });
  let pathPoints = null; // the points drawn as paths: hover finds the nearest
  plotHost.addEventListener("mousemove", (event) => {
    const chart = plotHost.querySelector("svg");
    if (!pathPoints || !chart) return;
    const box = chart.getBoundingClientRect();
    const unit = box.width / PLOT.width; // the viewBox keeps its aspect ratio
    const index = nearestPoint(pathPoints, (event.clientX - box.left) / unit, (event.clientY - box.top) / unit, POINT_RADIUS * 2);
    if (index < 0) {
      hideTooltip();
      return;
    }
    const point = pathPoints[index];
    showTooltip(event, el("bdi", {}, shownName(point.name)), [pointText(point)], "class-point-tooltip");
  });
  plotHost.addEventListener("mouseleave", hideTooltip);
  // What the point colours and the dashed lines mean, with the current thresholds.
  const plotLegend = el("div", { class: "legend", dataset: { testid: "recall-vs-count-legend" } });
  plot.append(plotHost, plotLegend);

  container.append(
    el("div", { class: "toolbar" }, field("Run", runSelect), slider.element),
    el("div", { class: "toolbar" }, field("Scale", scaleSelect), field("Order", orderSelect)),
    message,
    summary,
    plot,
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
          title: `${classText(row.name)}: support ${formatCount(row.support)}, predicted ${formatCount(row.predicted)}`,
        },
        el("span", { class: "bar-label" }, classNameElement(row.name)),
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
    // Loops, not spread arguments: tens of thousands of classes would overflow the call stack.
    const largest = supports.reduce((max, value) => Math.max(max, value), -Infinity);
    const smallest = supports.reduce((min, value) => Math.min(min, value), Infinity);
    const neverPredicted = present.filter((row) => row.predicted === 0).length;
    const stat = (label, value, testid) =>
      el("div", { class: "stat", dataset: { testid } }, el("span", { class: "stat-value" }, value), el("span", { class: "stat-label" }, label));
    replaceChildren(
      summary,
      stat("classes", String(rows.length), "stat-classes"),
      stat("largest ÷ smallest support", present.length ? `${(largest / smallest).toFixed(1)}×` : "–", "stat-imbalance-ratio"),
      stat(neverPredicted === 1 ? "class never predicted" : "classes never predicted", String(neverPredicted), "stat-never-predicted"),
      stat(rows.length - present.length === 1 ? "class without samples" : "classes without samples", String(rows.length - present.length), "stat-empty"),
    );
  }

  /** What a point says on hover, after the class name. */
  function pointText({ recall, count, bucket, hasSamples }) {
    return `recall ${formatScore(recall)}, ${formatCount(count)} training examples (${BUCKET_NAMES[bucket]})${hasSamples ? "" : ", no validation examples"}`;
  }

  /** Every class as a circle with its own title: `class-point` elements. */
  function pointElements(points) {
    return points.map((point) =>
      svg(
        "circle",
        {
          class: `class-point bucket-${point.bucket}${point.hasSamples ? "" : " no-samples"}`,
          cx: point.x.toFixed(1),
          cy: point.y.toFixed(1),
          r: POINT_RADIUS,
          dataset: { testid: "class-point", class: point.name, count: String(point.count), recall: String(point.recall), bucket: point.bucket },
        },
        // Class names are user data: a text node inside <title>, never markup.
        svg("title", {}, `${classText(point.name)}: ${pointText(point)}`),
      ),
    );
  }

  /** The points of each look as one path: `class-points` elements, saying how many points they draw. */
  function pointPaths(points) {
    const looks = new Map();
    for (const point of points) {
      const look = `bucket-${point.bucket}${point.hasSamples ? "" : " no-samples"}`;
      if (!looks.has(look)) looks.set(look, []);
      looks.get(look).push(point);
    }
    return [...looks].map(([look, members]) =>
      svg("path", {
        class: `class-point ${look}`,
        d: circlesPath(members, POINT_RADIUS),
        dataset: { testid: "class-points", bucket: members[0].bucket, samples: String(members[0].hasSamples), points: String(members.length) },
      }),
    );
  }

  function drawPlot(report, thresholds) {
    const counts = report.per_class.train_count;
    const { recall, support } = report.per_class;
    const { width, height, left, right, top, bottom } = PLOT;
    const scale = logScale([...counts, thresholds.few, thresholds.many], left, width - right);
    const y = (value) => top + (1 - value) * (height - top - bottom);
    const parts = [];
    for (const tick of [0, 0.5, 1]) {
      parts.push(svg("line", { class: "gridline", x1: left, x2: width - right, y1: y(tick), y2: y(tick) }));
      parts.push(svg("text", { class: "axis-label", x: left - 4, y: y(tick) + 3, "text-anchor": "end" }, tick.toFixed(1)));
    }
    for (const tick of logTicks(scale.low, scale.high)) {
      parts.push(svg("text", { class: "axis-label", x: scale.map(tick), y: height - bottom + 12, "text-anchor": "middle" }, formatCount(tick)));
    }
    parts.push(svg("text", { class: "axis-label", x: (left + width - right) / 2, y: height - 4, "text-anchor": "middle" }, "training examples"));
    for (const [key, value] of [["few", thresholds.few], ["many", thresholds.many]]) {
      const x = scale.map(value);
      parts.push(
        svg(
          "line",
          { class: "threshold-line", x1: x, x2: x, y1: top, y2: height - bottom, dataset: { testid: `threshold-line-${key}`, value: String(value) } },
          svg("title", {}, key === "few" ? `few-shot: fewer than ${value}` : `many-shot: more than ${value}`),
        ),
      );
    }
    const points = report.class_names.map((name, index) => ({
      name,
      count: counts[index],
      recall: recall[index],
      bucket: bucketOf(counts[index], thresholds),
      hasSamples: support[index] > 0,
      x: scale.map(counts[index]),
      y: y(recall[index]),
    }));
    const asElements = points.length <= POINTS_AS_ELEMENTS;
    pathPoints = asElements ? null : points;
    parts.push(asElements ? pointElements(points) : pointPaths(points));
    const bucketItem = (bucket, text) =>
      el("span", { class: "legend-item", dataset: { testid: "legend-item", bucket } }, el("span", { class: `swatch point-swatch bucket-${bucket}` }), text);
    replaceChildren(
      plotLegend,
      bucketItem("many", `many-shot (> ${formatCount(thresholds.many)})`),
      bucketItem("medium", `medium-shot (${formatCount(thresholds.few)}–${formatCount(thresholds.many)})`),
      bucketItem("few", `few-shot (< ${formatCount(thresholds.few)})`),
      el("span", { class: "legend-item", dataset: { testid: "legend-item", bucket: "none" } }, el("span", { class: "swatch point-swatch bucket-many no-samples" }), "faded: no validation examples"),
      el("span", { class: "legend-item", dataset: { testid: "legend-item", bucket: "threshold" } }, el("span", { class: "legend-dash" }), "thresholds"),
    );
    replaceChildren(
      plotHost,
      svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Recall against training examples per class" }, parts),
    );
  }

  return {
    /**
     * @param {{runs: string[], run: string|null, steps: number[], wantedStep: number|null,
     *   report: Object|null, settings: {scale: string, order: string},
     *   thresholds: {many: number, few: number}, message: string|null}} view
     */
    update(view) {
      setOptions(runSelect, view.runs.map((run) => [run, shownRun(run)]), view.run);
      slider.update(view.steps, view.wantedStep);
      scaleSelect.value = view.settings.scale;
      orderSelect.value = view.settings.order;
      message.hidden = !view.message;
      message.textContent = view.message ?? "";
      const counts = view.report?.per_class?.train_count;
      plot.hidden = !Array.isArray(counts);
      if (Array.isArray(counts)) drawPlot(view.report, view.thresholds);
      else {
        pathPoints = null;
        replaceChildren(plotHost);
      }
      if (!view.report) {
        replaceChildren(summary);
        virtualRows.setRows([]);
        scroller.hidden = true;
        return;
      }
      scroller.hidden = false;
      const { support, predicted } = view.report.per_class;
      const rows = view.report.class_names.map((name, index) => ({ index, name, support: support[index], predicted: predicted[index] }));
      const max = [...support, ...predicted].reduce((largest, value) => Math.max(largest, value), 1);
      scaleOf = view.settings.scale === "log" ? (value) => Math.log1p(value) / Math.log1p(max) : (value) => value / max;
      drawSummary(rows);
      virtualRows.setRows(sortRows(rows, view.settings.order));
    },
  };
}
