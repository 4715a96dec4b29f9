// What the page says about runs in plain text: runs a link names that are not here (yet), selected runs
// that left the log directory or came back under a new name, runs that failed to load or whose differences were not tested. Each
// run is named as the rest of the page names it ({@link runText}: its short name, isolated).
import { runText } from "./format.js";

/**
 * Runs a link names, as shown, comma-separated.
 * @param {string[]} runs
 * @returns {string}
 */
export function linkedRuns(runs) {
  return runs.map(runText).join(", ");
}

/** The browser's own clock format, e.g. "14:05:09". */
const localTime = (date) => date.toLocaleTimeString();

/**
 * One line per selected run that left the log directory (see followRunList in state.js), with the
 * time it was found gone, and per run the link names that is not listed yet (`fromLink`, see
 * defaultsPatch in run-following.js).
 * @param {Map<string, {baseline: boolean, since?: Date, fromLink?: boolean}>} away
 * @param {(date: Date) => string} [clock] how a time is written
 * @returns {string[]}
 */
export function awayLines(away, clock = localTime) {
  return [...away].map(([run, { baseline, since, fromLink }]) => fromLink
    ? `Waiting for ${runText(run)}: the link names it, not in the log directory yet; ` +
      `selected${baseline ? ", as baseline," : ""} when it appears (choosing runs in the list forgets it)`
    : `${runText(run)}: not in the log directory ${since ? `since ${clock(since)}` : "now"} (deleted, moved, or being written again); ` +
      `selected again${baseline ? ", as baseline," : ""} when it comes back, also under a new name with the steps it had (choosing runs in the list forgets it)`);
}

/**
 * What the page says of selected runs found under a new name (see renamed-runs.js).
 * @param {Map<string, string>} renames old name → new name
 * @returns {string}
 * @example
 *   renamedText(new Map([["a", "b"]])) // "⁨a⁩ is ⁨b⁩ now (moved or renamed: …)…"
 */
export function renamedText(renames) {
  return [...renames].map(([from, to]) =>
    `${runText(from)} is ${runText(to)} now (moved or renamed: the same steps, logged at the same times); selected in its place.`).join(" ");
}

/**
 * The report's message: runs that left, runs that failed to load, and runs whose differences could
 * not be tested (errors); null when there is none.
 * @param {Array<{run: string, error?: string|null, comparisonError?: string|null}>} columns
 * @param {Map<string, {baseline: boolean, since?: Date}>} away
 * @param {(date: Date) => string} [clock] how a time is written
 * @returns {string|null}
 * @example
 *   tableMessage([{ run: "exp/validation_imbalance", error: "Not found" }], new Map())
 *   // "\u2068exp\u2069: Not found"
 */
export function tableMessage(columns, away, clock = localTime) {
  const lines = [
    ...awayLines(away, clock),
    ...columns.filter((column) => column.error).map((column) => `${runText(column.run)}: ${column.error}`),
    ...columns
      .filter((column) => column.comparisonError)
      .map((column) => `${runText(column.run)}: differences to the baseline are not tested (${column.comparisonError})`),
  ];
  return lines.length ? lines.join("\n") : null;
}

/**
 * Differences left untested by design (not an error): one neutral line, or null.
 * @param {Array<{run: string, comparisonNote?: string|null}>} columns
 * @returns {string|null}
 */
export function tableNote(columns) {
  const noted = columns.filter((column) => column.comparisonNote);
  return noted.length ? `Differences to the baseline are not tested for ${noted.length === 1 ? runText(noted[0].run) : `${noted.length} runs`}: ${noted[0].comparisonNote}.` : null;
}
