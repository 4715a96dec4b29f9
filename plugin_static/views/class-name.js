// A class name where one line must hold it (table rows, matrix rows, bars, chart titles): cut, its
// start gives way before its end (class-label.js), so that long names sharing their start stay apart.
import { el } from "../dom.js";
import { splitName } from "../class-label.js";
import { isUnnamedClass, shownName } from "../format.js";

/**
 * `<span class="class-label">` of the shown name's start (cut first, with an ellipsis) and end;
 * its text is the shown name; the placeholder of a blank name is drawn as one (`unnamed-class`).
 * @param {string} name
 * @returns {HTMLElement}
 */
export function classNameElement(name) {
  const [start, end] = splitName(shownName(String(name)));
  return el(
    "span",
    { class: isUnnamedClass(name) ? "class-label unnamed-class" : "class-label" },
    start ? el("span", { class: "class-label-start" }, start) : null,
    el("span", { class: "class-label-end" }, end),
  );
}
