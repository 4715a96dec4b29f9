// Where a long class name is cut to fit one line, the end stays in sight: names of one class set
// tend to share their start (`a_long_common_prefix_cat`, `a_long_common_prefix_dog`), and cut at
// the end they all read alike.
import { characterColumns, textColumns } from "./text-columns.js";

/**
 * Columns kept at the end of a name cut in its middle (splitName, fittedName, shortName), a CJK or
 * fullwidth character or an emoji taking two.
 */
export const KEPT_END = 12;

/** Where a name's kept end starts: its last characters up to {@link KEPT_END} columns wide, at least one (-1 for none). */
function keptEndStart(columns) {
  let [cut, endColumns] = [columns.length - 1, columns.at(-1)];
  while (cut > 0 && endColumns + columns[cut - 1] <= KEPT_END) endColumns += columns[--cut];
  return cut;
}

/**
 * A shown name (see shownName in format.js) as its start, which gives way first when the line is
 * too short, and its end: its last characters up to {@link KEPT_END} columns wide, where a CJK or
 * fullwidth character or an emoji takes two columns (text-columns.js), as drawn; whole characters
 * only (an emoji is not cut). A name up to `KEPT_END + 4` columns wide is all end.
 * @param {string} shown
 * @returns {[string, string]} start and end; joined they are `shown`
 * @example
 *   splitName("a_very_long_common_prefix_cat") // ["a_very_long_commo", "n_prefix_cat"]
 *   splitName("cat") // ["", "cat"]
 *   splitName("fifteen_letters") // ["", "fifteen_letters"]: up to 16 columns are not split
 *   splitName("急性骨髓性白血病患者群") // ["急性骨髓性", "白血病患者群"]: 11 characters, 22 columns
 */
export function splitName(shown) {
  const characters = Array.from(shown);
  const columns = characters.map(characterColumns);
  // A start of a few columns is not cut: the ellipsis would take its room.
  if (columns.reduce((sum, width) => sum + width, 0) <= KEPT_END + 4) return ["", shown];
  const cut = keptEndStart(columns);
  return [characters.slice(0, cut).join(""), characters.slice(cut).join("")];
}

/**
 * A name cut to `length` columns in its middle, for text that cannot hold two parts and is not
 * measured (a title, a hidden `<select>`'s option): {@link fittedName} on a line of `length`
 * columns, a CJK or fullwidth character or an emoji taking two (text-columns.js).
 * @param {string} name
 * @param {number} [length] at least `KEPT_END + 2`
 * @returns {string} `name` itself when it takes up to `length` columns
 * @example
 *   shortName("transaction_type_wire_domestic_small", 28) // "transaction_typ…mestic_small"
 *   shortName("国際電信送金の取引種別クラス番号", 28) // "国際電信送金の…別クラス番号": 27 columns, 12 kept at its end
 */
export function shortName(name, length = 40) {
  return fittedName(name, (text) => textColumns(text) <= length);
}

/**
 * A name cut in its middle to what one line shows, for text that cannot hold two parts (a
 * `<select>`'s option), where `fits` says what the line holds (its width, not a count of
 * characters): the longest start that fits before an ellipsis, and its last characters up to
 * {@link KEPT_END} columns wide, as splitName keeps them, which stay even where they alone are too
 * wide; whole characters only.
 * @param {string} name
 * @param {(text: string) => boolean} fits whether a text fits the line; a longer text fits no better
 * @returns {string} `name` itself when it fits, or when one character or none comes before its end
 * @example
 *   const fits = (text) => text.length <= 28;
 *   fittedName("transaction_type_wire_domestic_small", fits) // "transaction_typ…mestic_small"
 *   fittedName("cat", fits) // "cat"
 *   fittedName("国際電信送金の取引種別クラス番号", (text) => text.length <= 12) // "国際電信送…別クラス番号": 12 columns kept
 */
export function fittedName(name, fits) {
  const characters = Array.from(name);
  const cut = keptEndStart(characters.map(characterColumns));
  if (cut <= 1 || fits(name)) return name; // a start of one character: the ellipsis would take its room
  const end = `…${characters.slice(cut).join("")}`;
  let [kept, tooLong] = [0, cut]; // starts of these lengths: the first fits (or is empty), the second not
  while (tooLong - kept > 1) {
    const middle = (kept + tooLong) >> 1;
    if (fits(characters.slice(0, middle).join("") + end)) kept = middle;
    else tooLong = middle;
  }
  return characters.slice(0, kept).join("") + end;
}
