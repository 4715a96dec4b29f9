// The curves panel: one class's precision-recall curve (with the argmax
// decision's point), ROC curve and reliability diagram, the selected runs
// overlaid in their colours, at the table's step.
import { el, field, isolatedText, replaceChildren, select, setOptions, svg } from "../dom.js";
import { classText, formatCount, formatScore, isolated, runText, shownName, shownRun } from "../format.js";
import { CURVE_PLOT, operatingPointOf, prStepPoints, reliabilityPoints, rocPoints, svgPoints, unitScale } from "../curves-data.js";
import { fittedName, shortName } from "../class-label.js";
import { lineSwatch } from "./line-swatch.js";
import { runNameElement } from "./run-name.js";
import { selectLine } from "./select-line.js";
import { debounce } from "../state.js";

const TICKS = [0, 0.5, 1];
/** Columns of a class name in the class picker while it is hidden (not laid out, so not measured; class-label.js shortName). */
const OPTION_LENGTH = 32;
/**
 * Milliseconds the picker's width waits to settle before its names are cut again: a dragged
 * window changes it every frame, and cutting 1,000 names takes about 60.
 */
const REFIT_DELAY_MS = 150;

/**
 * Creates the curves section.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(className: string|null) => void} actions.onClass the chosen class's name; null: the worst by AP
 * @returns {{update: (view: Object) => void}}
 */
