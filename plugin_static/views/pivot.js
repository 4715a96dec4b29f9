// The pivot view: one metric, runs as columns, classes as rows; one table per
// class set. Differences to the baseline are coloured only when significant.
import { breakable, el, isolatedText, replaceChildren } from "../dom.js";
import { formatScore, runText, shownRun } from "../format.js";
import { PIVOT_METRICS, classSetTitle } from "../pivot.js";
import { deltaElement, intervalElement } from "./delta.js";
import { tableCaption } from "./table-caption.js";
import { createVirtualRows } from "./virtual-rows.js";
import { classNameElement } from "./class-name.js";

// Up to this many classes the rows are drawn whole (the browser's find sees them all);
// above, only those in view (10,000 classes × a few runs would be 100,000+ elements).
const VIRTUAL_ABOVE = 500;
// A virtualised row's fixed height: value, interval bar and difference (style.css, .pivot-table.virtual).
const ROW_HEIGHT = 40;
// The class column's width (style.css, .pivot-class-col) and the least a run's column gets: a value,
// its difference and its interval bar, whole.
const CLASS_COLUMN_PX = 160;
const RUN_COLUMN_MIN_PX = 88;

/**
 * Creates the pivot view.
 * @param {HTMLElement} container
 * @returns {{element: HTMLElement, update: (view: {groups: Array, metric: string,
 *   colours: Object<string, string>}) => void}}
 */
export function createPivotView(container) {
  const element = el("div", { class: "pivot", dataset: { testid: "pivot" } });
  const note = el("p", { class: "hint section-note", hidden: true, dataset: { testid: "pivot-note" } });
  container.append(note, element);

  function renderHead(group, metricLabel, colours) {
    return el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col", class: "class-head" }, `Class · ${metricLabel}`),
        group.runs.map((info) =>
          el(
            "th",
            {
              scope: "col",
              class: `pivot-run-head${info.isBaseline ? " is-baseline" : ""}`,
              title: `${runText(info.run)}${info.step === null ? "" : `, step ${info.step}`}${info.isBaseline ? " (baseline)" : ""}`,
              dataset: { testid: "pivot-run-head", run: info.run },
            },
            el("span", { class: "swatch", style: { background: colours[info.run] } }),
            el("span", { class: "run-name" }, breakable(shownRun(info.run))),
            info.step === null ? null : el("span", { class: "pivot-run-note muted" }, `step ${info.step}`),
            info.isBaseline ? el("span", { class: "badge pivot-baseline-badge" }, "baseline") : null,
          ),
        ),
      ),
    );
  }

  function renderCell(row, info) {
    const cell = row.cells[info.run];
    if (!cell) return el("td", { class: "num" });
    if (cell.value === null) {
      // A curve metric the run does not have at its step (or undefined for the class).
      return el(
        "td",
        { class: "num cell-undefined", title: "not defined here (no curves at this step, or too few examples of the class)", dataset: { testid: "pivot-cell-undefined", run: info.run, class: row.name } },
        "–",
      );
    }
    const showDelta = cell.delta !== null;
    const bar = intervalElement(cell.interval, cell.value);
    return el(
      "td",
      {
        class: `num${bar ? " has-interval" : ""}`,
        dataset: { testid: "pivot-cell", run: info.run, class: row.name, value: String(cell.value) },
      },
      el("span", { class: "value" }, formatScore(cell.value), bar),
      showDelta ? deltaElement(cell.delta, cell) : null,
    );
  }

  function renderGroup(group, index, metricLabel, colours) {
    const renderRow = (row) =>
      el(
        "tr",
        { class: "class-row", dataset: { testid: "pivot-row", class: row.name } },
        el("th", { scope: "row", class: "class-name", title: row.name }, classNameElement(row.name)),
        group.runs.map((info) => renderCell(row, info)),
      );
    const virtual = group.rows.length > VIRTUAL_ABOVE;
    const body = el("tbody", {}, virtual ? [] : group.rows.map(renderRow));
    const scroller = el(
      "div",
      { class: "pivot-scroll" },
      el(
        "table",
        {
          class: `report-table pivot-table${virtual ? " virtual" : ""}`,
          dataset: { testid: "pivot-table" },
          style: { minWidth: `${CLASS_COLUMN_PX + RUN_COLUMN_MIN_PX * group.runs.length}px` }, // more runs: scroll sideways
        },
        tableCaption(`Pivot: ${metricLabel} of each run, class set ${index + 1}`),
        el(
          "colgroup",
          {},
          el("col", { class: "pivot-class-col" }),
          group.runs.map(() => el("col", {})),
        ),
        renderHead(group, metricLabel, colours),
        body,
      ),
    );
    if (virtual) {
      createVirtualRows({
        scroller,
        body,
        rowHeight: ROW_HEIGHT,
        renderRow,
        renderSpacer: (height) =>
          el("tr", { class: "spacer", "aria-hidden": "true" }, el("td", { colSpan: 1 + group.runs.length, style: { height: `${height}px` } })),
      }).setRows(group.rows);
    }
    return el(
      "section",
      {
        class: "pivot-group",
        dataset: { testid: "pivot-group", group: String(index), baselineGroup: String(group.hasBaseline) },
      },
      el("h3", { class: "pivot-group-title", dataset: { testid: "pivot-group-title" } }, isolatedText(classSetTitle(group, index))),
      scroller,
    );
  }

  return {
    element,
    /**
     * Redraws the pivot.
     * @param {{groups: Array|null, metric: string, colours: Object<string, string>, note?: string|null}} view
     *   `groups` from {@link import("../pivot.js").buildPivot}; `note`: differences left untested by design
     */
    update({ groups, metric, colours, note: noteText = null }) {
      note.hidden = !noteText;
      replaceChildren(note, ...isolatedText(noteText ?? ""));
      const metricLabel = PIVOT_METRICS.find((info) => info.key === metric)?.label ?? metric;
      if (!groups || groups.length === 0) {
        replaceChildren(element);
        return;
      }
      replaceChildren(
        element,
        groups.map((group, index) => renderGroup(group, index, metricLabel, colours)),
      );
    },
  };
}
