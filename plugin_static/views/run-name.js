// A run's name where one line must hold it (column heads, legends): the path it shares with the other
// runs of a sweep gives way before its last part, which is what tells them apart
// (`sweep/lr=0.1,bs=32/seed 2` reads `sweep/l…/seed 2`, not `sweep/lr=0.1,bs=…`); characters drawn as
// nothing show as their code points (`shownRun`).
import { el } from "../dom.js";
import { shownRun } from "../format.js";

/**
 * `<span class="run-name split">` of the run's path (cut first, with an ellipsis) and last part.
 * @param {string} run
 * @returns {HTMLElement}
 * @example
 *   runNameElement("sweep/seed 2/validation_imbalance")
 *   // <span class="run-name split"><span class="run-path">sweep/</span><span class="run-leaf">seed 2</span></span>
 */
export function runNameElement(run) {
  const label = shownRun(run); // its code points shown: no "/" comes into the name
  const cut = label.lastIndexOf("/", label.length - 2) + 1; // a trailing "/" stays with its part
  return el(
    "span",
    { class: "run-name split" },
    cut ? el("span", { class: "run-path" }, label.slice(0, cut)) : null,
    el("span", { class: "run-leaf" }, label.slice(cut)),
  );
}
