// The confusion-matrix section: run / step / normalisation / colour /
// comparison controls, then a grid (few classes), a heat map with a ranked
// list of confusions (many classes), or, for a report sent as its non-empty
// cells (above 1000 classes), the grid of a few chosen classes with the
// ranked list.
import { el, field, isolatedText, replaceChildren, select, setOptions } from "../dom.js";
import { formatCount, formatStep, isolated, shownName, shownRun } from "../format.js";
import { isCellsReport } from "../matrix-cells.js";
import { COLOUR_SCALES, NORMALIZATIONS, rampColour, cssColour } from "../matrix-math.js";
import { currentTheme, onThemeChange } from "../theme.js";
import { createClassChooser } from "./class-chooser.js";
import { createMatrixCanvas } from "./matrix-canvas.js";
import { fitCellSize, renderMatrixGrid } from "./matrix-grid.js";
import { buildMatrixModel } from "./matrix-model.js";
import { createStepSlider } from "./step-slider.js";
import { hideTooltip, showTooltip } from "./tooltip.js";
import { keepFocus } from "./keep-focus.js";
import { renderTopConfusions } from "./top-confusions.js";

/** Above this many classes the grid gives way to a heat map and a ranked list. */
export const GRID_LIMIT = 50;
const LIST_PAGE = 50;

const COMPARE_MODES = [
  ["none", "Nothing"],
  ["runs", "Another run (A − B)"],
  ["steps", "Another step (a − b)"],
];

/**
 * Creates the confusion-matrix section.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(patch: Object) => void} actions.onChange merges into the matrix settings
 * @param {(cell: {trueIndex: number, predIndex: number, trueName: string, predName: string,
 *   returnFocus: () => void}) => void} [actions.onExamples] opens the examples of a cell
 *   (offered when the report says the step has examples, never for class groups)
 * @returns {{update: (view: Object) => void}}
 */
