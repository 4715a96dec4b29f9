// Per-class trends across steps: one small chart per class, runs overlaid;
// one class set at a time (runs with other classes have other charts).
import { matchingClasses } from "../class-search.js";
import { el, isolatedText, replaceChildren, select, setOptions, svg } from "../dom.js";
import { classText, formatScore, runText } from "../format.js";
import { TREND_METRICS as METRICS } from "../state.js";
import { oneStepNote } from "../trends-caption.js";
import { lineSwatch } from "./line-swatch.js";
import { runNameElement } from "./run-name.js";
import { classNameElement } from "./class-name.js";

const COUNTS = [6, 12, 24, 48].map((count) => [String(count), `Worst ${count}`]);

const WIDTH = 240;
const HEIGHT = 120;
const MARGIN = { left: 30, right: 8, top: 8, bottom: 20 };
/** Up to this many classes the class input suggests every name; above, the first names matching what is typed. */
const ALL_NAMES_SUGGESTED = 1000;
const SUGGESTIONS = 20;

/**
 * Creates the trends section.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(patch: Object) => void} actions.onChange merges into the trend settings
 * @returns {{update: (view: Object) => void}}
 */
export function createTrendsView(container, { onChange }) {
  let view = null;

  const metricSelect = select(METRICS, "recall", { dataset: { testid: "trends-metric" }, "aria-label": "Metric" });
  metricSelect.addEventListener("change", () => onChange({ metric: metricSelect.value }));
  // Class indices mean something only within one class set: the runs of one set are drawn at a time.
  const classSetSelect = select([], null, { dataset: { testid: "trends-class-set" }, "aria-label": "Class set" });
  classSetSelect.addEventListener("change", () => onChange({ classSet: Number(classSetSelect.value), pinned: null }));
  const classSetField = el("label", { class: "field", hidden: true }, el("span", { class: "field-label" }, "Class set"), classSetSelect);
  const countSelect = select(COUNTS, "12", { dataset: { testid: "trends-count" }, "aria-label": "How many classes" });
  countSelect.addEventListener("change", () => onChange({ worstCount: Number(countSelect.value), pinned: null }));

  const classOptions = el("datalist", { id: "trend-class-options" });
  const classInput = el("input", {
    type: "text",
    class: "text-input",
    list: "trend-class-options",
    placeholder: "Add a class…",
    "aria-label": "Add a class to the trends",
    dataset: { testid: "trends-class-input" },
  });
  const addButton = el("button", { type: "button", class: "button", dataset: { testid: "trends-add-class" } }, "Add");
  const resetButton = el("button", { type: "button", class: "link-button", dataset: { testid: "trends-reset" } }, "Show worst classes");
  const legend = el("div", { class: "legend run-legend" });
  const caption = el("p", { class: "caption", dataset: { testid: "trends-caption" } });
  const grid = el("div", { class: "small-multiples", dataset: { testid: "trends-grid" } });
  const message = el("div", { class: "section-message", hidden: true });

  const addClass = () => {
    if (classInput.value === "") return; // an empty box adds nothing (not a class named "")
    const index = view?.names.indexOf(classInput.value);
    if (index === undefined || index < 0) {
      classInput.setCustomValidity("Unknown class");
      classInput.reportValidity();
      return;
    }
    classInput.setCustomValidity("");
    const pinned = view.pinned ?? [...view.classIndices];
    if (!pinned.includes(index)) onChange({ pinned: [...pinned, index] });
    classInput.value = "";
  };
  addButton.addEventListener("click", addClass);
  classInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") addClass();
  });
  classInput.addEventListener("input", () => {
    classInput.setCustomValidity("");
    if (view && view.names.length > ALL_NAMES_SUGGESTED) {
      replaceChildren(classOptions, matchingClasses(view.names, classInput.value, SUGGESTIONS).map((index) => el("option", { value: view.names[index] })));
    }
  });
  resetButton.addEventListener("click", () => onChange({ pinned: null }));

  container.append(
    el(
      "div",
      { class: "toolbar" },
      classSetField,
      el("label", { class: "field" }, el("span", { class: "field-label" }, "Metric"), metricSelect),
      el("label", { class: "field" }, el("span", { class: "field-label" }, "Classes"), countSelect),
      el("div", { class: "toolbar-group" }, classInput, classOptions, addButton, resetButton),
    ),
    el("div", { class: "trends-head" }, caption, legend),
    message,
    grid,
  );

  function valuesOf(series, metric, position) {
    return series[metric].map((row) => row[position]);
  }

  function chart(name, classIndex, domain) {
    const [minStep, maxStep] = domain;
    const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (step) => MARGIN.left + (maxStep === minStep ? plotWidth / 2 : ((step - minStep) / (maxStep - minStep)) * plotWidth);
    const y = (value) => MARGIN.top + (1 - value) * plotHeight;
    const parts = [];
    for (const tick of [0, 0.5, 1]) {
      parts.push(svg("line", { class: "gridline", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }));
      parts.push(svg("text", { class: "axis-label", x: MARGIN.left - 4, y: y(tick) + 3, "text-anchor": "end" }, tick.toFixed(1)));
    }
    if (minStep === maxStep) {
      // One step: a dot in the middle, over its one label (not the same number at both ends).
      parts.push(svg("text", { class: "axis-label", x: x(minStep), y: HEIGHT - 5, "text-anchor": "middle", dataset: { testid: "trends-step-label" } }, `step ${minStep}`));
    } else {
      parts.push(svg("text", { class: "axis-label", x: MARGIN.left, y: HEIGHT - 5, "text-anchor": "start", dataset: { testid: "trends-step-label" } }, String(minStep)));
      parts.push(svg("text", { class: "axis-label", x: WIDTH - MARGIN.right, y: HEIGHT - 5, "text-anchor": "end", dataset: { testid: "trends-step-label" } }, String(maxStep)));
    }
    if (view.markerStep !== null && view.markerStep >= minStep && view.markerStep <= maxStep) {
      parts.push(svg("line", { class: "step-marker", x1: x(view.markerStep), x2: x(view.markerStep), y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }));
    }
    const metrics = view.metric === "both" ? ["recall", "f1"] : [view.metric];
    const latest = [];
    for (const { run, colour, dash } of view.runs) {
      const series = view.series[run];
      if (!series || series.error) continue;
      const position = series.class_names.indexOf(name);
      if (position < 0) continue;
      for (const metric of metrics) {
        const values = valuesOf(series, metric, position);
        const points = series.steps.map((step, index) => `${x(step).toFixed(1)},${y(values[index]).toFixed(1)}`);
        parts.push(
          svg(
            "polyline",
            {
              // With both metrics, F1's line is the thin one: dashes tell the runs apart.
              class: `trend-line${metric === "f1" && metrics.length > 1 ? " secondary" : ""}`,
              points: points.join(" "),
              stroke: colour,
              "stroke-dasharray": dash,
              dataset: { run },
            },
            svg("title", {}, `${runText(run)} · ${metric === "f1" ? "F1" : "recall"}`),
          ),
        );
        if (series.steps.length === 1) parts.push(svg("circle", { cx: x(series.steps[0]), cy: y(values[0]), r: 2.5, fill: colour }));
        latest.push(`${runText(run)} ${metric === "f1" ? "F1" : "recall"} ${formatScore(values[values.length - 1])} (step ${series.steps[series.steps.length - 1]})`);
      }
    }
    const baselineSeries = view.series[view.baseline];
    const position = baselineSeries && !baselineSeries.error ? baselineSeries.class_names.indexOf(name) : -1;
    const headline =
      position >= 0 ? formatScore(valuesOf(baselineSeries, view.metric === "f1" ? "f1" : "recall", position).at(-1)) : "";
    return el(
      "figure",
      { class: "small-chart", dataset: { testid: "trends-chart", class: name, index: classIndex } },
      el(
        "figcaption",
        {},
        el("span", { class: "chart-title", title: name }, classNameElement(name)),
        el("span", { class: "chart-value", title: "Baseline, latest step" }, headline),
        view.pinned ? el("button", { type: "button", class: "chip-remove", title: "Remove", "aria-label": `Remove ${classText(name)}`, dataset: { remove: classIndex } }, "×") : null,
      ),
      svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": `${classText(name)}: ${latest.join("; ")}` }, svg("title", {}, latest.join("\n")), parts),
    );
  }

  grid.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-remove]");
    if (!button || !view.pinned) return;
    const index = Number(button.dataset.remove);
    onChange({ pinned: view.pinned.filter((value) => value !== index) });
  });

  return {
    /**
     * @param {{runs: Array<{run: string, colour: string, dash: string}>, baseline: string|null,
     *   series: Object<string, Object>, classIndices: number[], names: string[],
     *   metric: string, worstCount: number, pinned: number[]|null, markerStep: number|null,
     *   rankedBy: string, message: string|null, classSets?: string[], classSet?: number}} next
     *   `classSets`: a label per class set of the selected runs; `classSet`: the one drawn
     */
    update(next) {
      view = next;
      const sets = next.classSets ?? [];
      classSetField.hidden = sets.length < 2;
      setOptions(classSetSelect, sets.map((label, index) => [String(index), label]), String(next.classSet ?? 0));
      metricSelect.value = next.metric;
      countSelect.value = String(next.worstCount);
      resetButton.hidden = !next.pinned;
      if (next.names.length > ALL_NAMES_SUGGESTED) {
        // Suggested while typing (see the input listener), not thousands of options up front.
        if (classOptions.dataset.count !== String(next.names.length)) replaceChildren(classOptions);
        classOptions.dataset.count = String(next.names.length);
      } else if (classOptions.dataset.count !== String(next.names.length) || classOptions.firstChild?.value !== next.names[0]) {
        replaceChildren(classOptions, next.names.map((name) => el("option", { value: name })));
        classOptions.dataset.count = String(next.names.length);
      }
      message.hidden = !next.message;
      message.textContent = next.message ?? "";
      replaceChildren(
        legend,
        next.runs.map(({ run, colour, dash }) => el("span", { class: "legend-item", title: run, dataset: { run } }, lineSwatch(colour, dash), runNameElement(run))),
        next.metric === "both" ? el("span", { class: "legend-item muted" }, "thick: recall · thin: F1") : null,
      );
      let minStep = Infinity;
      let maxStep = -Infinity;
      const stepsOfRuns = [];
      for (const { run } of next.runs) {
        const series = next.series[run];
        if (!series || series.error || series.steps.length === 0) continue;
        stepsOfRuns.push(series.steps);
        minStep = Math.min(minStep, series.steps[0]);
        maxStep = Math.max(maxStep, series.steps[series.steps.length - 1]);
      }
      const classesText = next.pinned
        ? `${next.classIndices.length} chosen classes`
        : next.classIndices.length < next.names.length
          ? `Worst ${next.classIndices.length} of ${next.names.length} classes by ${next.rankedBy}`
          : `All ${next.names.length} classes`;
      const note = oneStepNote(stepsOfRuns);
      const captionText = note ? `${classesText} · ${note}` : classesText;
      replaceChildren(caption, ...isolatedText(captionText)); // rankedBy names the baseline run

      if (!Number.isFinite(minStep)) {
        replaceChildren(grid);
        return;
      }
      replaceChildren(
        grid,
        next.classIndices.map((index) => chart(next.names[index], index, [minStep, maxStep])),
      );
    },
  };
}
