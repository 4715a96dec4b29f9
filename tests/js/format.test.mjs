// Unit tests of plugin_static/format.js: numbers, CSV and Markdown.
import assert from "node:assert/strict";
import { test } from "node:test";

import { classText, formatCount, formatDelta, formatPercent, formatScore, formatStep, isUnnamedClass, isolated, markdownText, noteRunNames, runLabel, runText, shownName, shownRun, toCsv, toMarkdown } from "../../plugin_static/format.js";

test("scores, counts, deltas and percentages", () => {
  assert.equal(formatScore(0.69696), "0.6970");
  assert.equal(formatScore(-0.25), "\u22120.2500");
  assert.equal(formatScore(null), "–");
  assert.equal(formatScore(Number.NaN), "–");
  assert.equal(formatCount(12345), "12,345");
  assert.equal(formatCount(12.5), "12.50");
  assert.equal(formatDelta(0.0123), "+0.0123");
  assert.equal(formatDelta(-4, true), "\u22124");
  assert.equal(formatDelta(0), "±0.0000");
  assert.equal(formatPercent(0.1234), "12.3%");
  assert.equal(formatPercent(Number.POSITIVE_INFINITY), "–");
  assert.equal(formatStep(null), "–");
  assert.equal(formatStep(7), "7");
});

test("CSV neutralises formulas and quotes what needs quoting", () => {
  const text = toCsv({ header: ["=run", "b"], rows: [["+1", 'say "hi"'], ["a,b", 0.5], [null, Number.NaN]] });
  assert.equal(text, "'=run,b\r\n'+1,\"say \"\"hi\"\"\"\r\n\"a,b\",0.5\r\n,\r\n");
});

test("Markdown escapes pipes and aligns numbers", () => {
  const text = toMarkdown({ header: ["class", "recall"], rows: [["a|b", "0.5000"]], align: ["left", "right"] });
  assert.equal(text, "| class | recall |\n| --- | ---: |\n| a\\|b | 0.5000 |\n");
});

test("Markdown keeps a hostile name as text: HTML's < > & and backslashes are escaped", () => {
  const text = toMarkdown({ header: ["class"], rows: [["<img src=x onerror=alert(1)> & \\co"]] });
  assert.equal(text.split("\n")[2], "| \\<img src=x onerror=alert(1)\\> \\& \\\\co |");
});

test("Markdown keeps links, images, emphasis and code in a name as text", () => {
  assert.equal(markdownText("[md](javascript:alert(1))"), "\\[md\\](javascript:alert(1))");
  assert.equal(markdownText("![i](http://evil/x.png)"), "!\\[i\\](http://evil/x.png)");
  assert.equal(markdownText("*a* _b_ `c` ~~d~~"), "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~");
  assert.equal(markdownText("two\nlines"), "two lines");
  // GitHub drew "$5 to $10" as maths: "5 to " in italics
  assert.equal(markdownText("$5 to $10"), "\\$5 to \\$10");
  // names the page would show alike stay apart; the others are left as they are
  assert.deepEqual(["cat", "cat ", " cat", "c  at", "c\tat", "my cat"].map(shownName), ["cat", "cat␣", "␣cat", "c␣␣at", "c␣at", "my cat"]);
  // spaces HTML does not collapse are shown as they are
  assert.deepEqual(["東京\u3000タワー", "10\u202f000 ms", "a\u00a0b c"].map(shownName), ["東京\u3000タワー", "10\u202f000 ms", "a\u00a0b c"]);
  // characters drawn as nothing show as their code points; joiners, which emoji and scripts need, do not
  assert.deepEqual(["cat\u000b", "cat\u200b", "\u00adcat", "ca\u0000t", "cat\ufeff", "c\u0085 at"].map(shownName),
    ["cat⟨U+000B⟩", "cat⟨U+200B⟩", "⟨U+00AD⟩cat", "ca⟨U+0000⟩t", "cat⟨U+FEFF⟩", "c⟨U+0085⟩ at"]);
  assert.deepEqual(["👩🏽\u200d🔬", "می\u200cخواهم", "שלום abc 12"].map(shownName), ["👩🏽\u200d🔬", "می\u200cخواهم", "שלום abc 12"]);
  // a name's own isolate marks cannot end the isolation early
  assert.equal(isolated("x\u2069\u202ebinary"), "\u2068x\u202ebinary\u2069");
  // a heading's closing #s were taken off a name ending in " #"
  assert.equal(markdownText("baseline exp #"), "baseline exp \\#");
});