export function createCurvesView(container, { onClass }) {
  let names = [];
  let listed = []; // the names the class picker's options hold
  let fittedFor = null; // the picker's room and the names the options were cut for
  let measured = false; // whether they were cut to the picker's line (not to OPTION_LENGTH, while hidden)
  const classSelect = select([], null, { class: "curves-class", dataset: { testid: "curves-class" }, "aria-label": "Class" });
  classSelect.addEventListener("change", () => onClass(names[Number(classSelect.value)] ?? null));
  const worstButton = el("button", { type: "button", class: "link-button", dataset: { testid: "curves-worst" } }, "Show the worst by AP");
  worstButton.addEventListener("click", () => onClass(null));
  const caption = el("p", { class: "caption", dataset: { testid: "curves-caption" } });
  const legend = el("div", { class: "legend run-legend", dataset: { testid: "curves-legend" } });
  const missing = el("ul", { class: "curves-missing hint", hidden: true, dataset: { testid: "curves-missing" } });
  const charts = el("div", { class: "curve-charts", dataset: { testid: "curves-charts" } });

  const toolbar = el("div", { class: "toolbar" }, field("Class", classSelect), worstButton);
  // A dragged window changes the width every frame (a resize observer hears of it once a frame):
  // the names are cut again once it settles; to the first width the picker is laid out at, at once.
  // The toolbar, not the picker: cut names would hold the picker at its width when the page widens.
  const fitOnceSettled = debounce(() => fitOptions(), REFIT_DELAY_MS);
  new ResizeObserver(() => (measured ? fitOnceSettled() : fitOptions())).observe(toolbar);
  container.append(
    toolbar,
    el("div", { class: "trends-head" }, caption, legend),
    missing,
    charts,
  );

  /**
   * Cuts each option's name in its middle to what the closed picker shows, keeping its end: a
   * select shows its option's start, and long names tend to share theirs. Only where the width
   * the picker may take has changed (selectLine): on a wide page it keeps its width whatever the
   * toolbar's.
   */
  function fitOptions() {
    const line = selectLine(classSelect);
    const key = [line?.room ?? 0, ...listed].join("\0");
    if (key === fittedFor) return;
    fittedFor = key;
    measured = line !== null;
    listed.forEach((name, index) => {
      const text = shownName(name);
      classSelect.options[index].textContent = line ? fittedName(text, line.fits) : shortName(text, OPTION_LENGTH);
    });
  }

  /** Axes, grid lines and labels of a chart whose both axes span 0 to 1. */
  function frame(scale, xLabel, yLabel, diagonal) {
    const { width, height, left, right, top, bottom } = CURVE_PLOT;
    const parts = [];
    for (const tick of TICKS) {
      parts.push(svg("line", { class: "gridline", x1: left, x2: width - right, y1: scale.y(tick), y2: scale.y(tick) }));
      parts.push(svg("line", { class: "gridline", x1: scale.x(tick), x2: scale.x(tick), y1: top, y2: height - bottom }));
      parts.push(svg("text", { class: "axis-label", x: left - 4, y: scale.y(tick) + 3, "text-anchor": "end" }, tick.toFixed(1)));
      parts.push(svg("text", { class: "axis-label", x: scale.x(tick), y: height - bottom + 11, "text-anchor": "middle" }, tick.toFixed(1)));
    }
    parts.push(svg("text", { class: "axis-title", x: (left + width - right) / 2, y: height - 4, "text-anchor": "middle" }, xLabel));
    parts.push(
      svg("text", { class: "axis-title", x: 10, y: (top + height - bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 10 ${(top + height - bottom) / 2})` }, yLabel),
    );
    if (diagonal) {
      parts.push(svg("line", { class: "diagonal", x1: scale.x(0), y1: scale.y(0), x2: scale.x(1), y2: scale.y(1) }, svg("title", {}, diagonal)));
    }
    return parts;
  }

  function line(points, scale, { run, colour, dash }, title, extraClass = "") {
    return svg(
      "polyline",
      { class: `curve-line${extraClass}`, points: svgPoints(points, scale), stroke: colour, "stroke-dasharray": dash, dataset: { testid: "curve-line", run } },
      svg("title", {}, title),
    );
  }

  function chart(kind, title, label, parts) {
    const { width, height } = CURVE_PLOT;
    return el(
      "figure",
      { class: "small-chart curve-chart", dataset: { testid: "curves-chart", kind } },
      el("figcaption", {}, el("span", { class: "chart-title" }, title)),
      svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label }, parts),
    );
  }

  function prChart(drawn, className) {
    const scale = unitScale();
    const parts = frame(scale, "recall", "precision", null);
    const points = [];
    for (const entry of drawn) {
      const { run, colour, curves } = entry;
      const steps = prStepPoints(curves.pr);
      parts.push(line(steps, scale, entry, `${runText(run)} · AP ${formatScore(curves.average_precision)}`));
      const point = operatingPointOf(curves.operating_point);
      if (!point) continue;
      points.push(
        svg(
          "circle",
          {
            class: "operating-point",
            cx: scale.x(point[0]).toFixed(2),
            cy: scale.y(point[1]).toFixed(2),
            r: 4.5,
            fill: colour,
            dataset: { testid: "operating-point", run, recall: String(point[0]), precision: String(point[1]) },
          },
          svg("title", {}, `${runText(run)} · argmax decision: precision ${formatScore(point[1])}, recall ${formatScore(point[0])}`),
        ),
      );
    }
    // The decision points on top of every run's curve.
    return chart("pr", "Precision–recall", `Precision-recall curve of ${classText(className)}; dots: the argmax decision`, [...parts, ...points]);
  }

  function rocChart(drawn, className) {
    const scale = unitScale();
    const parts = frame(scale, "false positive rate", "true positive rate", "chance (ROC-AUC 0.5)");
    for (const entry of drawn) {
      const { run, curves } = entry;
      parts.push(line(rocPoints(curves.roc), scale, entry, `${runText(run)} · ROC-AUC ${formatScore(curves.roc_auc)}`));
    }
    return chart("roc", "ROC", `ROC curve of ${classText(className)}`, parts);
  }

  function reliabilityChart(drawn, className) {
    const scale = unitScale();
    const parts = frame(scale, "mean score", "observed frequency", "perfect calibration");
    for (const entry of drawn) {
      const { run, colour, curves } = entry;
      const bins = reliabilityPoints(curves.reliability);
      const edges = curves.reliability.bin_edges;
      parts.push(line(bins.map((point) => [point.x, point.y]), scale, entry, `${runText(run)} · calibration error ${formatScore(curves.calibration_error)}`, " reliability-line"));
      for (const point of bins) {
        parts.push(
          svg(
            "circle",
            {
              class: "reliability-point",
              cx: scale.x(point.x).toFixed(2),
              cy: scale.y(point.y).toFixed(2),
              r: point.radius.toFixed(2),
              fill: colour,
              dataset: { testid: "reliability-point", run, bin: String(point.bin), rows: String(point.rows) },
            },
            svg(
              "title",
              {},
              `${runText(run)} · scores ${edges[point.bin].toFixed(2)}–${edges[point.bin + 1].toFixed(2)}: mean score ${formatScore(point.x)}, observed ${formatScore(point.y)}, ${formatCount(point.rows)} rows`,
            ),
          ),
        );
      }
    }
    return chart("reliability", "Reliability", `Reliability diagram of ${classText(className)}; point area by rows`, parts);
  }

  function legendItem({ run, colour, dash, step, curves }) {
    const numbers = `AP ${formatScore(curves.average_precision)} · ROC-AUC ${formatScore(curves.roc_auc)} · cal. error ${formatScore(curves.calibration_error)}`;
    return el(
      "span",
      {
        class: "legend-item",
        title: `${runText(run)}, step ${step}: ${numbers}`,
        dataset: { testid: "curves-legend-item", run, colour, step: String(step), averagePrecision: String(curves.average_precision) },
      },
      lineSwatch(colour, dash),
      runNameElement(run),
      el("span", { class: "muted" }, numbers),
    );
  }

  return {
    /**
     * @param {{shown: boolean, names: string[], className: string|null, isDefault: boolean,
     *   reference: {run: string, step: number}|null,
     *   runs: Array<{run: string, step: number|null, curves: Object|null, reason: string|null}>,
     *   colours: Object<string, string>, dashes: Object<string, string>}} view from
     *   {@link import("../view-data.js").loadCurves}; `dashes`: each run's `stroke-dasharray` (run-looks.js)
     */
    update(view) {
      names = view.names;
      if (!view.shown) {
        replaceChildren(charts);
        replaceChildren(legend);
        replaceChildren(missing);
        return;
      }
      toolbar.hidden = !view.reference; // no run's curves could be read: only why
      if (view.reference) {
        listed = names;
        setOptions(classSelect, names.map((name, index) => [String(index), shownName(name)]), String(names.indexOf(view.className)));
        fitOptions();
        classSelect.title = names[Number(classSelect.value)] ?? ""; // the chosen name whole
        worstButton.hidden = view.isDefault;
      }
      const captionText = !view.reference
        ? "No selected run's curves can be read here:"
        : view.isDefault
          ? `The class with the lowest average precision in ${isolated(shownRun(view.reference.run))} at step ${view.reference.step}`
          : "The chosen class";
      replaceChildren(caption, ...isolatedText(captionText));
      const drawn = view.runs.filter((entry) => entry.curves).map((entry) => ({ ...entry, colour: view.colours[entry.run], dash: view.dashes?.[entry.run] ?? "none" }));
      replaceChildren(legend, drawn.map(legendItem));
      const left = view.runs.filter((entry) => !entry.curves);
      missing.hidden = left.length === 0;
      replaceChildren(
        missing,
        left.map(({ run, reason }) =>
          el("li", { dataset: { testid: "curves-missing-run", run }, title: run }, el("span", { class: "run-name" }, shownRun(run)), `: ${reason}`),
        ),
      );
      replaceChildren(charts, view.reference ? [prChart(drawn, view.className), rocChart(drawn, view.className), reliabilityChart(drawn, view.className)] : []);
    },
  };
}
