// Finding a class by name among thousands: suggestions while typing and
// the class a typed name means. Pure functions.

/**
 * Indices of the classes whose name contains `text` (case-insensitive):
 * names starting with it first, then the others, each in class order.
 * @param {string[]} names
 * @param {string} text
 * @param {number} limit most indices returned
 * @returns {number[]}
 */
export function matchingClasses(names, text, limit) {
  const needle = text.trim().toLowerCase();
  if (!needle) return [];
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
