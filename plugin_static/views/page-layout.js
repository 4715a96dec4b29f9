// The page's scaffolding: the sidebar, the header (title, subtitle, status line, link to the view),
// the page's message and notes, and the cards the views draw into.
import { el, replaceChildren } from "../dom.js";
import { statusTitle } from "../status-line.js";
import { createSkippedNote } from "./skipped-note.js";

/**
 * A card: a titled section with an optional description, and the body a view draws into.
 * @param {string} testid
 * @param {string} title
 * @param {string} [description]
 * @returns {{element: HTMLElement, body: HTMLElement}}
 */
export function section(testid, title, description) {
  const body = el("div", { class: "card-body" });
  const element = el(
    "section",
    { class: "card", dataset: { testid } },
    el("header", { class: "card-header" }, el("h2", {}, title), description ? el("p", { class: "card-description" }, description) : null),
    body,
  );
  return { element, body };
}

/**
 * Draws the page's scaffolding into `root`, in place of what it held.
 * @param {HTMLElement} root
 * @param {{pollSeconds: number}} options seconds between checks for new runs, 0 for none (the status line's tooltip)
 * @returns {Object} the parts the page fills in: `sidebar`, `subtitle`, `status`, `pageMessage`,
 *   `linkNote`, `viewLink`, `skippedNote`, the cards (`reportSection`, `matrixSection`,
 *   `imbalanceSection`, `curvesSection`, `trendsSection`), `cardRow` (the matrix and imbalance
 *   cards) and `sections` (every card)
 */
export function createPageLayout(root, { pollSeconds }) {
  const sidebar = el("aside", { class: "sidebar", "aria-label": "Selection" });
  const subtitle = el("span", { class: "page-subtitle", dataset: { testid: "page-subtitle" } });
  const status = el("span", { class: "page-status", role: "status", title: statusTitle(pollSeconds), dataset: { testid: "page-status" } });
  const pageMessage = el("div", { class: "page-message", dataset: { testid: "page-message" } }, "Loading runs…");
  // A link whose runs are none of this log directory's: said, and the default runs shown instead.
  const linkNote = el("div", { class: "page-note", role: "status", hidden: true, dataset: { testid: "link-note" } });
  // Inside TensorBoard's tab the address bar stays at #imbalance: this page's own URL holds the view.
  const viewLink = el(
    "a",
    { class: "page-link", href: window.location.href, target: "_blank", rel: "noopener", dataset: { testid: "view-link" } },
    "Link to this view",
  );
  const skippedNote = createSkippedNote();
  const reportSection = section(
    "report",
    "Classification report",
    "Per-class precision, recall and F1 of each selected run, one table per class set, each compared with its own baseline; click a column header to sort. The pivot shows one metric with runs as columns.",
  );
  const matrixSection = section("matrix", "Confusion matrix", "Rows are true classes, columns predicted classes. Hover a cell for counts and shares.");
  const imbalanceSection = section("imbalance", "Imbalance at a glance", "How many samples each class has, next to how often the model predicts it.");
  const curvesSection = section(
    "curves",
    "Curves",
    "One class's precision-recall curve (dots: the argmax decision), ROC curve and reliability diagram at the report's step, selected runs overlaid. Shown for runs logged with scores.",
  );
  const trendsSection = section("trends", "Per-class trends", "Recall and F1 of each class across steps, selected runs overlaid.");
  const cardRow = el("div", { class: "card-row" }, matrixSection.element, imbalanceSection.element);
  const sections = el("div", { class: "sections", hidden: true }, reportSection.element, cardRow, curvesSection.element, trendsSection.element);
  const main = el(
    "main",
    { class: "content" },
    el("header", { class: "page-header" }, el("h1", {}, "Imbalance"), subtitle, status, viewLink),
    pageMessage,
    linkNote,
    skippedNote.element,
    sections,
  );
  replaceChildren(root, el("div", { class: "app", dataset: { testid: "imbalance-root" } }, sidebar, main));
  return {
    sidebar, subtitle, status, pageMessage, linkNote, viewLink, skippedNote,
    reportSection, matrixSection, imbalanceSection, curvesSection, trendsSection, cardRow, sections,
  };
}
