// Words a screen reader reads where the page shows a look (colour, weight, a bar) instead:
// in the accessibility tree and in the text, not on screen.
import { el } from "../dom.js";

/**
 * `<span class="visually-hidden">` holding `text`, e.g. `hiddenText(" (significant, better)")`.
 * @param {string} text
 * @returns {HTMLElement}
 */
export function hiddenText(text) {
  return el("span", { class: "visually-hidden" }, text);
}
