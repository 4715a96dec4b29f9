// The sidebar: tag, runs (checkboxes with a filter) and the baseline run.
import { el, field, replaceChildren, select, setOptions } from "../dom.js";
import { runLabel } from "../format.js";

/**
 * Creates the run / tag / baseline pickers.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(tag: string) => void} actions.onTag
 * @param {(runs: string[]) => void} actions.onRuns the new selection
 * @param {(run: string) => void} actions.onBaseline
 * @returns {{update: (view: Object) => void}}
 */
export function createPickers(container, { onTag, onRuns, onBaseline }) {
  let current = { runs: [], selectedRuns: [] };

  const tagSelect = select([], null, { dataset: { testid: "tag-select" } });
  tagSelect.addEventListener("change", () => onTag(tagSelect.value));

  const filterInput = el("input", {
    type: "search",
    class: "text-input",
    placeholder: "Filter runs",
    "aria-label": "Filter runs",
    dataset: { testid: "run-filter" },
  });
  const matchingRuns = () => {
    const needle = filterInput.value.trim().toLowerCase();
    return current.runs.filter((run) => run.toLowerCase().includes(needle));
  };
  const selectAll = el("button", { type: "button", class: "link-button", dataset: { testid: "runs-all" } }, "All");
  const selectNone = el("button", { type: "button", class: "link-button", dataset: { testid: "runs-none" } }, "None");
  selectAll.addEventListener("click", () => {
    const wanted = new Set([...current.selectedRuns, ...matchingRuns()]);
    onRuns(current.runs.filter((run) => wanted.has(run)));
  });
  selectNone.addEventListener("click", () => {
    const removed = new Set(matchingRuns());
    onRuns(current.selectedRuns.filter((run) => !removed.has(run)));
  });

  const runCount = el("span", { class: "muted", dataset: { testid: "run-count" } });
  const runList = el("div", { class: "run-list", role: "group", "aria-label": "Runs" });
  runList.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    const chosen = new Set(current.selectedRuns);
    if (box.checked) chosen.add(box.value);
    else chosen.delete(box.value);
    onRuns(current.runs.filter((run) => chosen.has(run)));
  });
  filterInput.addEventListener("input", () => drawRuns());

  const baselineSelect = select([], null, { dataset: { testid: "baseline-select" } });
  baselineSelect.addEventListener("change", () => onBaseline(baselineSelect.value));

  container.append(
    el("section", { class: "side-section" }, field("Tag", tagSelect)),
    el(
      "section",
      { class: "side-section side-runs" },
      el("div", { class: "side-heading" }, el("span", { class: "field-label" }, "Runs"), runCount),
      filterInput,
      el("div", { class: "run-actions" }, "Select ", selectAll, " · ", selectNone),
      runList,
    ),
    el(
      "section",
      { class: "side-section" },
      field("Baseline run", baselineSelect),
      el("p", { class: "hint" }, "Other runs are compared to the baseline: ", el("span", { class: "better" }, "better"), " / ", el("span", { class: "worse" }, "worse"), " where significant (95%), muted where not (n.s.)."),
    ),
  );

  function drawRuns() {
    const chosen = new Set(current.selectedRuns);
    const shown = matchingRuns();
    const items = shown.map((run) =>
      el(
        "label",
        { class: "run-item", title: run },
        el("input", {
          type: "checkbox",
          value: run,
          checked: chosen.has(run),
          dataset: { testid: "run-checkbox", run },
        }),
        el("span", { class: "swatch", style: { background: current.colours[run] } }),
        el("span", { class: "run-name" }, runLabel(run)),
        current.stepErrors[run] ? el("span", { class: "badge badge-error", title: current.stepErrors[run] }, "error") : null,
      ),
    );
    if (items.length === 0) items.push(el("p", { class: "muted empty-line" }, current.runs.length ? "No run matches the filter." : "No runs."));
    replaceChildren(runList, items);
    runCount.textContent = `${current.selectedRuns.length} of ${current.runs.length}`;
  }

  return {
    /**
     * @param {{tags: string[], tag: string|null, runs: string[], selectedRuns: string[],
     *   baseline: string|null, colours: Object<string, string>, stepErrors: Object<string, string>}} view
     */
    update(view) {
      current = view;
      setOptions(tagSelect, view.tags.map((tag) => [tag, tag]), view.tag);
      tagSelect.disabled = view.tags.length === 0;
      drawRuns();
      setOptions(baselineSelect, view.selectedRuns.map((run) => [run, runLabel(run)]), view.baseline);
      baselineSelect.disabled = view.selectedRuns.length === 0;
    },
  };
}
