// A table's name for a screen reader: a `<caption>` kept off screen, where the card's heading
// already says what the table is.
import { el, isolatedText, replaceChildren } from "../dom.js";

/**
 * `<caption class="visually-hidden">` of `text` (names in it isolated, see {@link isolatedText}).
 * @param {string} text
 * @returns {HTMLTableCaptionElement}
 */
export function tableCaption(text) {
  const caption = el("caption", { class: "visually-hidden", dataset: { testid: "table-caption" } });
  setCaption(caption, text);
  return caption;
}

/**
 * Replaces a {@link tableCaption}'s text.
 * @param {HTMLTableCaptionElement} caption
 * @param {string} text
 */
export function setCaption(caption, text) {
  replaceChildren(caption, ...isolatedText(text));
}
