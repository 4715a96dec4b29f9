// The examples panel: the rows of the examples set behind one
// confusion-matrix cell (true i, predicted j) at the matrix's step, each with
// its thumbnail, text or first values, its id and its top-3 scores.
import { breakable, el, isolatedText, replaceChildren } from "../dom.js";
import { isolated, runText, shownName } from "../format.js";
import { buildExamplesView, examplesHeadingParts, thumbnailSize } from "../examples-view-data.js";
import { classNameElement } from "./class-name.js";

/**
 * A class name in running text (the heading, an example's classes), whole: it wraps only at its
 * spaces and after its "_", "/", "-" and "." (style.css), and is isolated (a right-to-left name
 * cannot reorder the text around it).
 * @param {string} name
 * @returns {HTMLElement}
 */
const wrappingName = (name) => el("bdi", { class: "wrapping-name" }, breakable(shownName(name)));

let panelCount = 0;

/**
 * Creates the (hidden) examples panel.
 * @param {Object} options
 * @param {ReturnType<import("../api.js").createApi>} options.api
 * @returns {{element: HTMLElement, open: (target: Object) => void,
 *   update: (context: {run: string|null, tag: string|null, step: number|null, grouped?: boolean}) => void,
 *   close: () => void, isOpen: () => boolean}}
 */
