// A step slider that follows the latest step until the user moves it away.
import { el } from "../dom.js";
import { resolveStep } from "../state.js";

/**
 * Creates a step slider.
 * @param {Object} options
 * @param {string} options.testid prefix of the data-testids
 *   (`<prefix>-step-slider`, `<prefix>-step-label`, `<prefix>-step-latest`)
 * @param {string} options.label the slider's accessible name, which tells the page's sliders
 *   apart, e.g. "Matrix step"
 * @param {(step: number|null) => void} options.onChange called with the
 *   chosen step, or null when the latest step is chosen (follow mode)
 * @returns {{element: HTMLElement, update: (steps: number[], wanted: number|null) => void}}
 */
export function createStepSlider({ testid, label: name, onChange }) {
  let steps = [];
  const input = el("input", {
    type: "range",
    min: "0",
    max: "0",
    step: "1",
    class: "step-range",
    "aria-label": name,
    dataset: { testid: `${testid}-step-slider` },
  });
  const value = el("span", { class: "step-value", dataset: { testid: `${testid}-step-label` } });
  const latest = el("span", { class: "badge badge-latest", dataset: { testid: `${testid}-step-latest` } }, "latest");
  const label = el("span", { class: "step-label" }, "Step ", value, latest);
  const element = el("div", { class: "step-slider" }, label, input);

  const choose = () => {
    const index = Number(input.value);
    const step = steps[index];
    if (step === undefined) return;
    input.setAttribute("aria-valuetext", `step ${step}`); // now, not after the views reload
    onChange(index === steps.length - 1 ? null : step);
  };
  input.addEventListener("input", choose);
  input.addEventListener("change", choose);

  return {
    element,
    update(nextSteps, wanted) {
      steps = nextSteps || [];
      const shown = resolveStep(steps, wanted);
      input.max = String(Math.max(steps.length - 1, 0));
      input.value = String(Math.max(steps.indexOf(shown), 0));
      input.disabled = steps.length < 2;
      value.textContent = shown === null ? "–" : String(shown);
      input.setAttribute("aria-valuetext", shown === null ? "no step" : `step ${shown}`); // the slider's value is an index
      value.dataset.step = shown === null ? "" : String(shown);
      const following = wanted === null || shown === steps[steps.length - 1];
      latest.hidden = !(following && steps.length > 0);
      input.title = steps.length ? `Steps ${steps[0]}–${steps[steps.length - 1]} (${steps.length} logged)` : "No steps";
    },
  };
}
