// What a closed `<select>` shows of its chosen option: the line left by its padding and arrow,
// measured in its own font, so that wide glyphs (CJK, emoji) and narrow ones take their own room.

/** CSS pixels of a closed select's arrow (Chromium and Firefox draw it in about 20). */
const ARROW = 20;
let context = null;

/**
 * Whether a text fits the line of a closed `<select>`, for class-label.js `fittedName`.
 * @param {HTMLSelectElement} control
 * @returns {((text: string) => boolean)|null} null where the select is not laid out (hidden)
 */
export function selectLineFits(control) {
  const style = getComputedStyle(control);
  const room = control.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - ARROW;
  if (!(room > 0)) return null;
  context ??= document.createElement("canvas").getContext("2d");
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  return (text) => context.measureText(text).width <= room;
}
