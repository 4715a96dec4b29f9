// A confusion matrix held as its non-empty cells (the `report` route's
// `"cells"` encoding, above 1000 classes): margins, cell look-ups, which
// classes to show, the dense submatrix of those classes and the ranked
// confusions. Nothing here allocates C² values: memory and time grow with
// the number of non-empty cells and the number of classes.

/** Classes in the submatrix shown for a `"cells"` report (as the logged picture's most-confused subset). */
export const SUBMATRIX_CLASSES = 30;

const cellsCache = new WeakMap();

/**
 * Whether a report carries its matrix as non-empty cells.
 * @param {Object|null|undefined} report a `report` route response
 * @returns {boolean}
 */
export function isCellsReport(report) {
  return report?.matrix_encoding === "cells";
}

/**
 * A report's matrix as its non-empty cells, row-major, with the full
 * matrix's margins. Reads `confusion_cells`, or the dense `confusion_matrix`
 * of a smaller report.
 * @param {Object} report a `report` route response
 * @returns {{size: number, rows: Int32Array, columns: Int32Array, counts: Float64Array,
 *   rowStart: Int32Array, rowSums: Float64Array, colSums: Float64Array, total: number}}
 *   the cells of true class `i` are `rowStart[i]` to `rowStart[i + 1] - 1`
 */
export function cellMatrix(report) {
  const cached = cellsCache.get(report);
  if (cached) return cached;
  const size = report.num_classes ?? report.class_names.length;
  const { rows, columns, counts } = report.confusion_cells ?? denseToCells(report.confusion_matrix);
  const order = rowMajorOrder(rows, columns);
  const matrix = {
    size,
    rows: Int32Array.from(order, (k) => rows[k]),
    columns: Int32Array.from(order, (k) => columns[k]),
    counts: Float64Array.from(order, (k) => counts[k]),
    rowStart: new Int32Array(size + 1),
    rowSums: new Float64Array(size),
    colSums: new Float64Array(size),
    total: 0,
  };
  for (let k = 0; k < matrix.rows.length; k++) {
    const count = matrix.counts[k];
    matrix.rowStart[matrix.rows[k] + 1]++;
    matrix.rowSums[matrix.rows[k]] += count;
    matrix.colSums[matrix.columns[k]] += count;
    matrix.total += count;
  }
  for (let i = 0; i < size; i++) matrix.rowStart[i + 1] += matrix.rowStart[i];
  cellsCache.set(report, matrix);
  return matrix;
}

function denseToCells(dense) {
  const cells = { rows: [], columns: [], counts: [] };
  dense.forEach((row, i) =>
    row.forEach((count, j) => {
      if (count === 0) return;
      cells.rows.push(i);
      cells.columns.push(j);
      cells.counts.push(count);
    }),
  );
  return cells;
}

/** Cell indices in row-major order (the route sends them so; anything else is sorted). */
function rowMajorOrder(rows, columns) {
  const order = Array.from(rows, (_, k) => k);
  for (let k = 1; k < rows.length; k++) {
    if (rows[k] < rows[k - 1] || (rows[k] === rows[k - 1] && columns[k] <= columns[k - 1])) {
      return order.sort((a, b) => rows[a] - rows[b] || columns[a] - columns[b]);
    }
  }
  return order;
}

/**
 * The count of cell (i, j): true class `i` predicted as `j` (0 when empty).
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {number} i
 * @param {number} j
 * @returns {number}
 */
export function cellCount(matrix, i, j) {
  let low = matrix.rowStart[i];
  let high = matrix.rowStart[i + 1] - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const column = matrix.columns[middle];
    if (column === j) return matrix.counts[middle];
    if (column < j) low = middle + 1;
    else high = middle - 1;
  }
  return 0;
}

/**
 * A count as shown under a normalisation, divided by the full matrix's
 * margin: the true class's row sum, the predicted class's column sum or the
 * total (0 where that is 0).
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {number} i true class
 * @param {number} j predicted class
 * @param {number} count
 * @param {"none"|"true"|"pred"|"all"} mode
 * @returns {number}
 */
export function normalizedCount(matrix, i, j, count, mode) {
  if (mode === "none") return count;
  const denominator = mode === "true" ? matrix.rowSums[i] : mode === "pred" ? matrix.colSums[j] : matrix.total;
  return denominator ? count / denominator : 0;
}

/**
 * The `limit` classes in the largest off-diagonal cells, in class order:
 * classes are taken pair by pair from the largest confusion down (ties in
 * row-major order); when fewer classes are ever confused, the classes with
 * the most true examples fill the rest. The dashboard's twin of the
 * picture's `most_confused_classes` (tb_imbalance/image.py).
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {number} [limit]
 * @returns {number[]}
 */
