// What the page says about runs: named by their short names, as the rest of the page names them.
import { test } from "node:test";
import assert from "node:assert/strict";

import { awayLines, linkedRuns, renamedText, tableMessage, tableNote } from "../../plugin_static/run-messages.js";

const FSI = "\u2068";
const PDI = "\u2069";

test("run messages name a callback's run without its /validation_imbalance folder, as the run list does", () => {
  const columns = [
    { run: "exp1/validation_imbalance", error: "Not found: no report" },
    { run: "exp2/validation_imbalance", comparisonError: "the baseline has no step 3" },
  ];
  const away = new Map([["exp0/validation_imbalance", { baseline: true, index: 0 }]]);
  assert.deepEqual(tableMessage(columns, away).split("\n"), [
    `${FSI}exp0${PDI}: not in the log directory now (deleted, moved, or being written again); selected again, as baseline, when it comes back, also under a new name with the steps it had (choosing runs in the list forgets it)`,
    `${FSI}exp1${PDI}: Not found: no report`,
    `${FSI}exp2${PDI}: differences to the baseline are not tested (the baseline has no step 3)`,
  ]);
  assert.deepEqual(awayLines(away), [tableMessage([], away)]);
  assert.equal(
    tableNote([{ run: "exp3/validation_imbalance", comparisonNote: "differences of groups are not tested" }]),
    `Differences to the baseline are not tested for ${FSI}exp3${PDI}: differences of groups are not tested.`,
  );
  assert.equal(linkedRuns(["a/validation_imbalance", "b"]), `${FSI}a${PDI}, ${FSI}b${PDI}`);
});

test("run messages show a run name's invisible characters, and other folders as they are", () => {
  assert.equal(tableMessage([{ run: "\u202eevil/test_imbalance", error: "Error 500: boom" }], new Map()), `${FSI}\u27e8U+202E\u27e9evil/test_imbalance${PDI}: Error 500: boom`);
  assert.equal(tableMessage([{ run: "ok" }], new Map()), null);
  assert.equal(tableNote([{ run: "a" }, { run: "b" }]), null);
  assert.equal(
    tableNote([{ run: "a", comparisonNote: "x" }, { run: "b", comparisonNote: "x" }]),
    "Differences to the baseline are not tested for 2 runs: x.",
  );
});

test("a run set aside is named with the time it was found gone; a run found under a new name, with both names", () => {
  const clock = (date) => date.toISOString().slice(11, 19);
  const away = new Map([["b/validation_imbalance", { baseline: false, index: 1, since: new Date(Date.UTC(2026, 0, 1, 14, 5, 9)) }]]);
  assert.deepEqual(awayLines(away, clock), [
    `${FSI}b${PDI}: not in the log directory since 14:05:09 (deleted, moved, or being written again); selected again when it comes back, also under a new name with the steps it had (choosing runs in the list forgets it)`,
  ]);
  assert.equal(tableMessage([], away, clock), awayLines(away, clock)[0]);
  const linked = new Map([["late", { fromLink: true, baseline: true, index: 0, since: new Date() }]]);
  assert.deepEqual(awayLines(linked, clock), [
    `Waiting for ${FSI}late${PDI}: the link names it, not in the log directory yet; selected, as baseline, when it appears (choosing runs in the list forgets it)`,
  ]);
  assert.equal(
    renamedText(new Map([["b/validation_imbalance", "b2/validation_imbalance"], ["c", "d"]])),
    `${FSI}b${PDI} is ${FSI}b2${PDI} now (moved or renamed: the same steps, logged at the same times); selected in its place. ` +
      `${FSI}c${PDI} is ${FSI}d${PDI} now (moved or renamed: the same steps, logged at the same times); selected in its place.`,
  );
});