test("run labels drop the callback's suffix", () => {
  assert.equal(runLabel("exp1/validation_imbalance"), "exp1");
  assert.equal(runLabel("/validation_imbalance"), "/validation_imbalance");
  assert.equal(runLabel("plain"), "plain");
});

test("a callback's run keeps its suffix where the name without it is another listed run's", () => {
  noteRunNames(["twin", "twin/validation_imbalance", "single/validation_imbalance"]);
  assert.deepEqual(["twin", "twin/validation_imbalance", "single/validation_imbalance"].map(runLabel),
    ["twin", "twin/validation_imbalance", "single"]);
  assert.equal(runText("twin/validation_imbalance"), "\u2068twin/validation_imbalance\u2069");
  noteRunNames(["single", "other"]); // a run of the shorter name listed later
  assert.equal(runLabel("single/validation_imbalance"), "single/validation_imbalance");
});

test("run names show their bidi controls and invisible characters as code points, like class names", () => {
  // "\u202ebinary" showed as "yranib"; "sweep\u200b/seed 1" passed for "sweep/seed 1"
  assert.deepEqual(["\u202ebinary/validation_imbalance", "sweep\u200b/seed 1", "run ", "sweep/lr=0.1,bs=32/seed 2"].map(shownRun),
    ["⟨U+202E⟩binary", "sweep⟨U+200B⟩/seed 1", "run␣", "sweep/lr=0.1,bs=32/seed 2"]);
});

test("a run in plain text (an SVG title, an aria-label) is shown as on the page, and isolated", () => {
  assert.equal(runText("\u202ebinary/validation_imbalance"), "\u2068⟨U+202E⟩binary\u2069");
  assert.equal(runText("אלף"), "\u2068אלף\u2069");
  assert.equal(runText("sweep\u2069/seed 1"), "\u2068sweep⟨U+2069⟩/seed 1\u2069"); // its own isolate mark cannot end the isolation
});

test("a class in plain text (an SVG title, an aria-label) is shown as in the table, and isolated", () => {
  assert.equal(classText("\u202eevil"), "\u2068⟨U+202E⟩evil\u2069");
  assert.equal(classText("cat "), "\u2068cat␣\u2069");
  assert.equal(classText("cat\u200b"), "\u2068cat⟨U+200B⟩\u2069");
  assert.equal(classText("my cat"), "\u2068my cat\u2069");
  assert.equal(classText("x\u2069y"), "\u2068x⟨U+2069⟩y\u2069"); // its own isolate mark cannot end the isolation
});

test("names in plain text are isolated, so a right-to-left name keeps the text's order", () => {
  assert.equal(isolated("אלף"), "\u2068אלף\u2069");
  assert.equal(`${isolated("אלף")} → ${isolated("בית")}`.normalize(), "\u2068אלף\u2069 → \u2068בית\u2069");
});

test("bidi controls in a name show as their code points, so it cannot pass for another", () => {
  // "\u202etxt.exe" showed as "exe.txt", and "cat\u202e" as "cat"
  assert.deepEqual(["\u202etxt.exe", "cat\u202e", "a\u2066b\u2069c", "\u200fok\u200e", "\u202a\u202b\u202c\u202d", "\u2067\u2068\u061c"].map(shownName),
    ["⟨U+202E⟩txt.exe", "cat⟨U+202E⟩", "a⟨U+2066⟩b⟨U+2069⟩c", "⟨U+200F⟩ok⟨U+200E⟩", "⟨U+202A⟩⟨U+202B⟩⟨U+202C⟩⟨U+202D⟩", "⟨U+2067⟩⟨U+2068⟩⟨U+061C⟩"]);
  // right-to-left names without controls are left to the browser's bidi algorithm
  assert.equal(shownName("مرحبا 42"), "مرحبا 42");
});

test("the plugin's placeholder of a blank class name is told from names, in as many parentheses as it takes", () => {
  for (const name of ["(unnamed class 0)", "(unnamed class 3)", "((unnamed class 12))"]) assert.equal(isUnnamedClass(name), true, name);
  for (const name of ["unnamed class 3", "(unnamed class 3", "((unnamed class 3)", "(unnamed class)", "(unnamed class 3) ", "(Unnamed class 3)", "", " "]) {
    assert.equal(isUnnamedClass(name), false, JSON.stringify(name));
  }
});
