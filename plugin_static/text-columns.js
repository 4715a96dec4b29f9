// How wide a character is drawn, in columns of a Latin letter: CJK and fullwidth characters and
// emoji take about two, as in a terminal (Unicode's East Asian Width "W" and "F"), so that text
// is measured as the page shows it, where no font is at hand to measure it (class-label.js).

const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{1b000}-\u{1b2ff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;

/**
 * Columns one character (code point) takes.
 * @param {string} character
 * @returns {1|2}
 * @example
 *   characterColumns("a") // 1
 *   characterColumns("病") // 2
 *   characterColumns("Ａ") // 2: fullwidth
 */
export function characterColumns(character) {
  return WIDE.test(character) ? 2 : 1;
}

/**
 * Columns a text takes ({@link characterColumns} of each character).
 * @param {string} text
 * @returns {number}
 * @example
 *   textColumns("cat") // 3
 *   textColumns("病例") // 4
 */
export function textColumns(text) {
  let columns = 0;
  for (const character of text) columns += characterColumns(character);
  return columns;
}