export function mostConfusedClasses(matrix, limit = SUBMATRIX_CLASSES) {
  const wanted = Math.min(limit, matrix.size);
  const offDiagonal = [];
  for (let k = 0; k < matrix.rows.length; k++) if (matrix.rows[k] !== matrix.columns[k]) offDiagonal.push(k);
  offDiagonal.sort((a, b) => matrix.counts[b] - matrix.counts[a] || a - b);
  const chosen = new Set();
  for (const k of offDiagonal) {
    if (chosen.size >= wanted) break;
    chosen.add(matrix.rows[k]);
    if (chosen.size < wanted) chosen.add(matrix.columns[k]);
  }
  if (chosen.size < wanted) {
    const bySupport = Array.from(matrix.rowSums, (_, i) => i).sort((a, b) => matrix.rowSums[b] - matrix.rowSums[a] || a - b);
    for (const i of bySupport) {
      if (chosen.size >= wanted) break;
      chosen.add(i);
    }
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * One class and the classes it is most confused with, either way: first
 * `focus`, then the others by their larger cell with it (true `focus`
 * predicted as them, or true them predicted as `focus`), largest first,
 * ties in class order. Only classes that share a non-empty cell with
 * `focus` are listed.
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {number} focus a class index
 * @param {number} [limit] classes listed, `focus` included
 * @returns {number[]}
 */
export function confusedWith(matrix, focus, limit = SUBMATRIX_CLASSES) {
  const largest = new Map();
  const note = (other, count) => {
    if (other !== focus) largest.set(other, Math.max(largest.get(other) ?? 0, count));
  };
  for (let k = matrix.rowStart[focus]; k < matrix.rowStart[focus + 1]; k++) note(matrix.columns[k], matrix.counts[k]);
  for (let k = 0; k < matrix.columns.length; k++) if (matrix.columns[k] === focus) note(matrix.rows[k], matrix.counts[k]);
  const partners = [...largest.keys()].sort((a, b) => largest.get(b) - largest.get(a) || a - b);
  return [focus, ...partners.slice(0, Math.max(limit - 1, 0))];
}

/**
 * The dense submatrix of `classes` (rows and columns in that order),
 * normalised with the full matrix's margins.
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {number[]} classes class indices
 * @param {"none"|"true"|"pred"|"all"} mode
 * @returns {Float64Array} `classes.length`² values, row-major
 */
export function submatrix(matrix, classes, mode) {
  const size = classes.length;
  const position = new Map(classes.map((index, at) => [index, at]));
  const values = new Float64Array(size * size);
  classes.forEach((i, row) => {
    for (let k = matrix.rowStart[i]; k < matrix.rowStart[i + 1]; k++) {
      const column = position.get(matrix.columns[k]);
      if (column !== undefined) values[row * size + column] = normalizedCount(matrix, i, matrix.columns[k], matrix.counts[k], mode);
    }
  });
  return values;
}

/**
 * The largest off-diagonal cells by |shown value| (descending; ties by true
 * class, then predicted class), and how many off-diagonal cells are not 0.
 * With `other`, values are the differences `matrix − other` of the shown
 * values, over the cells either matrix fills.
 * @param {ReturnType<typeof cellMatrix>} matrix
 * @param {ReturnType<typeof cellMatrix>|null} other
 * @param {"none"|"true"|"pred"|"all"} mode
 * @param {number} limit
 * @returns {{ranked: Array<{trueIndex: number, predictedIndex: number, value: number}>, candidates: number}}
 */
export function rankedCells(matrix, other, mode, limit) {
  const top = createTopList(limit);
  let candidates = 0;
  const consider = (i, j, value) => {
    if (i === j || value === 0) return;
    candidates++;
    top.offer(i, j, value);
  };
  if (!other) {
    for (let k = 0; k < matrix.rows.length; k++) {
      const i = matrix.rows[k];
      const j = matrix.columns[k];
      consider(i, j, normalizedCount(matrix, i, j, matrix.counts[k], mode));
    }
  } else {
    // Both lists are row-major: walk them together.
    let a = 0;
    let b = 0;
    while (a < matrix.rows.length || b < other.rows.length) {
      const keyA = a < matrix.rows.length ? matrix.rows[a] * matrix.size + matrix.columns[a] : Infinity;
      const keyB = b < other.rows.length ? other.rows[b] * other.size + other.columns[b] : Infinity;
      const key = Math.min(keyA, keyB);
      const i = Math.floor(key / matrix.size);
      const j = key - i * matrix.size;
      const countA = keyA === key ? matrix.counts[a++] : 0;
      const countB = keyB === key ? other.counts[b++] : 0;
      consider(i, j, normalizedCount(matrix, i, j, countA, mode) - normalizedCount(other, i, j, countB, mode));
    }
  }
  return { ranked: top.result(), candidates };
}

/** Keeps the `limit` entries of largest |value| offered in row-major order. */
function createTopList(limit) {
  const byMagnitude = (a, b) => Math.abs(b.value) - Math.abs(a.value) || a.trueIndex - b.trueIndex || a.predictedIndex - b.predictedIndex;
  let kept = [];
  let floor = 0; // smallest |value| kept once the list is full
  return {
    offer(trueIndex, predictedIndex, value) {
      if (limit <= 0 || (kept.length >= limit && Math.abs(value) <= floor)) return;
      kept.push({ trueIndex, predictedIndex, value });
      if (kept.length >= limit * 2) {
        kept.sort(byMagnitude);
        kept.length = limit;
        floor = Math.abs(kept[limit - 1].value);
      }
    },
    result() {
      kept.sort(byMagnitude);
      return kept.slice(0, limit);
    },
  };
}
