// Unit tests of plugin_static/matrix-math.js: margins, normalisation,
// differences, colour intensities and the ranked confusions.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cellColour,
  contrastRatio,
  cssColour,
  flatMatrix,
  intensities,
  isImprovement,
  normalize,
  rampColour,
  subtract,
  topConfusions,
  whiteText,
} from "../../plugin_static/matrix-math.js";

const report = { confusion_matrix: [[5, 1, 0], [2, 2, 0], [0, 0, 0]] };

test("flatMatrix keeps counts and margins, once per report", () => {
  const matrix = flatMatrix(report);
  assert.equal(matrix.size, 3);
  assert.deepEqual([...matrix.counts], [5, 1, 0, 2, 2, 0, 0, 0, 0]);
  assert.deepEqual([...matrix.rowSums], [6, 4, 0]);
  assert.deepEqual([...matrix.colSums], [7, 3, 0]);
  assert.equal(matrix.total, 10);
  assert.equal(flatMatrix(report), matrix);
});

test("normalisations divide by the row, the column or the total, 0 where empty", () => {
  const matrix = flatMatrix(report);
  assert.equal(normalize(matrix, "none"), matrix.counts);
  assert.deepEqual([...normalize(matrix, "true")], [5 / 6, 1 / 6, 0, 0.5, 0.5, 0, 0, 0, 0]);
  assert.deepEqual([...normalize(matrix, "pred")], [5 / 7, 1 / 3, 0, 2 / 7, 2 / 3, 0, 0, 0, 0]);
  assert.deepEqual([...normalize(matrix, "all")], [0.5, 0.1, 0, 0.2, 0.2, 0, 0, 0, 0]);
});

test("differences and intensities", () => {
  const difference = subtract(Float64Array.from([3, 1, 0, 2]), Float64Array.from([1, 1, 2, 0]));
  assert.deepEqual([...difference], [2, 0, -2, 2]);
  assert.deepEqual([...intensities(difference, 2, "linear")], [1, 0, 1, 1]);
  assert.deepEqual([...intensities(Float64Array.from([4, 2, 1, 0]), 2, "row")], [1, 0.5, 1, 0]);
  const log = intensities(Float64Array.from([1000, 1, 0, 0]), 2, "log");
  assert.equal(log[0], 1);
  assert.ok(log[1] > 0.09 && log[1] < 0.11);
});

test("colours: ramps, diverging improvements", () => {
  assert.deepEqual(rampColour("blues", 0), [247, 251, 255]);
  assert.deepEqual(rampColour("blues", 2), [8, 48, 107]);
  assert.equal(cssColour([1, 2, 3]), "rgb(1, 2, 3)");
  assert.equal(isImprovement(1, 1, 3), true);
  assert.equal(isImprovement(0, 1, 3), false);
  assert.deepEqual(cellColour(0, 1, -2, 1, true), rampColour("greens", 1));
  assert.deepEqual(cellColour(0, 0, -2, 1, true), rampColour("reds", 1));
  assert.deepEqual(cellColour(0, 0, 0, 1, true), rampColour("greens", 0));
});

test("dark theme: its own scales, from the page's grey to bright; the light ones unchanged", () => {
  assert.deepEqual(rampColour("blues", 0, "light"), [247, 251, 255]);
  assert.deepEqual(rampColour("blues", 0, "dark"), [59, 62, 68]);
  assert.deepEqual(rampColour("blues", 1, "dark"), [227, 241, 252]);
  assert.deepEqual(cellColour(0, 1, -2, 1, true, "dark"), rampColour("greens", 1, "dark"));
  assert.deepEqual(cellColour(0, 0, -2, 1, true, "dark"), rampColour("reds", 1, "dark"));
  assert.deepEqual(cellColour(0, 0, 0, 1, true, "dark"), rampColour("greens", 0, "dark"));
  assert.deepEqual(cellColour(2, 1, 5, 0.5, false, "dark"), rampColour("blues", 0.5, "dark"));
  // Each scale brightens as it rises (WCAG luminance against black, in tenths of the scale).
  for (const ramp of ["blues", "greens", "reds"]) {
    let previous = 0;
    for (let k = 0; k <= 10; k++) {
      const brightness = contrastRatio(rampColour(ramp, k / 10, "dark"), [0, 0, 0]);
      assert.ok(brightness > previous, `${ramp} at ${k / 10}`);
      previous = brightness;
    }
  }
  // Better and worse stay apart: at the same intensity green is greener, red redder.
  for (const t of [0.2, 0.5, 0.8, 1]) {
    const [gr, gg] = rampColour("greens", t, "dark");
    const [rr, rg] = rampColour("reds", t, "dark");
    assert.ok(gg > gr && rr > rg && gg - gr > 20 && rr - rg > 20, String(t));
  }
});

test("cell text: white or black, at least 4.5:1 on every cell of either theme", () => {
  assert.equal(contrastRatio([255, 255, 255], [0, 0, 0]), 21);
  assert.equal(contrastRatio([0, 0, 0], [0, 0, 0]), 1);
  for (const theme of ["light", "dark"]) {
    for (const ramp of ["blues", "greens", "reds"]) {
      for (let k = 0; k <= 1000; k++) {
        const colour = rampColour(ramp, k / 1000, theme);
        const text = whiteText(colour) ? [255, 255, 255] : [0, 0, 0]; // style.css: --cell-text is black
        assert.ok(contrastRatio(colour, text) >= 4.5, `${theme} ${ramp} at ${k / 1000}: ${colour}`);
      }
    }
  }
  // mid-scale light cells had #212121 on them at 2.8:1 (Greens) to 3.3:1 (Reds)
  assert.equal(whiteText(rampColour("greens", 0.5)), false);
  assert.equal(whiteText(rampColour("blues", 1)), true);
  assert.equal(whiteText(rampColour("blues", 0, "dark")), true);
  assert.equal(whiteText(rampColour("blues", 1, "dark")), false);
});

test("topConfusions ranks off-diagonal cells by magnitude", () => {
  const size = 4;
  const values = new Float64Array(size * size);
  values[0 * size + 1] = 5;
  values[2 * size + 3] = -9;
  values[3 * size + 0] = 7;
  values[1 * size + 1] = 100; // diagonal: ignored
  assert.deepEqual(topConfusions(values, size, 2), [
    { trueIndex: 2, predictedIndex: 3, value: -9 },
    { trueIndex: 3, predictedIndex: 0, value: 7 },
  ]);
  assert.equal(topConfusions(values, size, 10).length, 3);
});
