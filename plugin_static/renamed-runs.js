// A selected run that left the log directory and came back under another name (its directory moved
// or renamed on disk): told by its logged steps, each at the wall time it was logged at, which a
// run logged anew does not have; and the selection with the new name in the old one's place.

/**
 * Whether `fresh` holds every step of `logged` at the same wall time.
 * @param {Map<number, number>|undefined} logged step → wall time, of a run that left
 * @param {{steps?: number[], wall_times?: number[]}} fresh a run's series (the `series` route)
 * @returns {boolean} false when nothing was logged to compare
 * @example
 *   holdsSteps(new Map([[0, 1.5]]), { steps: [0, 1], wall_times: [1.5, 2.5] }) // true
 *   holdsSteps(new Map([[0, 1.5]]), { steps: [0], wall_times: [9.5] }) // false: logged anew
 */
export function holdsSteps(logged, fresh) {
  if (!logged?.size) return false;
  const walls = new Map((fresh?.steps ?? []).map((step, index) => [step, fresh.wall_times?.[index]]));
  for (const [step, wall] of logged) if (wall === undefined || walls.get(step) !== wall) return false;
  return true;
}

/**
 * The selection with each moved run's new name in its old one's place (a chosen baseline stays
 * chosen); a run set aside in `away` (see followRunList in state.js) is set aside under its new
 * name, so that followRunList selects it again, in its place.
 * @param {{selectedRuns: string[], baselines: string[]}} state
 * @param {Map<string, Object>} away updated in place
 * @param {Map<string, string>} renames old name → new name
 * @returns {{selectedRuns: string[], baselines: string[]}}
 * @example
 *   followRenames({ selectedRuns: ["a", "b"], baselines: ["b"] }, new Map(), new Map([["b", "b2"]]))
 *   // {selectedRuns: ["a", "b2"], baselines: ["b2"]}
 */
export function followRenames({ selectedRuns, baselines }, away, renames) {
  for (const [from, to] of renames) {
    if (!away.has(from)) continue;
    away.set(to, away.get(from));
    away.delete(from);
  }
  const named = (run) => renames.get(run) ?? run;
  return { selectedRuns: [...new Set(selectedRuns.map(named))], baselines: [...new Set(baselines.map(named))] };
}
