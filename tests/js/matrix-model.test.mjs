// Unit tests of plugin_static/views/matrix-model.js: what the matrix
// section shows. A "cells" report (above 1000 classes) shows a submatrix
// whose totals, shares and normalisations come from the full matrix; with
// every class in it, it shows exactly what the dense report shows.
import assert from "node:assert/strict";
import { test } from "node:test";

import { buildMatrixModel, formatShown } from "../../plugin_static/views/matrix-model.js";

function reports(dense) {
  const names = dense.map((_, i) => `class ${i}`);
  const cells = { rows: [], columns: [], counts: [] };
  dense.forEach((row, i) =>
    row.forEach((count, j) => {
      if (!count) return;
      cells.rows.push(i);
      cells.columns.push(j);
      cells.counts.push(count);
    }),
  );
  const common = { num_classes: dense.length, class_names: names };
  return {
    dense: { ...common, matrix_encoding: "dense", confusion_matrix: dense, confusion_cells: null },
    cells: { ...common, matrix_encoding: "cells", confusion_matrix: null, confusion_cells: cells },
  };
}

const A = [
  [50, 3, 0, 1, 0],
  [6, 30, 2, 0, 0],
  [0, 4, 20, 0, 1],
  [2, 0, 0, 10, 0],
  [0, 0, 5, 0, 0],
];
const B = [
  [48, 5, 0, 1, 0],
  [3, 33, 2, 0, 0],
  [0, 1, 22, 0, 2],
  [2, 0, 1, 9, 0],
  [0, 0, 3, 0, 2],
];

const view = (report, other, normalize, colour = "row") => ({
  report,
  other: other ? { report: other, label: "B" } : null,
  settings: { normalize, colour },
  labelA: "A",
});

const plain = (model, cells) => ({
  size: model.size,
  values: [...model.values],
  intensity: [...model.intensity],
  rowTotals: [...model.rowTotals],
  colTotals: [...model.colTotals],
  labels: [model.rowTotalLabel, model.colTotalLabel],
  describe: cells.map(([i, j]) => model.describe(i, j)),
  detail: cells.map(([i, j]) => model.detail(i, j)),
  rank: model.rank(50),
  texts: model.values.length ? [model.formatValue(model.values[1]), model.formatTotal(model.rowTotals[0])] : [],
});

const everyCell = A.flatMap((row, i) => row.map((_, j) => [i, j]));

test("a cells report with every class shown looks exactly like the dense report", () => {
  const a = reports(A);
  const b = reports(B);
  for (const normalize of ["none", "true", "pred", "all"]) {
    for (const colour of ["row", "log", "linear"]) {
      const dense = buildMatrixModel(view(a.dense, null, normalize, colour));
      const cells = buildMatrixModel(view(a.cells, null, normalize, colour));
      assert.equal(dense.cells, false);
      assert.equal(cells.cells, true);
      assert.deepEqual(cells.ids, [0, 1, 2, 3, 4]);
      assert.deepEqual(plain(cells, everyCell), plain(dense, everyCell), `${normalize} ${colour}`);
      const denseDifference = buildMatrixModel(view(a.dense, b.dense, normalize, colour));
      const cellsDifference = buildMatrixModel(view(a.cells, b.cells, normalize, colour));
      assert.equal(cellsDifference.comparing, true);
      assert.deepEqual(plain(cellsDifference, everyCell), plain(denseDifference, everyCell), `A − B ${normalize} ${colour}`);
    }
  }
});

test("a submatrix keeps the full matrix's margins; its classes are A's, with or without B", () => {
  const a = reports(A);
  const b = reports(B);
  // Class 3 is confused only with class 0: the submatrix is classes 3 and 0.
  const focused = buildMatrixModel(view(a.cells, null, "true"), { focus: 3 });
  assert.deepEqual(focused.ids, [3, 0]);
  assert.deepEqual(focused.names, ["class 3", "class 0"]);
  assert.equal(focused.positionOf(0), 1);
  assert.equal(focused.positionOf(2), undefined);
  assert.deepEqual([...focused.values], [10 / 12, 2 / 12, 1 / 54, 50 / 54]);
  assert.deepEqual([...focused.rowTotals], [12, 54]);
  assert.deepEqual([...focused.colTotals], [11, 58]);
  assert.deepEqual(focused.describe(0, 3), ["Count: 1", "1.9% of true class (54)", "9.1% of predicted class (11)"]);
  // A class never predicted (or never true) has no share to give, not "0.0% of predicted class (0)".
  const neverPredicted = buildMatrixModel(view(reports([[2, 0], [1, 0]]).dense, null, "none"), {});
  assert.deepEqual(neverPredicted.describe(0, 1), ["Count: 0", "0.0% of true class (2)", "No row predicted as this class"]);
  const compared = buildMatrixModel(view(reports([[2, 0], [1, 0]]).dense, reports([[1, 1], [0, 1]]).dense, "none"), {});
  assert.deepEqual(compared.describe(0, 1).slice(0, 2), [
    "A (A): 0 · 0.0% of true · none predicted as this class",
    "B (B): 1 · 50.0% of true · 50.0% of predicted",
  ]);
  // Sums of sample weights are not counts, and the tooltip says so.
  const weighted = buildMatrixModel(view({ ...a.cells, weighted: true }, null, "true"), { focus: 3 });
  assert.equal(weighted.describe(0, 3)[0], "Sum of weights: 1");
  // The list ranks every cell of the full matrix, not only the submatrix's.
  assert.deepEqual(focused.rank(1).ranked, [{ trueIndex: 4, predictedIndex: 2, value: 1 }]);

  const difference = buildMatrixModel(view(a.cells, b.cells, "none"), { focus: 3 });
  assert.deepEqual(difference.ids, [3, 0]);
  assert.deepEqual([...difference.values], [1, 0, 0, 2]);
  assert.deepEqual([...difference.rowTotals], [0, 0]);
  assert.deepEqual(difference.detail(1, 0), { countA: 6, countB: 3 });
  assert.equal(difference.describe(1, 0)[2], "A − B: +3");
});

test("formatShown: counts, percentages and signed differences", () => {
  assert.equal(formatShown(1234, "none", false), "1,234");
  assert.equal(formatShown(-3, "none", true), "−3");
  assert.equal(formatShown(0.256, "true", false), "25.6%");
  assert.equal(formatShown(0.0125, "all", true), "+1.25");
});
