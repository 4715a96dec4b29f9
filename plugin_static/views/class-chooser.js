// A search box that picks one class among thousands: suggestions while
// typing (a short datalist, never every class), Enter or a suggestion
// chooses, an empty box (or the reset button) chooses none; a class named
// in white space only is chosen by typing its name.
import { el, field, replaceChildren } from "../dom.js";
import { matchingClasses, typedChoice } from "../class-search.js";

const SUGGESTIONS = 20;
let chooserCount = 0;

/**
 * Creates the chooser.
 * @param {Object} options
 * @param {string} options.label the field's label
 * @param {string} options.resetLabel the reset button's text
 * @param {string} options.testid `data-testid` of the input; the reset
 *   button's is `<testid>-reset`, the note's `<testid>-note`
 * @param {(index: number|null) => void} options.onChoose a class index, or null for none
 * @returns {{element: HTMLElement, update: (names: string[], chosen: number|null) => void}}
 */
export function createClassChooser({ label, resetLabel, testid, onChoose }) {
  let names = [];
  const listId = `class-chooser-${++chooserCount}`;
  const suggestions = el("datalist", { id: listId });
  const input = el("input", {
    type: "search",
    class: "text-input class-chooser-input",
    placeholder: "Search a class",
    autocomplete: "off",
    list: listId,
    dataset: { testid },
  });
  const reset = el("button", { type: "button", class: "button", hidden: true, dataset: { testid: `${testid}-reset` } }, resetLabel);
  const note = el("span", { class: "muted class-chooser-note", role: "status", dataset: { testid: `${testid}-note` } });

  input.addEventListener("input", (event) => {
    note.textContent = "";
    // A suggestion picked from the list chooses at once (typing waits for Enter).
    if (event.inputType === "insertReplacementText" && names.includes(input.value)) {
      onChoose(names.indexOf(input.value));
      return;
    }
    replaceChildren(
      suggestions,
      matchingClasses(names, input.value, SUGGESTIONS).map((index) => el("option", { value: names[index] })),
    );
  });
  input.addEventListener("change", () => {
    const choice = typedChoice(names, input.value);
    if ("note" in choice) {
      note.textContent = choice.note;
      return;
    }
    if (choice.index !== null) input.value = names[choice.index];
    onChoose(choice.index);
  });
  reset.addEventListener("click", () => {
    input.value = "";
    note.textContent = "";
    onChoose(null);
  });

  return {
    element: el("div", { class: "class-chooser" }, field(label, input), suggestions, reset, note),
    update(nextNames, chosen) {
      names = nextNames;
      reset.hidden = chosen === null;
      if (document.activeElement !== input) input.value = chosen === null ? "" : names[chosen];
    },
  };
}
