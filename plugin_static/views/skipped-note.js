// A visible note listing the logged steps the server left out (for example
// steps logged with another class set than the tag's first step), per run.
import { el, replaceChildren } from "../dom.js";
import { shownRun } from "../format.js";

/**
 * Groups left-out steps by reason, in order of their first step.
 * @param {Array<{step: number, reason: string}>} skipped a `skipped_steps` field
 * @returns {Array<{steps: number[], reason: string}>}
 */
export function groupSkipped(skipped) {
  const groups = new Map();
  for (const { step, reason } of skipped) {
    if (!groups.has(reason)) groups.set(reason, []);
    groups.get(reason).push(step);
  }
  return [...groups].map(([reason, steps]) => ({ steps: [...new Set(steps)].sort((a, b) => a - b), reason }));
}

/**
 * "step 3", "steps 3, 4" or "12 steps (3–40)".
 * @param {number[]} steps ascending
 * @returns {string}
 */
export function describeSteps(steps) {
  if (steps.length === 1) return `step ${steps[0]}`;
  if (steps.length <= 8) return `steps ${steps.join(", ")}`;
  return `${steps.length} steps (${steps[0]}–${steps[steps.length - 1]})`;
}

/**
 * Creates the note (hidden while nothing is left out).
 * @returns {{element: HTMLElement, update: (runs: Array<{run: string, skipped: Array}>) => void}}
 */
export function createSkippedNote() {
  const list = el("ul", { class: "page-note-list" });
  const element = el(
    "div",
    { class: "page-note", role: "note", hidden: true, dataset: { testid: "skipped-steps-note" } },
    el("strong", {}, "Some logged steps are not shown."),
    list,
  );
  return {
    element,
    /**
     * @param {Array<{run: string, skipped: Array<{step: number, reason: string}>}>} runs
     *   selected runs, each with its `skipped_steps`
     */
    update(runs) {
      const items = [];
      for (const { run, skipped } of runs) {
        for (const { steps, reason } of groupSkipped(skipped)) {
          items.push(
            el(
              "li",
              { dataset: { testid: "skipped-steps-item", run, steps: steps.join(",") }, title: run },
              el("span", { class: "page-note-run" }, shownRun(run)),
              `, ${describeSteps(steps)}: ${reason}`,
            ),
          );
        }
      }
      replaceChildren(list, items);
      element.hidden = items.length === 0;
    },
  };
}