export function createExamplesPanel({ api }) {
  const headingId = `examples-heading-${++panelCount}`;
  let target = null; // {run, tag, step, trueIndex, predIndex, trueName, predName, returnFocus}
  let request = 0;

  const heading = el("h3", { id: headingId, class: "examples-heading", tabindex: "-1", dataset: { testid: "examples-heading" } });
  const closeButton = el(
    "button",
    { type: "button", class: "button examples-close", "aria-label": "Close examples", dataset: { testid: "examples-close" } },
    "Close",
  );
  const source = el("p", { class: "examples-source muted", dataset: { testid: "examples-source" } });
  const caption = el("p", { class: "caption", dataset: { testid: "examples-caption" } });
  const note = el("p", { class: "examples-note", hidden: true, dataset: { testid: "examples-cut" } });
  const message = el("div", { class: "section-message", hidden: true, role: "alert", dataset: { testid: "examples-message" } });
  const list = el("ol", { class: "examples-list", dataset: { testid: "examples-list" } });
  const element = el(
    "section",
    { class: "examples-panel", role: "region", "aria-labelledby": headingId, hidden: true, dataset: { testid: "examples-panel", state: "closed" } },
    el("header", { class: "examples-head" }, heading, closeButton),
    source,
    caption,
    note,
    message,
    list,
  );

  closeButton.addEventListener("click", () => close());
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  function setState(state) {
    element.dataset.state = state;
    element.setAttribute("aria-busy", String(state === "loading"));
  }

  function showNote(node, text) {
    node.hidden = !text;
    node.textContent = text ?? "";
  }

  function renderScores(view, example) {
    return el(
      "table",
      { class: "example-top", dataset: { testid: "example-top" } },
      el("caption", { class: "example-top-caption" }, view.scoreLabel),
      el(
        "tbody",
        {},
        example.top.map((entry) =>
          el(
            "tr",
            { class: `${entry.isPredicted ? "is-predicted" : ""}${entry.isTrue ? " is-true" : ""}`.trim() || null },
            el(
              "td",
              { class: "example-top-name", title: entry.name },
              el("span", { class: "example-top-label" }, el("bdi", {}, classNameElement(entry.name)), entry.isTrue ? el("span", { class: "example-tag" }, " (true)") : null),
            ),
            el("td", { class: "num", dataset: { testid: "example-score" } }, entry.score),
          ),
        ),
      ),
    );
  }

  function renderBody(example) {
    if (example.kind === "image") {
      const src = example.image === null ? null : api.resolve(example.image);
      if (src === null) return el("p", { class: "example-missing muted" }, "No thumbnail address for this example.");
      const size = thumbnailSize(example.width, example.height);
      const image = el("img", {
        class: "example-thumb",
        alt: example.alt,
        width: size.width,
        height: size.height,
        decoding: "async",
        dataset: { testid: "example-image" },
      });
      image.addEventListener("error", () => image.replaceWith(el("p", { class: "example-missing muted" }, "The thumbnail could not be loaded.")), { once: true });
      image.src = src;
      return el("div", { class: "example-figure" }, image, example.scaleNote ? el("p", { class: "example-detail muted" }, example.scaleNote) : null);
    }
    if (example.kind === "text") {
      return el(
        "div",
        { class: "example-figure" },
        el("pre", { class: "example-text", dataset: { testid: "example-text" } }, example.text),
        example.textNote ? el("p", { class: "example-detail muted", dataset: { testid: "example-text-note" } }, example.textNote) : null,
      );
    }
    if (example.kind === "values") {
      return el("div", { class: "example-figure" }, el("code", { class: "example-values", dataset: { testid: "example-values" } }, example.values));
    }
    return el("p", { class: "example-missing muted" }, "This example cannot be shown by this version of the dashboard.");
  }

  function renderExamples(view) {
    replaceChildren(
      list,
      view.examples.map((example) =>
        el(
          "li",
          { class: `example example-of-${example.kind}`, dataset: { testid: "example", id: example.id, kind: example.kind } },
          renderBody(example),
          el(
            "div",
            { class: "example-meta" },
            el("div", { class: "example-id", dataset: { testid: "example-id" } }, example.idLabel),
            el(
              "div",
              { class: "example-classes", dataset: { testid: "example-classes" } },
              el("span", { class: "muted" }, "true "),
              wrappingName(example.trueName),
              el("span", { class: "muted" }, " · predicted "),
              wrappingName(example.predName),
            ),
            renderScores(view, example),
          ),
        ),
      ),
    );
  }

  /** The heading, each class name isolated from the arrow (<bdi>: right-to-left names keep true → predicted). */
  function showHeading([trueName, arrow, predName, at]) {
    replaceChildren(heading, wrappingName(trueName), arrow, wrappingName(predName), at);
  }

  async function load() {
    const id = ++request;
    const wanted = target;
    element.dataset.true = String(wanted.trueIndex);
    element.dataset.pred = String(wanted.predIndex);
    element.dataset.step = wanted.step === null ? "" : String(wanted.step);
    element.dataset.run = wanted.run;
    showHeading(examplesHeadingParts(wanted.trueName, wanted.predName, wanted.step));
    replaceChildren(source, ...isolatedText(`${runText(wanted.run)} · ${isolated(wanted.tag)}`));
    caption.textContent = "Loading examples…";
    showNote(note, null);
    showNote(message, null);
    replaceChildren(list);
    setState("loading");
    let payload;
    try {
      payload = await api.examples(wanted.run, wanted.tag, wanted.step, wanted.trueIndex, wanted.predIndex);
    } catch (error) {
      if (id !== request) return;
      caption.textContent = "";
      showNote(message, error.message || "Could not load the examples.");
      setState("error");
      return;
    }
    if (id !== request) return;
    const view = buildExamplesView(payload);
    showHeading(view.headingParts);
    element.dataset.step = String(view.step);
    caption.textContent = view.caption;
    showNote(note, [view.cutNote, view.emptyNote].filter(Boolean).join(" ") || null);
    renderExamples(view);
    setState("ready");
  }

  /**
   * Closes the panel and gives focus back to the cell or row that opened it
   * (when focus was in the panel).
   */
  function close() {
    if (!target) return;
    const { returnFocus } = target;
    const hadFocus = element.contains(document.activeElement);
    target = null;
    request++;
    element.hidden = true;
    setState("closed");
    replaceChildren(list);
    if (hadFocus && returnFocus) returnFocus();
  }

  return {
    element,

    /**
     * Shows the examples of one cell and moves focus into the panel.
     * @param {{run: string, tag: string, step: number|null, trueIndex: number, predIndex: number,
     *   trueName: string, predName: string, returnFocus?: () => void}} next
     *   `returnFocus` puts focus back on the invoking cell when the panel closes
     */
    open(next) {
      target = { ...next };
      element.hidden = false;
      load();
      heading.focus({ preventScroll: true });
      element.scrollIntoView({ block: "nearest" });
    },

    /**
     * Follows the matrix: a new step re-fetches the open cell; another run
     * or tag, or the groups view, closes the panel.
     * @param {{run: string|null, tag: string|null, step: number|null, grouped?: boolean}} context
     */
    update({ run, tag, step, grouped = false }) {
      if (!target) return;
      if (run !== target.run || tag !== target.tag || grouped || step === null) {
        close();
        return;
      }
      if (step !== target.step) {
        target = { ...target, step };
        load();
      }
    },

    close,

    /** @returns {boolean} */
    isOpen() {
      return target !== null;
    },
  };
}
