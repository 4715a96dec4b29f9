// The confusion matrix as an HTML table (readable up to ~50 classes).
import { el } from "../dom.js";
import { cellColour, cssColour, whiteText } from "../matrix-math.js";
import { classText, shownName } from "../format.js";
import { tableCaption } from "./table-caption.js";
import { classNameElement } from "./class-name.js";

const LABEL_WIDTH = 140;
const TOTAL_WIDTH = 64;
const MIN_CELL = 14;
const MAX_CELL = 64;
const MIN_CELL_WITH_TEXT = 34;

/**
 * The cell size (CSS pixels) that fits `size` columns into `width`.
 * @param {number} size number of classes
 * @param {number} width available width
 * @returns {number}
 */
export function fitCellSize(size, width) {
  const available = width - LABEL_WIDTH - TOTAL_WIDTH - 8;
  return Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(available / Math.max(size, 1))));
}

/**
 * Builds the matrix table. Hovering is handled by the caller through the
 * `data-true` / `data-pred` attributes of the cells and labels: the class
 * indices of the cell's row and column.
 * @param {Object} model
 * @param {number} model.size number of classes shown
 * @param {number[]|null} [model.ids] the class index of each row and column
 *   (a submatrix of a larger matrix); null: rows and columns are classes 0 to size − 1
 * @param {string[]} model.names class names of the rows and columns
 * @param {Float64Array} model.values shown values (row-major)
 * @param {Float64Array} model.intensity colour intensities in [0, 1]
 * @param {boolean} model.diverging whether values are differences
 * @param {(value: number) => string} model.formatValue cell text
 * @param {Float64Array} model.rowTotals shown next to each row
 * @param {Float64Array} model.colTotals shown below each column
 * @param {(value: number) => string} model.formatTotal
 * @param {string} model.rowTotalLabel
 * @param {string} model.colTotalLabel
 * @param {number} cellSize cell width in CSS pixels, from {@link fitCellSize}
 * @param {{focus: [number, number], opens?: boolean}|null} [interactive] the
 *   cell at `focus` (true and predicted index) is the grid's tab stop; arrow keys
 *   move it (the caller's job); `opens`: cells open their examples. Every cell has
 *   an accessible name ("cat → dog: 12"), drawn number or not
 * @param {"light"|"dark"} [theme] the page's theme: the cells' colours (theme.js)
 * @returns {HTMLTableElement}
 */
export function renderMatrixGrid(model, cellSize, interactive = null, theme = "light") {
  const { size, names, values, intensity, diverging } = model;
  const idOf = (position) => (model.ids ? model.ids[position] : position);
  const showText = cellSize >= MIN_CELL_WITH_TEXT;
  const cellStyle = {
    width: `${cellSize}px`,
    minWidth: `${cellSize}px`,
    height: `${Math.max(MIN_CELL, Math.min(40, Math.round(cellSize * 0.7)))}px`,
    fontSize: `${cellSize >= 56 ? 12 : cellSize >= 44 ? 11 : 10}px`,
  };

  const header = el(
    "tr",
    {},
    el("th", { class: "corner", scope: "col" }, el("span", {}, "true ↓"), el("span", {}, "predicted →")),
    names.map((name, j) =>
      el("th", { class: "col-label", scope: "col", title: name, dataset: { pred: idOf(j) } }, el("span", { style: { maxWidth: `${cellSize}px` } }, classNameElement(name))),
    ),
    el("th", { class: "total-head", scope: "col" }, model.rowTotalLabel),
  );

  const rows = names.map((name, i) => {
    const cells = [];
    for (let j = 0; j < size; j++) {
      const k = i * size + j;
      const colour = cellColour(i, j, values[k], intensity[k], diverging, theme);
      const dark = whiteText(colour);
      cells.push(
        el(
          "td",
          {
            class: `cell${i === j ? " diagonal" : ""}${dark ? " dark" : ""}${showText ? "" : " small"}${interactive?.opens ? " opens-examples" : ""}`,
            style: { ...cellStyle, background: cssColour(colour) },
            dataset: { testid: "matrix-cell", true: idOf(i), pred: idOf(j), value: String(values[k]) },
            tabindex: interactive ? (interactive.focus[0] === i && interactive.focus[1] === j ? "0" : "-1") : null,
            "aria-label": `${classText(name)} → ${classText(names[j])}: ${model.formatValue(values[k])}`, // also where the cell is too small for its number
          },
          showText ? model.formatValue(values[k]) : null,
        ),
      );
    }
    return el(
      "tr",
      {},
      el("th", { class: "row-label", scope: "row", title: name, dataset: { true: idOf(i) } }, classNameElement(name)),
      cells,
      el("td", { class: "total" }, model.formatTotal(model.rowTotals[i])),
    );
  });

  const footer = el(
    "tr",
    {},
    el("th", { class: "total-head row-total-label", scope: "row" }, model.colTotalLabel),
    Array.from(model.colTotals, (total) => el("td", { class: "total" }, model.formatTotal(total))),
    el("td", {}),
  );

  // Column labels read horizontally when every name fits its column, else
  // upwards (110 px of line); a long name's start gives way before its end.
  const horizontal = names.every((name) => Array.from(shownName(name)).length * 7 <= cellSize);
  return el(
    "table",
    { class: `matrix-grid${horizontal ? " horizontal-labels" : ""}`, dataset: { testid: "matrix-grid" } },
    tableCaption("Confusion matrix: rows are true classes, columns predicted classes"),
    el("thead", {}, header),
    el("tbody", {}, rows),
    el("tfoot", {}, footer),
  );
}
