// One floating tooltip shared by the charts.
import { el, replaceChildren } from "../dom.js";

let tooltip = null;

function node() {
  if (!tooltip) {
    tooltip = el("div", { class: "tooltip", role: "tooltip", dataset: { testid: "tooltip" }, hidden: true });
    document.body.append(tooltip);
  }
  return tooltip;
}

/**
 * Shows the tooltip near the pointer.
 * @param {MouseEvent} event
 * @param {string} title first, bold line
 * @param {Array<string|Node>} lines further lines
 * @param {string} [testid] data-testid for tests, e.g. "matrix-tooltip"
 */
export function showTooltip(event, title, lines, testid = "tooltip") {
  const box = node();
  box.dataset.testid = testid;
  replaceChildren(box, el("div", { class: "tooltip-title" }, title), ...lines.map((line) => el("div", {}, line)));
  box.hidden = false;
  const margin = 14;
  const { innerWidth, innerHeight } = window;
  const rect = box.getBoundingClientRect();
  let left = event.clientX + margin;
  let top = event.clientY + margin;
  if (left + rect.width > innerWidth - 4) left = Math.max(4, event.clientX - rect.width - margin);
  if (top + rect.height > innerHeight - 4) top = Math.max(4, event.clientY - rect.height - margin);
  box.style.left = `${left}px`;
  box.style.top = `${top}px`;
}

/** Hides the tooltip. */
export function hideTooltip() {
  if (tooltip) tooltip.hidden = true;
}
