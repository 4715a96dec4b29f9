// Finding a class by name among thousands: suggestions while typing and
// the class a typed name means. Pure functions.

/**
 * Indices of the classes whose name contains `text` (case-insensitive):
 * names starting with it first, then the others, each in class order.
 * Blank text matches only a class of exactly that name (`"  "`); empty, none.
 * @param {string[]} names
 * @param {string} text
 * @param {number} limit most indices returned
 * @returns {number[]}
 */
export function matchingClasses(names, text, limit) {
  const needle = text.trim().toLowerCase();
  if (!needle) {
    if (text === "") return [];
    return names.flatMap((name, index) => (name === text ? [index] : [])).slice(0, Math.max(limit, 0));
  }
  const starting = [];
  const containing = [];
  for (let index = 0; index < names.length && starting.length < limit; index++) {
    const at = names[index].toLowerCase().indexOf(needle);
    if (at === 0) starting.push(index);
    else if (at > 0 && containing.length < limit) containing.push(index);
  }
  return [...starting, ...containing].slice(0, limit);
}

/**
 * The class `text` names: the class of exactly that name, else the one
 * whose name equals it ignoring case, else the only class whose name
 * contains it. Null when none or several match (or `text` is blank).
 * @param {string[]} names
 * @param {string} text
 * @returns {number|null}
 */
export function resolveClass(names, text) {
  const exact = names.indexOf(text);
  if (exact >= 0) return exact;
  const needle = text.trim().toLowerCase();
  if (!needle) return null;
  const equal = names.findIndex((name) => name.toLowerCase() === needle);
  if (equal >= 0) return equal;
  const matches = matchingClasses(names, needle, 2);
  return matches.length === 1 ? matches[0] : null;
}

/**
 * What the chooser's typed `text` chooses: `{index}`, a class index, or
 * null for none (an empty box, or blank text that names no class: a
 * class named `"  "` is chosen by typing it), else `{note}` saying why none.
 * @param {string[]} names
 * @param {string} text
 * @returns {{index: number|null}|{note: string}}
 */
export function typedChoice(names, text) {
  if (text === "" || (!text.trim() && !names.includes(text))) return { index: null };
  const index = resolveClass(names, text);
  if (index !== null) return { index };
  return { note: matchingClasses(names, text, 2).length ? "Several classes match: pick one" : "No such class" };
}
