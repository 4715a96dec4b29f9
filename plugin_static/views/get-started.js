// What the page shows while the log directory holds no confusion matrix: how to log the first one.
import { el } from "../dom.js";

/** The two ways to start, each one line to add to a training script. */
export const START_LINES = [
  {
    label: "Keras (TensorFlow, JAX or PyTorch backend): one callback in fit",
    code: [
      "from tb_imbalance.keras import ClassificationReportCallback",
      'model.fit(..., callbacks=[ClassificationReportCallback("runs/my_run", class_names=[...])])',
    ],
  },
  {
    label: "Any other loop: one call per evaluation",
    code: ["import tb_imbalance", 'tb_imbalance.log_report("runs/my_run", y_true, y_pred, step, class_names=[...])'],
  },
];

/**
 * The block under the empty page's message: the two ways to start, and what
 * this tab reads (not the scalars of Keras' own TensorBoard callback).
 * @param {boolean} polling whether the page asks for new runs by itself
 * @returns {HTMLElement}
 */
export function getStarted(polling) {
  return el(
    "div",
    { class: "get-started", dataset: { testid: "get-started" } },
    START_LINES.map(({ label, code }) =>
      el("div", { class: "get-started-way" }, el("p", { class: "get-started-label" }, label), el("pre", { class: "get-started-code" }, el("code", {}, code.join("\n")))),
    ),
    el(
      "p",
      { class: "get-started-note" },
      "This tab reads only what tb_imbalance logs: the scalars of Keras' own TensorBoard callback are in the Scalars tab. ",
      "Run tensorboard --logdir runs; each directory with a report under it is a run. ",
      polling ? "New runs appear here as they are written." : "Reload the page once they are written.",
    ),
  );
}
