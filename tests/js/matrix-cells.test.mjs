// Unit tests of plugin_static/matrix-cells.js: a matrix held as its
// non-empty cells (the report route's "cells" encoding) — margins, look-ups,
// the classes shown, the submatrix and the ranked confusions — checked by
// hand and against the dense matrix (plugin_static/matrix-math.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  SUBMATRIX_CLASSES,
  cellCount,
  cellMatrix,
  confusedWith,
  isCellsReport,
  mostConfusedClasses,
  normalizedCount,
  rankedCells,
  submatrix,
} from "../../plugin_static/matrix-cells.js";
import { flatMatrix, normalize, subtract, topConfusions } from "../../plugin_static/matrix-math.js";

/** The route's "cells" answer for a dense matrix (row-major, non-empty cells only). */
function cellsReport(dense) {
  const cells = { rows: [], columns: [], counts: [] };
  dense.forEach((row, i) =>
    row.forEach((count, j) => {
      if (!count) return;
      cells.rows.push(i);
      cells.columns.push(j);
      cells.counts.push(count);
    }),
  );
  return {
    num_classes: dense.length,
    class_names: dense.map((_, i) => `c${i}`),
    matrix_encoding: "cells",
    confusion_matrix: null,
    confusion_cells: cells,
  };
}

function randomDense(size, seed, density = 0.2) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: size }, (_, i) =>
    Array.from({ length: size }, (_, j) => (i === j ? Math.floor(random() * 50) : random() < density ? Math.floor(random() * 20) : 0)),
  );
}

const MODES = ["none", "true", "pred", "all"];

// true 0: 5 right, 1 as class 1, 3 as class 3; true 1: 2 as 0, 4 right; true 2: none; true 3: 7 as 1, 1 right.
const small = [
  [5, 1, 0, 3],
  [2, 4, 0, 0],
  [0, 0, 0, 0],
  [0, 7, 0, 1],
];

test("cellMatrix keeps the cells row-major with the full margins, once per report", () => {
  const report = cellsReport(small);
  const matrix = cellMatrix(report);
  assert.equal(matrix.size, 4);
  assert.deepEqual([...matrix.rows], [0, 0, 0, 1, 1, 3, 3]);
  assert.deepEqual([...matrix.columns], [0, 1, 3, 0, 1, 1, 3]);
  assert.deepEqual([...matrix.rowStart], [0, 3, 5, 5, 7]);
  assert.deepEqual([...matrix.rowSums], [9, 6, 0, 8]);
  assert.deepEqual([...matrix.colSums], [7, 12, 0, 4]);
  assert.equal(matrix.total, 23);
  assert.equal(cellMatrix(report), matrix);
  assert.equal(isCellsReport(report), true);
  assert.equal(isCellsReport({ matrix_encoding: "dense" }), false);
  assert.equal(isCellsReport(null), false);
});

test("cellMatrix sorts cells that do not come row-major, and reads a dense report too", () => {
  const shuffled = { num_classes: 3, class_names: ["a", "b", "c"], confusion_cells: { rows: [2, 0, 0], columns: [1, 2, 0], counts: [4, 1, 6] } };
  const matrix = cellMatrix(shuffled);
  assert.deepEqual([...matrix.rows], [0, 0, 2]);
  assert.deepEqual([...matrix.columns], [0, 2, 1]);
  assert.deepEqual([...matrix.counts], [6, 1, 4]);
  assert.equal(cellCount(matrix, 2, 1), 4);
  const dense = cellMatrix({ class_names: ["a", "b", "c", "d"], confusion_matrix: small });
  assert.deepEqual([...dense.counts], [5, 1, 3, 2, 4, 7, 1]);
});

test("cellCount and normalizedCount equal the dense matrix's cells and normalisations", () => {
  for (const seed of [1, 2, 3]) {
    const dense = randomDense(23, seed);
    const matrix = cellMatrix(cellsReport(dense));
    const flat = flatMatrix({ confusion_matrix: dense });
    for (const mode of MODES) {
      const expected = normalize(flat, mode);
      for (let i = 0; i < 23; i++) {
        for (let j = 0; j < 23; j++) {
          assert.equal(cellCount(matrix, i, j), dense[i][j]);
          assert.equal(normalizedCount(matrix, i, j, dense[i][j], mode), expected[i * 23 + j], `${mode} ${i} ${j}`);
        }
      }
    }
  }
});

test("mostConfusedClasses takes classes pair by pair from the largest confusion, in class order", () => {
  // As tb_imbalance.image.most_confused_classes' example: diag 50, 40, 30, 20; cm[3, 1] = 7; cm[0, 2] = 2.
  const dense = [
    [50, 0, 2, 0],
    [0, 40, 0, 0],
    [0, 0, 30, 0],
    [0, 7, 0, 20],
  ];
  const matrix = cellMatrix(cellsReport(dense));
  assert.deepEqual(mostConfusedClasses(matrix, 3), [0, 1, 3]);
  assert.deepEqual(mostConfusedClasses(matrix, 2), [1, 3]);
  assert.deepEqual(mostConfusedClasses(matrix, 4), [0, 1, 2, 3]);
  // Ties go row-major: (0, 2) before (3, 1) at the same count.
  dense[3][1] = 2;
  assert.deepEqual(mostConfusedClasses(cellMatrix(cellsReport(dense)), 2), [0, 2]);
});

