// Ranked list of the largest confusions (or changes), for many classes.
import { el } from "../dom.js";
import { classText, formatCount, formatPercent } from "../format.js";
import { classNameElement } from "./class-name.js";

/**
 * Builds the "top confusions" table.
 * @param {Object} model
 * @param {Array<{trueIndex: number, predictedIndex: number, value: number}>} model.ranked
 *   cells in rank order (`value` is what they were ranked by)
 * @param {string[]} model.names
 * @param {boolean} model.comparing whether entries are differences A − B
 * @param {boolean} [model.grouped] whether the names are class groups (the Groups view)
 * @param {boolean} [model.weighted] whether the matrix holds sums of sample weights, not counts
 * @param {(i: number, j: number) => Object} model.detail numbers of one cell:
 *   `{count, shareOfTrue, shareOfPredicted}`, or `{countA, countB}` when comparing
 * @param {(value: number) => string} model.formatValue formats a difference
 * @param {string} model.caption sentence above the list
 * @param {(i: number, j: number, row: HTMLElement) => void} [model.onOpen] opens a
 *   cell's examples: rows then take focus, and a click, Enter or Space opens them
 * @param {() => void} [onMore] shows more rows; omitted when all are shown
 * @returns {HTMLElement}
 */
export function renderTopConfusions(model, onMore) {
  const { ranked, names, comparing, grouped = false, weighted = false, onOpen } = model;
  const openOn = onOpen
    ? (i, j) => ({
        click: (event) => onOpen(i, j, event.currentTarget),
        keydown: (event) => {
          if (event.key !== "Enter" && event.key !== " ") return;
          event.preventDefault();
          onOpen(i, j, event.currentTarget);
        },
      })
    : () => null;
  const numberHeads = comparing ? ["A", "B", "A − B"] : [weighted ? "Sum of weights" : "Count", grouped ? "% of true group" : "% of true class", "% of predicted"];
  const trueHead = grouped ? "True group" : "True class";
  const predictedHead = grouped ? "Predicted as group" : "Predicted as";
  const rows = ranked.map((entry, rank) => {
    const detail = model.detail(entry.trueIndex, entry.predictedIndex);
    const trueName = names[entry.trueIndex];
    const predictedName = names[entry.predictedIndex];
    const numbers = comparing
      ? [formatCount(detail.countA), formatCount(detail.countB), model.formatValue(entry.value)]
      : [formatCount(detail.count), formatPercent(detail.shareOfTrue), formatPercent(detail.shareOfPredicted)];
    const changeClass = entry.value > 0 ? " worse" : " better";
    return el(
      "tr",
      {
        class: onOpen ? "opens-examples" : null,
        tabindex: onOpen ? "0" : null,
        title: onOpen ? `Show the examples of ${classText(trueName)} → ${classText(predictedName)}` : null,
        on: openOn(entry.trueIndex, entry.predictedIndex),
        dataset: { testid: "top-confusion-row", true: entry.trueIndex, pred: entry.predictedIndex, value: String(entry.value) },
      },
      el("td", { class: "num muted" }, String(rank + 1)),
      el("td", { class: "name", title: trueName }, classNameElement(trueName)),
      el("td", { class: "arrow", "aria-hidden": "true" }, "→"),
      el("td", { class: "name", title: predictedName }, classNameElement(predictedName)),
      numbers.map((text, index) => el("td", { class: `num${comparing && index === 2 ? changeClass : ""}` }, text)),
    );
  });
  return el(
    "div",
    { class: "top-confusions", dataset: { testid: "top-confusions" } },
    el("p", { class: "caption" }, model.caption),
    el(
      "table",
      { class: "compact-table" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { class: "num" }, "#"),
          el("th", { dataset: { testid: "top-confusions-true-head" } }, trueHead),
          el("th", { "aria-label": predictedHead.toLowerCase() }),
          el("th", { dataset: { testid: "top-confusions-predicted-head" } }, predictedHead),
          numberHeads.map((label) => el("th", { class: "num" }, label)),
        ),
      ),
      el("tbody", {}, rows),
    ),
    onMore
      ? el("button", { type: "button", class: "button more-button", on: { click: onMore }, dataset: { testid: "top-confusions-more" } }, "Show more")
      : null,
  );
}
