// The side-by-side classification-report table: sortable, filterable,
// virtualised, exportable; recall and precision with their 95% intervals,
// differences coloured only when significant, low-support classes marked.
import { el, isolatedText, replaceChildren } from "../dom.js";
import { copyText, downloadText, safeFilePart } from "../download.js";
import { classText, formatCount, formatScore, runText } from "../format.js";
import { exportTablesText, visibleClassRows } from "../report-table.js";
import { shownColumns, summaryCellLayout } from "../table-columns.js";
import { deltaMark, f1Title, intervalTitle, isLowSupport, lowSupportTitle, parseSupportThreshold } from "../significance.js";
import { deltaElement, intervalElement } from "./delta.js";
import { hiddenText } from "./hidden-text.js";
import { setCaption, tableCaption } from "./table-caption.js";
import { createStepSlider } from "./step-slider.js";
import { runNameElement } from "./run-name.js";
import { createVirtualRows } from "./virtual-rows.js";
import { classNameElement } from "./class-name.js";

// Rows hold two lines: the value (with its interval bar) and, below it, the
// difference to the baseline; stacked, three runs fit a 1280 px window.
const ROW_HEIGHT = 40;

/**
 * Creates the report table section.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(step: number|null) => void} actions.onStep
 * @param {(sort: Object) => void} actions.onSort
 * @param {(filter: string) => void} actions.onFilter called on every keystroke (the caller debounces)
 * @param {(threshold: number) => void} actions.onSupportThreshold
 * @returns {{update: (view: Object) => void, updateRows: (options: Object) => void}}
 */