test("mostConfusedClasses fills with the largest classes when few are confused, and stops at the class count", () => {
  const dense = [
    [3, 0, 0, 0, 0],
    [0, 9, 0, 0, 0],
    [0, 0, 1, 0, 4],
    [0, 0, 0, 7, 0],
    [0, 0, 0, 0, 2],
  ];
  const matrix = cellMatrix(cellsReport(dense));
  assert.deepEqual(mostConfusedClasses(matrix, 4), [1, 2, 3, 4]);
  assert.deepEqual(mostConfusedClasses(matrix, 100), [0, 1, 2, 3, 4]);
  assert.equal(SUBMATRIX_CLASSES, 30);
  assert.equal(mostConfusedClasses(cellMatrix(cellsReport(randomDense(60, 4)))).length, SUBMATRIX_CLASSES);
});

test("confusedWith lists a class, then its partners by their larger cell either way", () => {
  const matrix = cellMatrix(cellsReport(small));
  // Class 1: true 1 predicted as 0 (2); true 0 as 1 (1); true 3 as 1 (7).
  assert.deepEqual(confusedWith(matrix, 1), [1, 3, 0]);
  assert.deepEqual(confusedWith(matrix, 1, 2), [1, 3]);
  assert.deepEqual(confusedWith(matrix, 2), [2]);
  // Class 0: as 1 (1), as 3 (3), from 1 (2): 3 first, then 1.
  assert.deepEqual(confusedWith(matrix, 0), [0, 3, 1]);
});

test("submatrix holds the chosen classes' cells, normalised with the full margins", () => {
  const matrix = cellMatrix(cellsReport(small));
  assert.deepEqual([...submatrix(matrix, [3, 1], "none")], [1, 7, 0, 4]);
  // By true class: row 3's sum is 8 and row 1's 6, though the submatrix holds only 8 and 4 of them.
  assert.deepEqual([...submatrix(matrix, [3, 1], "true")], [1 / 8, 7 / 8, 0, 4 / 6]);
  // By predicted class: column 3 sums to 4, column 1 to 12 over all rows.
  assert.deepEqual([...submatrix(matrix, [3, 1], "pred")], [1 / 4, 7 / 12, 0, 4 / 12]);
  assert.deepEqual([...submatrix(matrix, [3, 1], "all")], [1 / 23, 7 / 23, 0, 4 / 23]);
  // All classes in order: the dense matrix's normalisations.
  const dense = randomDense(17, 5);
  const big = cellMatrix(cellsReport(dense));
  const everyClass = Array.from({ length: 17 }, (_, i) => i);
  for (const mode of MODES) assert.deepEqual([...submatrix(big, everyClass, mode)], [...normalize(flatMatrix({ confusion_matrix: dense }), mode)]);
});

test("rankedCells equals topConfusions of the dense values, and counts the non-zero off-diagonal cells", () => {
  for (const seed of [6, 7]) {
    const dense = randomDense(31, seed);
    const flat = flatMatrix({ confusion_matrix: dense });
    const matrix = cellMatrix(cellsReport(dense));
    for (const mode of MODES) {
      const values = normalize(flat, mode);
      const { ranked, candidates } = rankedCells(matrix, null, mode, 20);
      assert.deepEqual(ranked, topConfusions(values, 31, 20), mode);
      let expected = 0;
      for (let i = 0; i < 31; i++) for (let j = 0; j < 31; j++) if (i !== j && values[i * 31 + j] !== 0) expected++;
      assert.equal(candidates, expected);
    }
  }
});

test("rankedCells of two matrices ranks the differences over the cells either fills", () => {
  const a = randomDense(29, 8);
  const b = randomDense(29, 9);
  const flatA = flatMatrix({ confusion_matrix: a });
  const flatB = flatMatrix({ confusion_matrix: b });
  for (const mode of MODES) {
    const values = subtract(normalize(flatA, mode), normalize(flatB, mode));
    const { ranked, candidates } = rankedCells(cellMatrix(cellsReport(a)), cellMatrix(cellsReport(b)), mode, 25);
    assert.deepEqual(ranked, topConfusions(values, 29, 25), mode);
    let expected = 0;
    for (let i = 0; i < 29; i++) for (let j = 0; j < 29; j++) if (i !== j && values[i * 29 + j] !== 0) expected++;
    assert.equal(candidates, expected);
  }
});

test("rankedCells keeps every cell below the limit and nothing at limit 0", () => {
  const matrix = cellMatrix(cellsReport(small));
  assert.deepEqual(rankedCells(matrix, null, "none", 10).ranked, [
    { trueIndex: 3, predictedIndex: 1, value: 7 },
    { trueIndex: 0, predictedIndex: 3, value: 3 },
    { trueIndex: 1, predictedIndex: 0, value: 2 },
    { trueIndex: 0, predictedIndex: 1, value: 1 },
  ]);
  assert.deepEqual(rankedCells(matrix, null, "none", 0), { ranked: [], candidates: 4 });
});

test("10,000 classes: margins, submatrix and ranking without a C² array", () => {
  const size = 10_000;
  const cells = { rows: [], columns: [], counts: [] };
  for (let i = 0; i < size; i++) {
    cells.rows.push(i, i);
    cells.columns.push(i, (i * 7 + 1) % size);
    cells.counts.push(10, 1 + (i % 13));
  }
  const report = { num_classes: size, class_names: cells.rows.filter((_, k) => k % 2 === 0).map(String), matrix_encoding: "cells", confusion_cells: cells };
  const matrix = cellMatrix(report);
  assert.equal(matrix.total, size * 10 + cells.counts.filter((_, k) => k % 2 === 1).reduce((sum, count) => sum + count, 0));
  const classes = mostConfusedClasses(matrix);
  assert.equal(classes.length, SUBMATRIX_CLASSES);
  assert.equal(submatrix(matrix, classes, "true").length, SUBMATRIX_CLASSES ** 2);
  const { ranked, candidates } = rankedCells(matrix, matrix, "none", 50);
  assert.deepEqual([ranked.length, candidates], [0, 0]);
  assert.equal(rankedCells(matrix, null, "none", 50).ranked[0].value, 13);
});
