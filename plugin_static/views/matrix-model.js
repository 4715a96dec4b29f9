// What the confusion-matrix section shows for a report (and, when
// comparing, a second one): the grid's classes and values, its totals, the
// tooltip and list details of a cell, and the ranked confusions. A dense
// report shows every class; a `"cells"` report (above 1000 classes) shows a
// submatrix of a few classes, normalised with the full matrix's margins.
import { formatCount, formatPercent } from "../format.js";
import { cellCount, cellMatrix, confusedWith, isCellsReport, mostConfusedClasses, normalizedCount, rankedCells, submatrix } from "../matrix-cells.js";
import { flatMatrix, intensities, normalize, subtract, topConfusions } from "../matrix-math.js";

/**
 * A value as a cell shows it: a count, or a percentage under a normalisation;
 * `signed` for differences (percentage points, without "%").
 * @param {number} value
 * @param {"none"|"true"|"pred"|"all"} normalization
 * @param {boolean} signed
 * @returns {string}
 */
export function formatShown(value, normalization, signed) {
  const sign = signed && value > 0 ? "+" : "";
  if (normalization === "none") return sign + formatCount(value).replace("-", "−");
  const digits = normalization === "all" ? 2 : 1;
  const text = (value * 100).toFixed(digits).replace("-", "−");
  return signed ? `${sign}${text}` : `${text}%`;
}

function percentagePoints(value, normalization) {
  const text = formatShown(value, normalization, true);
  return normalization === "none" ? text : `${text} percentage points`;
}

function subtractRows(a, b) {
  return Float64Array.from(a, (value, index) => value - b[index]);
}

/**
 * The matrix section's model. Grid positions run from 0 to `size - 1`;
 * `ids[position]` is the class index there (`ids` null: every class, in
 * order). `detail`, `describe` and the entries of `rank` speak class indices.
 * @param {{report: Object, other: {report: Object|null, label: string}|null,
 *   settings: {normalize: string, colour: string}, labelA: string}} view
 * @param {{focus?: number|null}} [options] `focus`: for a `"cells"` report, the
 *   class whose largest confusions to show (null: the most-confused classes)
 * @returns {Object}
 */
export function buildMatrixModel(view, { focus = null } = {}) {
  return isCellsReport(view.report) ? cellsModel(view, focus) : denseModel(view);
}

/** What every model shares: the value formats, totals' labels and a cell's tooltip and list numbers. */
function commonParts(view, comparing, a, other, countOf, differenceOf) {
  const { settings } = view;
  const share = (m, i, j) => {
    const count = countOf(m, i, j);
    return {
      count,
      shareOfTrue: m.rowSums[i] ? count / m.rowSums[i] : 0,
      shareOfPredicted: m.colSums[j] ? count / m.colSums[j] : 0,
    };
  };
  const describeOne = (label, m, i, j) => {
    const cell = share(m, i, j);
    const ofTrue = m.rowSums[i] ? `${formatPercent(cell.shareOfTrue)} of true` : "no row of this true class";
    const ofPredicted = m.colSums[j] ? `${formatPercent(cell.shareOfPredicted)} of predicted` : "none predicted as this class";
    return `${label}${formatCount(cell.count)} · ${ofTrue} · ${ofPredicted}`;
  };
  return {
    comparing,
    diverging: comparing,
    formatValue: (value) => formatShown(value, settings.normalize, comparing),
    formatTotal: (value) => (comparing ? formatShown(value, "none", true) : formatCount(value)),
    rowTotalLabel: comparing ? "Δ support" : "support",
    colTotalLabel: comparing ? "Δ predicted" : "predicted",
    detail: (i, j) => {
      const cellA = share(a, i, j);
      return comparing ? { countA: cellA.count, countB: countOf(other, i, j) } : cellA;
    },
    describe: (i, j) => {
      if (!comparing) {
        const cell = share(a, i, j);
        return [
          `${view.report.weighted ? "Sum of weights" : "Count"}: ${formatCount(cell.count)}`,
          a.rowSums[i] ? `${formatPercent(cell.shareOfTrue)} of true class (${formatCount(a.rowSums[i])})` : "No row of this true class",
          a.colSums[j] ? `${formatPercent(cell.shareOfPredicted)} of predicted class (${formatCount(a.colSums[j])})` : "No row predicted as this class",
        ];
      }
      return [
        describeOne(`A (${view.labelA}): `, a, i, j),
        describeOne(`B (${view.other.label}): `, other, i, j),
        `A − B: ${percentagePoints(differenceOf(i, j), settings.normalize)}`,
      ];
    },
  };
}

function denseModel(view) {
  const { report, settings } = view;
  const a = flatMatrix(report);
  const names = report.class_names;
  const shownA = normalize(a, settings.normalize);
  const other = view.other?.report ? flatMatrix(view.other.report) : null;
  const comparing = Boolean(other);
  const shownB = comparing ? normalize(other, settings.normalize) : null;
  const values = comparing ? subtract(shownA, shownB) : shownA;
  const size = a.size;
  const countOf = (m, i, j) => m.counts[i * m.size + j];
  return {
    ...commonParts(view, comparing, a, other, countOf, (i, j) => values[i * size + j]),
    cells: false,
    size,
    ids: null,
    names,
    allNames: names,
    positionOf: (index) => (index >= 0 && index < size ? index : undefined),
    values,
    intensity: intensities(values, size, settings.colour),
    rowTotals: comparing ? subtractRows(a.rowSums, other.rowSums) : a.rowSums,
    colTotals: comparing ? subtractRows(a.colSums, other.colSums) : a.colSums,
    rank(limit) {
      let candidates = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) if (i !== j && values[i * size + j] !== 0) candidates++;
      }
      return { ranked: topConfusions(values, size, limit), candidates };
    },
  };
}

function cellsModel(view, focus) {
  const { report, settings } = view;
  const mode = settings.normalize;
  const a = cellMatrix(report);
  const other = view.other?.report ? cellMatrix(view.other.report) : null;
  const comparing = Boolean(other);
  // The same classes with or without a comparison: those of A.
  const ids = focus === null ? mostConfusedClasses(a) : confusedWith(a, focus);
  const size = ids.length;
  const shownA = submatrix(a, ids, mode);
  const values = comparing ? subtract(shownA, submatrix(other, ids, mode)) : shownA;
  const margin = (sums) => Float64Array.from(ids, (index) => sums[index]);
  const shown = (m, i, j) => normalizedCount(m, i, j, cellCount(m, i, j), mode);
  const positions = new Map(ids.map((index, position) => [index, position]));
  return {
    ...commonParts(view, comparing, a, other, cellCount, (i, j) => shown(a, i, j) - shown(other, i, j)),
    cells: true,
    focus,
    numClasses: a.size,
    size,
    ids,
    names: ids.map((index) => report.class_names[index]),
    allNames: report.class_names,
    positionOf: (index) => positions.get(index),
    values,
    intensity: intensities(values, size, settings.colour),
    rowTotals: comparing ? subtractRows(margin(a.rowSums), margin(other.rowSums)) : margin(a.rowSums),
    colTotals: comparing ? subtractRows(margin(a.colSums), margin(other.colSums)) : margin(a.colSums),
    rank: (limit) => rankedCells(a, other, mode, limit),
  };
}
