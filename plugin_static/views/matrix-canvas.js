// The confusion matrix as a canvas heat map: one pixel per cell, for
// matrices too large for a table.
import { el } from "../dom.js";
import { cellColour } from "../matrix-math.js";

const MAX_CSS_SIZE = 560;
const MIN_CSS_SIZE = 320;

/**
 * Creates the heat-map canvas.
 * @param {Object} handlers
 * @param {(i: number, j: number, event: MouseEvent) => void} handlers.onHover
 * @param {() => void} handlers.onLeave
 * @param {(i: number, j: number, event: MouseEvent) => void} [handlers.onClick] a cell was clicked
 * @returns {{element: HTMLCanvasElement, draw: (model: Object) => void}}
 */
export function createMatrixCanvas({ onHover, onLeave, onClick }) {
  let size = 0;
  const canvas = el("canvas", { class: "matrix-canvas", dataset: { testid: "matrix-canvas" }, "aria-label": "Confusion matrix heat map" });
  const cellAt = (event) => {
    if (!size) return null;
    const rect = canvas.getBoundingClientRect();
    const j = Math.floor(((event.clientX - rect.left) / rect.width) * size);
    const i = Math.floor(((event.clientY - rect.top) / rect.height) * size);
    return i >= 0 && j >= 0 && i < size && j < size ? [i, j] : null;
  };
  canvas.addEventListener("mousemove", (event) => {
    const cell = cellAt(event);
    if (cell) onHover(cell[0], cell[1], event);
  });
  canvas.addEventListener("mouseleave", onLeave);
  canvas.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (cell && onClick) onClick(cell[0], cell[1], event);
  });

  return {
    element: canvas,
    /**
     * @param {{size: number, values: Float64Array, intensity: Float64Array, diverging: boolean}} model
     * @param {"light"|"dark"} [theme] the page's theme: the cells' colours (theme.js)
     */
    draw(model, theme = "light") {
      size = model.size;
      canvas.width = size;
      canvas.height = size;
      const cssSize = Math.min(MAX_CSS_SIZE, Math.max(MIN_CSS_SIZE, size * 2));
      canvas.style.width = `${cssSize}px`;
      const context = canvas.getContext("2d");
      const image = context.createImageData(size, size);
      const pixels = image.data;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const k = i * size + j;
          const [red, green, blue] = cellColour(i, j, model.values[k], model.intensity[k], model.diverging, theme);
          pixels[k * 4] = red;
          pixels[k * 4 + 1] = green;
          pixels[k * 4 + 2] = blue;
          pixels[k * 4 + 3] = 255;
        }
      }
      context.putImageData(image, 0, 0);
    },
  };
}