export function createTableView(container, { onStep, onSort, onFilter, onSupportThreshold }) {
  let view = null;
  let shownRows = [];

  const slider = createStepSlider({ testid: "table", label: "Report step", onChange: onStep });
  const filterInput = el("input", {
    type: "search",
    class: "text-input",
    placeholder: "Filter classes",
    "aria-label": "Filter classes",
    dataset: { testid: "class-filter" },
  });
  filterInput.addEventListener("input", () => onFilter(filterInput.value));
  const classCount = el("span", { class: "muted", dataset: { testid: "class-count" } });
  const thresholdInput = el("input", {
    type: "number",
    min: "0",
    step: "1",
    class: "text-input number-input",
    "aria-label": "Mark classes with fewer examples than",
    title: "Classes with fewer examples (support) than this are marked: their scores are uncertain",
    dataset: { testid: "support-threshold" },
  });
  thresholdInput.addEventListener("input", () => {
    thresholdInput.setCustomValidity(thresholdInput.value === "" ? "Enter a number of examples (0: mark none)" : "");
    if (thresholdInput.validity.valid) onSupportThreshold(parseSupportThreshold(thresholdInput.value));
  });
  // Left empty or invalid (marked by the :invalid style meanwhile), the field shows again the mark in force.
  thresholdInput.addEventListener("change", () => {
    if (!thresholdInput.validity.valid) {
      thresholdInput.setCustomValidity("");
      thresholdInput.value = String(view.supportThreshold);
    }
  });
  const copyStatus = el("span", { class: "muted copy-status", role: "status" });

  const exportButton = (testid, label, handler) => {
    const button = el("button", { type: "button", class: "button", dataset: { testid } }, label);
    button.addEventListener("click", handler);
    return button;
  };
  const exportButtons = el(
    "div",
    { class: "button-group", role: "group", "aria-label": "Export" },
    exportButton("export-csv", "CSV", () => exportTable("csv", "download")),
    exportButton("export-markdown", "Markdown", () => exportTable("markdown", "download")),
    exportButton("copy-csv", "Copy CSV", () => exportTable("csv", "copy")),
    exportButton("copy-markdown", "Copy Markdown", () => exportTable("markdown", "copy")),
  );

  const message = el("div", { class: "section-message", hidden: true });
  // Differences left untested by design (e.g. class groups): a plain note, not an error.
  const note = el("p", { class: "hint section-note", hidden: true, dataset: { testid: "report-note" } });
  // One table per class set: the baseline's first, then one per other class set.
  const groupsHost = el("div", { class: "report-groups", dataset: { testid: "report-groups" } });
  const grids = [];

  container.append(
    el(
      "div",
      { class: "toolbar" },
      slider.element,
      el("div", { class: "toolbar-group" }, filterInput, classCount),
      el("label", { class: "field support-field" }, el("span", { class: "field-label" }, "Mark support below"), thresholdInput),
      el("div", { class: "toolbar-group toolbar-end" }, copyStatus, el("span", { class: "muted" }, "Export"), exportButtons),
    ),
    message,
    note,
    groupsHost,
  );

  // WAI-ARIA's sortable table: a button in each sortable header cell, `aria-sort` on the sorted one only.
  function sortAttributes(column, run) {
    const sort = view.sort;
    const active = sort.column === column && (sort.run || null) === (run || null);
    return {
      ...(active ? { "aria-sort": sort.direction === "asc" ? "ascending" : "descending" } : {}),
      class: active ? `sortable sorted sorted-${sort.direction}` : "sortable",
      dataset: { sortColumn: column, ...(run ? { run } : {}) },
    };
  }

  /** The header cell's button: its label, and what a click does in the title. */
  function sortButton(label, title) {
    return el("button", { type: "button", class: "sort-button", title, dataset: { testid: "sort-button" } }, label);
  }

  /** One class set's table: its own header, summary rows and virtualised class rows. */
  function createGrid() {
    // `table`: the data (every column, for exports); `shown`: the columns and summary rows drawn.
    const grid = { table: null, shown: null, shownRows: [] };
    const head = el("thead");
    const summaryBody = el("tbody", { class: "summary-body" });
    const classBody = el("tbody", { class: "class-body" });
    const caption = tableCaption("Classification report");
    const table = el("table", { class: "report-table stacked", dataset: { testid: "report-table" } }, caption, head, summaryBody, classBody);
    const scroller = el("div", { class: "table-scroll" }, table);
    const title = el("h3", { class: "report-group-title", dataset: { testid: "report-group-title" } });
    grid.element = el("section", { class: "report-group", dataset: { testid: "report-group" } }, title, scroller);

    const columnCount = () => 1 + grid.table.columns.length * grid.shown.fields.length;
    const virtualRows = createVirtualRows({
      scroller,
      body: classBody,
      rowHeight: ROW_HEIGHT,
      renderRow: (row) => renderRow(grid.table, grid.shown, row, "report-row"),
      renderSpacer: (height) =>
        el("tr", { class: "spacer", "aria-hidden": "true" }, el("td", { colSpan: columnCount(), style: { height: `${height}px` } })),
    });

    // A click anywhere in a sortable header cell sorts, as its button does (Enter and Space included).
    head.addEventListener("click", (event) => {
      const cell = event.target.closest("[data-sort-column]");
      if (!cell) return;
      const column = cell.dataset.sortColumn;
      const run = cell.dataset.run || null;
      const current = view.sort;
      const same = current.column === column && current.run === run;
      // Scores sort best-first on the first click (calibration error: lowest first); names and index ascending.
      const lowerIsBetter = grid.table.fields.some((fieldInfo) => fieldInfo.key === column && fieldInfo.lowerIsBetter);
      const firstDirection = column === "name" || column === "index" || lowerIsBetter ? "asc" : "desc";
      const direction = same ? (current.direction === "asc" ? "desc" : "asc") : firstDirection;
      onSort({ column, run, direction });
    });

    grid.renderHead = () => renderHead(grid.table, grid.shown, head);
    grid.drawRows = () => {
      grid.shownRows = visibleClassRows(grid.table.classRows, view.filter, view.sort);
      virtualRows.setRows(grid.shownRows);
    };
    /** Shows `data` (a table of buildReportTables; its class rows come with drawRows); `titled` when there are several. */
    grid.show = (data, titled) => {
      grid.table = data;
      grid.shown = shownColumns(data, view.columns);
      grid.element.hidden = false;
      grid.element.dataset.columns = grid.shown.columnSet;
      grid.element.dataset.baselineGroup = String(data.hasBaseline);
      grid.element.classList.toggle("not-compared", !data.hasBaseline);
      title.hidden = !titled;
      replaceChildren(title, ...isolatedText(titled ? data.title : ""));
      setCaption(caption, titled ? `Classification report · ${data.title}` : "Classification report");
      grid.renderHead();
      replaceChildren(summaryBody, grid.shown.summaryRows.map((row) => renderRow(data, grid.shown, row, "summary-row")));
    };
    grid.hide = () => {
      grid.table = null;
      grid.shown = null;
      grid.shownRows = [];
      grid.element.hidden = true;
      replaceChildren(head);
      replaceChildren(summaryBody);
      virtualRows.setRows([]);
    };
    return grid;
  }

  function renderHead(data, shown, head) {
    const { columns } = data;
    const { fields } = shown;
    const groupRow = el(
      "tr",
      { class: "group-row" },
      el(
        "th",
        {
          rowSpan: 2,
          scope: "col",
          ...sortAttributes("name", null),
          class: `${sortAttributes("name", null).class} class-head`,
          dataset: { testid: "report-header-cell", field: "name", sortColumn: "name" },
        },
        sortButton("Class", "Sort by class name"),
        el(
          "button",
          { type: "button", class: "link-button index-sort", title: "Original class order", dataset: { sortColumn: "index", testid: "sort-index" } },
          "#",
        ),
      ),
      columns.map((column) =>
        el(
          "th",
          {
            colSpan: fields.length,
            scope: "colgroup",
            class: `run-head${column.isBaseline ? " is-baseline" : ""}`,
            dataset: { testid: "report-run-head", run: column.run },
            title: column.run,
          },
          el("span", { class: "swatch", style: { background: view.colours[column.run] } }),
          runNameElement(column.run),
          column.isBaseline ? el("span", { class: "badge" }, "baseline") : null,
          column.step !== null && column.step !== undefined
            ? el("span", { class: "muted step-note", dataset: { testid: "report-run-step" } }, `step ${column.step}`)
            : null,
        ),
      ),
    );
    const fieldRow = el(
      "tr",
      { class: "field-row" },
      columns.map((column) =>
        fields.map((fieldInfo) =>
          el(
            "th",
            {
              scope: "col",
              ...sortAttributes(fieldInfo.key, column.run),
              class: `${sortAttributes(fieldInfo.key, column.run).class} num${edgeClass(fieldInfo === fields[0])}`,
              dataset: { testid: "report-header-cell", run: column.run, field: fieldInfo.key, sortColumn: fieldInfo.key },
            },
            sortButton(fieldInfo.label, fieldInfo.description ? `${fieldInfo.description}. Click to sort.` : "Sort"),
          ),
        ),
      ),
    );
    // The focused button (a header cell's, or the class order's "#") is focused again in the new header.
    const active = head.contains(document.activeElement) ? document.activeElement : null;
    const focused = active && (active.dataset.sortColumn ? active.dataset : active.closest("th")?.dataset);
    const index = active?.classList.contains("index-sort");
    replaceChildren(head, groupRow, fieldRow);
    if (focused) {
      const cell = [...head.querySelectorAll("th[data-sort-column]")].find(
        (th) => th.dataset.sortColumn === (index ? "name" : focused.sortColumn) && th.dataset.run === focused.run,
      );
      cell?.querySelector(index ? ".index-sort" : ".sort-button")?.focus();
    }
    // The field row sticks right below the group row.
    requestAnimationFrame(() => {
      const offset = groupRow.getBoundingClientRect().height;
      for (const cell of fieldRow.children) cell.style.top = `${offset}px`;
    });
  }

  function intervalParts(row, column, fieldInfo, value) {
    const details = row.details?.[column.run];
    if (details && fieldInfo.key === "f1" && row.id === undefined) return { title: f1Title(row.cells[column.run].support, details.predicted), bar: null };
    if (!details || (fieldInfo.key !== "recall" && fieldInfo.key !== "precision")) return { title: null, bar: null };
    const interval = fieldInfo.key === "recall" ? details.recallInterval : details.precisionInterval;
    const denominator = fieldInfo.key === "recall" ? row.cells[column.run].support : details.predicted;
    const title = intervalTitle(fieldInfo.key, value, interval, denominator, details.weighted);
    return { title, bar: intervalElement(interval, value) };
  }

  /** The border that starts a run's columns. */
  function edgeClass(first) {
    return first ? " group-start" : "";
  }

  /** One value cell; `first`: the run's first column. */
  function renderCell(row, column, fieldInfo, first) {
    const className = `num${edgeClass(first)}`;
    const values = row.cells[column.run];
    const value = values?.[fieldInfo.key];
    if (value === null && fieldInfo.curve) {
      // A curve score the run does not have: no curves at its step, or undefined for the class.
      return el(
        "td",
        {
          class: `${className} cell-undefined`,
          title: `${fieldInfo.label}: not defined here (no curves at this step, or too few examples of the class)`,
          dataset: { testid: "report-cell", run: column.run, field: fieldInfo.key, value: "null" },
        },
        el("span", { class: "value" }, "–"),
      );
    }
    if (value === undefined || value === null) return el("td", { class: className });
    const delta = row.deltas[column.run]?.[fieldInfo.key];
    const showDelta = delta !== undefined && !(fieldInfo.isCount && delta === 0);
    const mark = showDelta ? deltaMark(delta, fieldInfo.key, row.tests?.[column.run]?.[fieldInfo.key], { summary: row.id !== undefined }) : null;
    const { title, bar } = intervalParts(row, column, fieldInfo, value);
    const lowSupport = fieldInfo.key === "support" && row.id === undefined && isLowSupport(value, view.supportThreshold);
    return el(
      "td",
      {
        class: `${className}${bar ? " has-interval" : ""}${lowSupport ? " low-support" : ""}`,
        title: lowSupport ? lowSupportTitle(value, view.supportThreshold) : title,
        dataset: { testid: "report-cell", run: column.run, field: fieldInfo.key, value: String(value), ...(lowSupport ? { lowSupport: "true" } : {}) },
      },
      el("span", { class: "value" }, fieldInfo.isCount ? formatCount(value) : formatScore(value), bar),
      lowSupport ? hiddenText(value === 0 ? " (no examples)" : ` (fewer than ${view.supportThreshold} examples)`) : null,
      showDelta ? deltaElement(delta, mark, { isCount: fieldInfo.isCount }) : null,
    );
  }

  function renderSummaryCells(shown, row, column) {
    const values = row.cells[column.run];
    return summaryCellLayout(row, shown.fields, Boolean(values)).map(({ field: fieldInfo, span, filled }, index) => {
      const first = index === 0;
      let cell;
      if (!filled) cell = el("td", { class: `num${edgeClass(first)}` });
      else if (row.longTail && values[fieldInfo.key] === null) {
        cell = el(
          "td",
          {
            class: `num${edgeClass(first)} empty-bucket`,
            title: `${row.label}: no class with validation examples falls in this bucket`,
            dataset: { testid: "report-cell", run: column.run, field: fieldInfo.key, value: "null" },
          },
          el("span", { class: "value" }, "—"),
        );
      } else cell = renderCell(row, column, fieldInfo, first);
      // Single scores sit under F1 and span the score columns, as in scikit-learn's text report.
      if (span > 1) cell.colSpan = span;
      return cell;
    });
  }

  function lowSupportRuns(data, row) {
    return data.columns.filter((column) => isLowSupport(row.cells[column.run]?.support, view.supportThreshold)).map((column) => column.run);
  }

  function renderRow(data, shown, row, testid) {
    const isSummary = testid === "summary-row";
    const lowIn = isSummary ? [] : lowSupportRuns(data, row);
    const nameTitle = lowIn.length
      ? `${classText(row.name)} — fewer than ${view.supportThreshold} examples in ${lowIn.map((run) => runText(run)).join(", ")}`
      : row.name;
    return el(
      "tr",
      {
        class: isSummary ? `summary-row${row.metric ? " metric-row" : ""}` : `class-row${lowIn.length ? " low-support-row" : ""}`,
        dataset: { testid, class: row.name, row: row.id ?? row.index, ...(lowIn.length ? { lowSupport: "true" } : {}) },
      },
      el("th", { scope: "row", class: "class-name", title: nameTitle }, isSummary ? row.name : classNameElement(row.name)),
      data.columns.map((column) =>
        isSummary
          ? renderSummaryCells(shown, row, column)
          : shown.fields.map((fieldInfo, index) => renderCell(row, column, fieldInfo, index === 0)),
      ),
    );
  }

  const shownGrids = () => grids.filter((grid) => grid.table);

  function exportTable(flavour, target) {
    const parts = shownGrids().map((grid) => ({ table: grid.table, classRows: grid.shownRows, title: grid.table.exportTitle }));
    if (!parts.length) return;
    const text = exportTablesText(parts, flavour);
    if (target === "copy") {
      copyText(text).then((copied) => {
        copyStatus.textContent = copied ? "Copied" : "Copy failed";
        setTimeout(() => (copyStatus.textContent = ""), 2000);
      });
      return;
    }
    const name = `classification-report_${safeFilePart(view.tag)}_step-${view.step ?? "latest"}`;
    if (flavour === "csv") downloadText(`${name}.csv`, text, "text/csv;charset=utf-8");
    else downloadText(`${name}.md`, text, "text/markdown;charset=utf-8");
  }

  function drawRows() {
    let shown = 0;
    let total = 0;
    for (const grid of shownGrids()) {
      grid.drawRows();
      shown += grid.shownRows.length;
      total += grid.table.classRows.length;
    }
    classCount.textContent = shown === total ? `${total} classes` : `${shown} of ${total} classes`;
  }

  return {
    /**
     * Redraws every table.
     * @param {{tables: Array|null, steps: number[], wantedStep: number|null, step: number|null,
     *   sort: Object, filter: string, supportThreshold: number, colours: Object, tag: string,
     *   columns: string, message: string|null}} next `tables` from
     *   {@link import("../report-table.js").buildReportTables}; `columns` the column set
     *   ({@link import("../table-columns.js").COLUMN_SETS}) tables with curves show.
     *   Exports hold every column of a table, whichever set is shown.
     */
    update(next) {
      view = next;
      slider.update(next.steps, next.wantedStep);
      // Never overwrite what the user is typing (the store catches up after a pause).
      if (filterInput.value !== next.filter && document.activeElement !== filterInput) filterInput.value = next.filter;
      if (document.activeElement !== thresholdInput) thresholdInput.value = String(next.supportThreshold);
      message.hidden = !next.message;
      replaceChildren(message, ...isolatedText(next.message ?? ""));
      note.hidden = !next.note;
      replaceChildren(note, ...isolatedText(next.note ?? ""));
      const tables = next.tables ?? [];
      for (const button of exportButtons.children) button.disabled = tables.length === 0;
      // Grids are kept (hidden) when fewer tables are shown, and reused.
      while (grids.length < tables.length) {
        const grid = createGrid();
        grids.push(grid);
        groupsHost.append(grid.element);
      }
      grids.forEach((grid, index) => {
        if (index < tables.length) grid.show(tables[index], tables.length > 1);
        else grid.hide();
      });
      groupsHost.hidden = tables.length === 0;
      if (tables.length === 0) {
        classCount.textContent = "";
        return;
      }
      drawRows();
    },

    /**
     * Redraws only the class rows (and the sort marks in the headers) for a
     * new filter, sort or support threshold; the data stay as they are.
     * @param {{filter: string, sort: Object, supportThreshold: number}} options
     */
    updateRows({ filter, sort, supportThreshold }) {
      if (!view) return;
      const sortChanged = sort !== view.sort;
      view = { ...view, filter, sort, supportThreshold };
      if (document.activeElement !== thresholdInput) thresholdInput.value = String(supportThreshold);
      if (shownGrids().length === 0) return;
      if (sortChanged) for (const grid of shownGrids()) grid.renderHead();
      drawRows();
    },
  };
}
