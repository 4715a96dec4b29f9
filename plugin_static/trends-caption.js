// The trends caption's note while no selected run has a line yet: each run
// has one step logged so far, drawn as dots over that step.

/**
 * The note, or null once a run has two steps (or no run has any).
 * @param {Array<number[]>} stepsOfRuns the logged steps of each selected run, in order
 * @returns {string|null} e.g. "one step logged so far (step 0): a line starts at the second";
 *   runs at different steps: "each run has one step logged so far (steps 0, 4): a line starts at its second"
 */
export function oneStepNote(stepsOfRuns) {
  const logged = stepsOfRuns.filter((steps) => steps.length > 0);
  if (logged.length === 0 || logged.some((steps) => steps.length > 1)) return null;
  const steps = [...new Set(logged.map((runSteps) => runSteps[0]))].sort((a, b) => a - b);
  return steps.length === 1
    ? `one step logged so far (step ${steps[0]}): a line starts at the second`
    : `each run has one step logged so far (steps ${steps.join(", ")}): a line starts at its second`;
}
