// What the page says about runs in plain text: runs a link names that are not here, selected runs
// that left the log directory, runs that failed to load or whose differences were not tested. Each
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

/**
 * One line per selected run that left the log directory (see followRunList in state.js).
 * @param {Map<string, {baseline: boolean}>} away
 * @returns {string[]}
 */
export function awayLines(away) {
  return [...away].map(([run, { baseline }]) =>
    `${runText(run)}: not in the log directory now (deleted, or being written again); selected again${baseline ? ", as baseline," : ""} when it comes back`);
}

/**
 * The report's message: runs that left, runs that failed to load, and runs whose differences could
 * not be tested (errors); null when there is none.
 * @param {Array<{run: string, error?: string|null, comparisonError?: string|null}>} columns
 * @param {Map<string, {baseline: boolean}>} away
 * @returns {string|null}
 * @example
 *   tableMessage([{ run: "exp/validation_imbalance", error: "Not found" }], new Map())
 *   // "\u2068exp\u2069: Not found"
 */
export function tableMessage(columns, away) {
  const lines = [
    ...awayLines(away),
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
