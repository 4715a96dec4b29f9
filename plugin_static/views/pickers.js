// The sidebar: tag, runs (checkboxes with a filter) and the baseline run of each class set.
import { breakable, el, field, replaceChildren, select, setOptions } from "../dom.js";
import { shownRun } from "../format.js";

/**
 * Creates the run / tag / baseline pickers.
 * @param {HTMLElement} container
 * @param {Object} actions
 * @param {(tag: string) => void} actions.onTag
 * @param {(runs: string[]) => void} actions.onRuns the new selection
 * @param {(run: string, classSet: number) => void} actions.onBaseline a new baseline for class set `classSet`
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

  // One baseline per class set: runs are compared only with runs of the same classes.
  const baselineFields = el("div", { class: "baseline-fields", dataset: { testid: "baseline-fields" } });
  const baselineSelects = [];
  const baselineSelect = (index) => {
    while (baselineSelects.length <= index) {
      const position = baselineSelects.length;
      const input = select([], null, { dataset: { testid: "baseline-select", classSet: String(position) } });
      input.addEventListener("change", () => onBaseline(input.value, position));
      const label = el("span", { class: "field-label" });
      const wrapper = el("label", { class: "field" }, label, input);
      baselineSelects.push({ input, label, wrapper });
    }
    return baselineSelects[index];
  };

  const compareHint = el(
    "p",
    { class: "hint", dataset: { testid: "compare-hint" } },
    "Each run is compared with the baseline of its class set: ",
    el("span", { class: "better" }, "better"),
    " / ",
    el("span", { class: "worse" }, "worse"),
    " where significant (95%), ",
    el("span", { class: "ns-mark" }, "n.s."),
    " where not.",
  );
  // With one run per class set the baseline picker has nothing to compare: it says what would.
  const aloneHint = el("p", { class: "hint", hidden: true, dataset: { testid: "compare-alone-hint" } });
  const ALONE = "Nothing to compare yet: select a second run with the same classes to see its differences to the baseline.";
  const NONE_SELECTED = "No run selected: select runs (at least two with the same classes) to compare them.";
  const baselineSection = el("section", { class: "side-section" }, baselineFields, compareHint, aloneHint);

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
    baselineSection,
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
        el("span", { class: "run-name" }, breakable(shownRun(run))),
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
     *   classSets: Array<{label: string, runs: string[], baseline: string|null}>,
     *   colours: Object<string, string>, stepErrors: Object<string, string>}} view
     *   `classSets`: the selected runs by class set, each with its baseline
     */
    update(view) {
      current = view;
      setOptions(tagSelect, view.tags.map((tag) => [tag, tag]), view.tag);
      tagSelect.disabled = view.tags.length === 0;
      drawRuns();
      const sets = view.classSets.length ? view.classSets : [{ label: "", runs: [], baseline: null }];
      const shown = sets.map((set, index) => {
        const picker = baselineSelect(index);
        picker.label.textContent = sets.length > 1 ? `Baseline · ${set.label}` : "Baseline run";
        setOptions(picker.input, set.runs.map((run) => [run, shownRun(run)]), set.baseline);
        picker.input.disabled = set.runs.length === 0;
        return picker.wrapper;
      });
      // Re-attaching a focused select would blur it: only when the class sets changed.
      const same = shown.length === baselineFields.children.length && shown.every((node, index) => baselineFields.children[index] === node);
      if (!same) replaceChildren(baselineFields, shown);
      const comparable = view.classSets.some((set) => set.runs.length > 1);
      baselineSection.hidden = view.runs.length === 0;
      compareHint.hidden = !comparable;
      aloneHint.hidden = comparable;
      aloneHint.textContent = view.selectedRuns.length === 0 ? NONE_SELECTED : ALONE;
    },
  };
}