export function createMatrixView(container, { onChange, onExamples }) {
  let view = null;
  let model = null;
  let listLength = LIST_PAGE;
  let drawnKey = null;
  let examplesOn = false; // cells open their examples
  let focusCell = [0, 0]; // the grid's tab stop when cells open examples (grid positions)
  let focusName = null; // a "cells" report's chosen class (by name, so that it survives a change of run)

  const runSelect = select([], null, { dataset: { testid: "matrix-run" } });
  runSelect.addEventListener("change", () => onChange({ run: runSelect.value, step: null }));
  const slider = createStepSlider({ testid: "matrix", label: "Matrix step", onChange: (step) => onChange({ step }) });
  const normalizeSelect = select(NORMALIZATIONS, "none", { dataset: { testid: "matrix-normalize" } });
  normalizeSelect.addEventListener("change", () => onChange({ normalize: normalizeSelect.value }));
  const colourSelect = select(COLOUR_SCALES, "row", { dataset: { testid: "matrix-colour" } });
  colourSelect.addEventListener("change", () => onChange({ colour: colourSelect.value }));
  const compareSelect = select(COMPARE_MODES, "none", { dataset: { testid: "matrix-diff-mode" } });
  compareSelect.addEventListener("change", () => onChange({ compare: compareSelect.value }));
  const otherRunSelect = select([], null, { dataset: { testid: "matrix-diff-run" } });
  otherRunSelect.addEventListener("change", () => onChange({ otherRun: otherRunSelect.value }));
  const otherStepSelect = select([], null, { dataset: { testid: "matrix-diff-step" } });
  otherStepSelect.addEventListener("change", () => onChange({ otherStep: Number(otherStepSelect.value) }));
  const otherRunField = field("B: run", otherRunSelect);
  const otherStepField = field("b: step", otherStepSelect);
  const classChooser = createClassChooser({
    label: "Class",
    resetLabel: "Most confused",
    testid: "matrix-class",
    onChoose: (index) => chooseClass(index === null ? null : view.report.class_names[index]),
  });
  const cellsToolbar = el("div", { class: "toolbar", hidden: true, dataset: { testid: "matrix-class-toolbar" } }, classChooser.element);

  const caption = el("p", { class: "caption", dataset: { testid: "matrix-caption" } });
  const body = el("div", { class: "matrix-body" });
  const legend = el("div", { class: "legend", dataset: { testid: "matrix-legend" } });
  const message = el("div", { class: "section-message", hidden: true });
  // What a comparison needs (a second run with the same classes, a second step): a plain note, not an error.
  const note = el("p", { class: "hint section-note", hidden: true, dataset: { testid: "matrix-note" } });
  const examplesHint = el("p", { class: "caption examples-hint", hidden: true, dataset: { testid: "examples-hint" } });
  const canvas = createMatrixCanvas({
    onHover: (i, j, event) => showCell(i, j, event),
    onLeave: hideTooltip,
    onClick: (i, j) => openExamples(i, j),
  });

  container.append(
    el(
      "div",
      { class: "toolbar" },
      field("Run", runSelect),
      slider.element,
    ),
    el(
      "div",
      { class: "toolbar" },
      field("Values", normalizeSelect),
      field("Colour", colourSelect),
      field("Compare with", compareSelect),
      otherRunField,
      otherStepField,
    ),
    cellsToolbar,
    message,
    note,
    caption,
    examplesHint,
    body,
    legend,
  );

  body.addEventListener("mouseover", (event) => {
    const cell = event.target.closest("td[data-true]");
    if (cell) showCell(Number(cell.dataset.true), Number(cell.dataset.pred), event);
  });
  // A submatrix's class labels choose that class: its row and column come next.
  body.addEventListener("click", (event) => {
    const label = event.target.closest("th[data-true], th[data-pred]");
    if (!label || !model?.cells) return;
    chooseClass(model.allNames[Number(label.dataset.true ?? label.dataset.pred)]);
  });
  body.addEventListener("mousemove", (event) => {
    const cell = event.target.closest("td[data-true]");
    if (cell) showCell(Number(cell.dataset.true), Number(cell.dataset.pred), event);
  });
  body.addEventListener("mouseleave", hideTooltip);
  // Cells open their examples: a click, or Enter / Space on the focused cell;
  // arrow keys, Home and End move the focus through the grid (with examples or not).
  body.addEventListener("click", (event) => {
    const cell = event.target.closest("td[data-testid=matrix-cell]");
    if (cell && examplesOn) openExamples(Number(cell.dataset.true), Number(cell.dataset.pred));
  });
  body.addEventListener("keydown", (event) => {
    const cell = event.target.closest?.("td[data-testid=matrix-cell]");
    if (!cell || !model) return;
    if (event.key === "Escape") {
      hideTooltip();
      return;
    }
    if (examplesOn && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      openExamples(Number(cell.dataset.true), Number(cell.dataset.pred));
      return;
    }
    const i = model.positionOf(Number(cell.dataset.true));
    const j = model.positionOf(Number(cell.dataset.pred));
    const last = model.size - 1;
    const moves = {
      ArrowUp: [Math.max(i - 1, 0), j],
      ArrowDown: [Math.min(i + 1, last), j],
      ArrowLeft: [i, Math.max(j - 1, 0)],
      ArrowRight: [i, Math.min(j + 1, last)],
      Home: [i, 0],
      End: [i, last],
    };
    const next = moves[event.key];
    if (!next) return;
    event.preventDefault();
    moveGridFocus(next[0], next[1])?.focus();
  });
  // The focused cell shows what hovering shows (Escape hides it).
  body.addEventListener("focusin", (event) => {
    const cell = event.target.closest?.("td[data-testid=matrix-cell]");
    if (!cell || !model) return;
    moveGridFocus(model.positionOf(Number(cell.dataset.true)), model.positionOf(Number(cell.dataset.pred)));
    const box = cell.getBoundingClientRect();
    showCell(Number(cell.dataset.true), Number(cell.dataset.pred), { clientX: box.right, clientY: box.bottom });
  });
  body.addEventListener("focusout", hideTooltip);

  const idOf = (position) => (model?.ids ? model.ids[position] : position);
  const gridCell = (i, j) => body.querySelector(`td[data-testid=matrix-cell][data-true="${idOf(i)}"][data-pred="${idOf(j)}"]`);

  /** Makes the cell at grid position (i, j) the grid's tab stop; returns it (null when not drawn). */
  function moveGridFocus(i, j) {
    if (i === undefined || j === undefined) return null;
    const cell = gridCell(i, j);
    if (!cell) return null;
    const previous = gridCell(focusCell[0], focusCell[1]);
    if (previous && previous !== cell) previous.tabIndex = -1;
    cell.tabIndex = 0;
    focusCell = [i, j];
    return cell;
  }

  /** Asks for the examples of cell (i, j) (class indices); focus comes back to it (or its list row) on close. */
  function openExamples(i, j) {
    if (!examplesOn || !model || !onExamples) return;
    hideTooltip();
    onExamples({
      trueIndex: i,
      predIndex: j,
      trueName: model.allNames[i],
      predName: model.allNames[j],
      returnFocus: () => {
        const target =
          moveGridFocus(model.positionOf(i), model.positionOf(j)) ??
          body.querySelector(`tr[data-testid=top-confusion-row][data-true="${i}"][data-pred="${j}"]`) ??
          body.querySelector("tr[data-testid=top-confusion-row]");
        target?.focus();
      },
    });
  }
  // The cells' colours are the theme's: a change of theme redraws them.
  onThemeChange(() => {
    if (view?.report) redraw();
  });
  // Refit the grid when the card changes width.
  new ResizeObserver(() => {
    if (view?.report && body.clientWidth !== drawnKey?.[5]) redraw();
  }).observe(body);

  /** The tooltip of cell (i, j) (class indices). */
  function showCell(i, j, event) {
    if (!model) return;
    const names = model.allNames;
    const title = el("span", {}, el("bdi", {}, shownName(names[i])), " → ", el("bdi", {}, shownName(names[j])));
    showTooltip(event, title, model.describe(i, j), "matrix-tooltip");
  }

  /** Shows a class's largest confusions (a name), or the most-confused classes (null). */
  function chooseClass(name) {
    focusName = name;
    if (!view?.report) return;
    classChooser.update(view.report.class_names, focusIndex());
    redraw();
  }

  /** The chosen class's index in the current report, or null. */
  function focusIndex() {
    if (focusName === null || !isCellsReport(view.report)) return null;
    const index = view.report.class_names.indexOf(focusName);
    return index >= 0 ? index : null;
  }

  function drawLegend() {
    const { settings } = view;
    const scaleName = COLOUR_SCALES.find(([key]) => key === settings.colour)[1].toLowerCase();
    const bar = (ramp, reversed) => {
      const stops = Array.from({ length: 6 }, (_, index) => cssColour(rampColour(ramp, index / 5, currentTheme())));
      return el("span", {
        class: "legend-bar",
        style: { background: `linear-gradient(to ${reversed ? "left" : "right"}, ${stops.join(", ")})` },
      });
    };
    if (model.comparing) {
      replaceChildren(
        legend,
        el("span", { class: "legend-item" }, bar("reds", true), bar("greens", false)),
        el("span", { class: "legend-text" }, "red: A worse than B (fewer correct / more confusions) · green: A better · ", `${scaleName} scale`),
      );
    } else {
      replaceChildren(
        legend,
        el("span", { class: "legend-item" }, "low", bar("blues", false), "high"),
        el("span", { class: "legend-text" }, settings.colour === "row" ? "colour scaled per true class, so rare classes stay visible" : `${scaleName} colour scale`),
      );
    }
  }

  function drawGrid() {
    if (focusCell[0] >= model.size || focusCell[1] >= model.size) focusCell = [0, 0];
    const interactive = { focus: focusCell, opens: examplesOn };
    return el("div", { class: "matrix-scroll" }, renderMatrixGrid(model, cellSize(), interactive, currentTheme()));
  }

  function submatrixCaption() {
    const total = formatCount(model.numClasses);
    const shown = model.size;
    const name = model.focus === null ? null : model.allNames[model.focus];
    const text =
      name === null
        ? `The ${shown} most-confused of ${total} classes (the classes in the largest off-diagonal cells). Click a class name, or search one, to see its largest confusions.`
        : `${isolated(name)} and the ${shown - 1} classes it is most confused with, either way (its row: predicted as; its column: mistaken for it), of ${total} classes.`;
    return el(
      "p",
      { class: "caption", dataset: { testid: "matrix-subset-caption", classes: model.ids.join(",") } },
      isolatedText(text),
      " Totals and percentages are over all classes.",
    );
  }

  function drawBody() {
    if (!model.cells && model.size <= GRID_LIMIT) {
      replaceChildren(body, drawGrid());
      return;
    }
    if (!model.cells) canvas.draw(model, currentTheme());
    const { ranked, candidates } = model.rank(listLength);
    const list = renderTopConfusions(
      {
        ranked,
        names: model.allNames,
        comparing: model.comparing,
        grouped: Boolean(view.grouped),
        weighted: Boolean(view.report?.weighted),
        detail: model.detail,
        formatValue: model.formatValue,
        onOpen: examplesOn ? (i, j) => openExamples(i, j) : undefined,
        caption: model.comparing
          ? `Largest changes off the diagonal, A − B (${candidates.toLocaleString("en-US")} cells differ).`
          : `Top confusions, ranked by ${(NORMALIZATIONS.find(([key]) => key === view.settings.normalize)?.[1] ?? "counts").toLowerCase()} (${candidates.toLocaleString("en-US")} non-zero off-diagonal cells).`,
      },
      ranked.length >= listLength && candidates > listLength
        ? () => {
            listLength += LIST_PAGE;
            drawnKey = null;
            redraw();
          }
        : undefined,
    );
    const overview = model.cells
      ? el("div", { class: "matrix-overview matrix-subset", dataset: { testid: "matrix-subset" } }, submatrixCaption(), drawGrid())
      : el("div", { class: "matrix-overview" }, canvas.element, el("p", { class: "caption" }, "Heat map of all cells; hover for details."));
    replaceChildren(body, el("div", { class: "matrix-large" }, overview, list));
  }

  const cellSize = () => fitCellSize(model.size, body.clientWidth || 540);

  function redraw() {
    const { settings } = view;
    const width = body.clientWidth;
    const focus = focusIndex();
    const key = [view.report, view.other?.report, settings.normalize, settings.colour, listLength, width, examplesOn, focus, currentTheme()];
    if (drawnKey && key.every((part, index) => part === drawnKey[index])) return;
    drawnKey = key;
    model = buildMatrixModel(view, { focus });
    keepFocus(body, drawBody);
    drawLegend();
  }

  return {
    /**
     * @param {{runs: string[], run: string|null, steps: number[], wantedStep: number|null,
     *   step: number|null, report: Object|null, settings: Object, labelA: string,
     *   other: {run: string, step: number, label: string, report: Object|null}|null,
     *   otherRuns: string[], message: string|null, note?: string|null, grouped?: boolean}} next
     *   `grouped`: the report is rolled up to class groups; `note`: why nothing is compared, not an error
     */
    update(next) {
      if (view && (view.run !== next.run || view.settings.compare !== next.settings.compare)) listLength = LIST_PAGE;
      view = next;
      const { settings } = next;
      setOptions(runSelect, next.runs.map((run) => [run, shownRun(run)]), next.run);
      slider.update(next.steps, next.wantedStep);
      normalizeSelect.value = settings.normalize;
      colourSelect.value = settings.colour;
      compareSelect.value = settings.compare;
      otherRunField.hidden = settings.compare !== "runs";
      otherStepField.hidden = settings.compare !== "steps";
      setOptions(otherRunSelect, next.otherRuns.map((run) => [run, shownRun(run)]), next.other?.run ?? null);
      setOptions(otherStepSelect, next.steps.map((step) => [String(step), String(step)]), next.other?.step ?? null);

      message.hidden = !next.message;
      replaceChildren(message, ...isolatedText(next.message ?? ""));
      note.hidden = !next.note;
      note.textContent = next.note ?? "";
      if (!next.report) {
        examplesOn = false;
        examplesHint.hidden = true;
        model = null;
        drawnKey = null;
        replaceChildren(body);
        replaceChildren(legend);
        caption.textContent = "";
        return;
      }
      const size = next.report.num_classes ?? next.report.class_names.length;
      const cells = isCellsReport(next.report);
      cellsToolbar.hidden = !cells;
      if (cells) classChooser.update(next.report.class_names, focusIndex());
      const hasExamples = next.report.has_examples === true;
      const examplesError = next.report.examples_error;
      examplesOn = hasExamples && !next.grouped && Boolean(onExamples);
      body.classList.toggle("opens-examples", examplesOn);
      examplesHint.hidden = !hasExamples && !examplesError;
      examplesHint.textContent = !hasExamples
        ? (examplesError ? `The examples logged behind the cells cannot be shown: ${examplesError}` : "")
        : next.grouped
          ? "Examples are kept per class, not per group: switch to Classes to see the examples behind a cell."
          : size <= GRID_LIMIT
            ? "Click a cell to see its examples (or focus it and press Enter)."
            : cells
              ? "Click a cell of the grid, or a row of the top confusions, to see its examples."
              : "Click a cell of the heat map, or a row of the top confusions, to see its examples.";
      const captionText = next.other?.report
        ? `A = ${next.labelA}, B = ${next.other.label}: cells show A − B${settings.normalize === "none" ? (next.report.weighted || next.other.report.weighted ? " (sums of weights)" : " (counts)") : " in percentage points"}.`
        : `${isolated(shownRun(next.run))} at step ${formatStep(next.step)} · ${cells ? formatCount(size) : size} ${next.grouped ? "groups (classes rolled up) · rows are true groups, columns predicted groups" : "classes · rows are true classes, columns predictions"}.`;
      replaceChildren(caption, ...isolatedText(captionText));
      redraw();
    },
  };
}
