// What a closed `<select>` shows of its chosen option: the line left by its padding and arrow,
// measured in its own font, so that wide glyphs (CJK, emoji) and narrow ones take their own room.

/** CSS pixels of a closed select's arrow (Chromium and Firefox draw it in about 20). */
const ARROW = 20;
let context = null;

/**
 * The line of a closed `<select>` as wide as its style lets the select be, as it is when an
 * option is too long for it, whatever its options now hold (cut, they may make it narrower):
 * the room to cut them to, for class-label.js `fittedName`. Measured on an empty copy laid out
 * beside it for the moment: a select of 1,000 options takes about 15 ms to lay out again.
 * @param {HTMLSelectElement} control
 * @returns {{room: number, fits: (text: string) => boolean}|null} room in CSS pixels; null where
 *   the select is not laid out (hidden)
 */
export function selectLine(control) {
  const probe = control.cloneNode(false);
  probe.style.width = "100vw"; // wider than its cap (max-width): the cap
  control.after(probe);
  const style = getComputedStyle(probe);
  const room = probe.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - ARROW;
  const font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  probe.remove();
  if (!(room > 0)) return null;
  context ??= document.createElement("canvas").getContext("2d");
  context.font = font;
  return { room, fits: (text) => context.measureText(text).width <= room };
}
