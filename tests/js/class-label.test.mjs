// Long class names cut to fit a line keep their end in sight.
import { test } from "node:test";
import assert from "node:assert/strict";

import { KEPT_END, fittedName, shortName, splitName } from "../../plugin_static/class-label.js";

test("a long name is split into a start that gives way and its last characters", () => {
  assert.equal(KEPT_END, 12);
  assert.deepEqual(splitName("a_very_long_common_prefix_cat"), ["a_very_long_commo", "n_prefix_cat"]);
  const names = ["x".repeat(90) + "_golden_retriever", "x".repeat(90) + "_labrador_retriever"];
  const ends = names.map((name) => splitName(name)[1]);
  assert.deepEqual(ends, ["en_retriever", "or_retriever"]); // apart where the names differ
  for (const name of names) assert.equal(splitName(name).join(""), name);
});

test("short names stay whole; whole characters only", () => {
  assert.deepEqual(splitName("cat"), ["", "cat"]);
  assert.deepEqual(splitName("sixteen_letters!"), ["", "sixteen_letters!"]); // 16: a 4-character start is not cut
  assert.deepEqual(splitName("seventeen_letters"), ["seven", "teen_letters"]);
  const emoji = "🐈".repeat(20); // 40 UTF-16 code units, 40 columns
  const [start, end] = splitName(emoji);
  assert.equal(end, "🐈".repeat(6)); // 12 columns
  assert.equal(start + end, emoji);
  assert.ok(!/[\ud800-\udbff]$/.test(start)); // no half of a surrogate pair
  assert.deepEqual(splitName(""), ["", ""]);
});

test("a name is split by the width it is drawn, a CJK or fullwidth character two columns", () => {
  // 11 characters, 22 columns: shown whole, a narrow cell cut their ends off.
  assert.deepEqual(splitName("急性骨髓性白血病患者群"), ["急性骨髓性", "白血病患者群"]);
  assert.deepEqual(splitName("慢性閉塞性肺疾患の増悪"), ["慢性閉塞性", "肺疾患の増悪"]);
  assert.deepEqual(splitName("ＦＵＬＬＷＩＤＴＨ＿ＮＡＭＥ"), ["ＦＵＬＬＷＩＤＴ", "Ｈ＿ＮＡＭＥ"]);
  assert.deepEqual(splitName("名前が長いクラス"), ["", "名前が長いクラス"]); // 16 columns
  assert.deepEqual(splitName("名前が長いクラスA"), ["名前が", "長いクラスA"]); // 17: the end 11 columns, 長 would make it 13
  assert.deepEqual(splitName("class_肺疾患の増悪"), ["class_", "肺疾患の増悪"]);
  assert.deepEqual(splitName("肺疾患の増悪_class_01"), ["肺疾患の増", "悪_class_01"]);
  const long = "国際電信送金の取引種別クラス番号0";
  assert.deepEqual(splitName(long), ["国際電信送金の取引種別", "クラス番号0"]);
  // Latin (and other one-column) names as before: 16 whole, then the last 12 characters.
  for (const length of [1, 16, 17, 40]) {
    const name = "é".repeat(length);
    assert.deepEqual(splitName(name), length <= 16 ? ["", name] : ["é".repeat(length - 12), "é".repeat(12)]);
  }
});

test("a name for one piece of text is cut in its middle, its last characters kept", () => {
  assert.equal(shortName("transaction_type_wire_domestic_small", 28), "transaction_typ…mestic_small");
  assert.equal(shortName("transaction_type_wire_domestic_large", 28), "transaction_typ…mestic_large");
  assert.equal(Array.from(shortName("a".repeat(80), 28)).length, 28);
  assert.equal(shortName("名前が長いクラス", 28), "名前が長いクラス"); // fits: whole
  assert.equal(shortName("x".repeat(28), 28), "x".repeat(28));
  assert.equal(shortName("x".repeat(29), 28), `${"x".repeat(15)}…${"x".repeat(12)}`);
  const emoji = "🐈".repeat(50);
  assert.equal(shortName(emoji), `${"🐈".repeat(13)}…${"🐈".repeat(6)}`); // 40 columns by default, whole characters
  assert.equal(shortName("<script>alert(1)</script>", 20), "<script…(1)</script>"); // text, cut like any other
});

// Columns of a monospace terminal: CJK / fullwidth characters and emoji take two, the others one.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|\p{Extended_Pictographic}/u;
const columns = (text) => Array.from(text).reduce((sum, character) => sum + (WIDE.test(character) ? 2 : 1), 0);

test("a name is cut to the width its line holds, its last characters kept", () => {
  const byCount = (length) => (text) => Array.from(text).length <= length;
  for (const name of ["transaction_type_wire_domestic_small", "<script>alert(1)</script>", "a".repeat(80)]) {
    for (const length of [14, 20, 28, 40]) assert.equal(fittedName(name, byCount(length)), shortName(name, length), `${name} ${length}`);
  }
  assert.equal(fittedName("transaction_type_wire_domestic_small", byCount(28)), "transaction_typ…mestic_small");

  // Wide characters take their width: a line of 32 columns holds 15 CJK characters, not 32.
  const upright = "長い名前のクラス".repeat(4); // 32 characters, 64 columns
  const fitted = fittedName(upright, (text) => columns(text) <= 32);
  assert.equal(fitted, "長い名前のクラス長…名前のクラス");
  assert.equal(columns(fitted), 31);
  // Narrow ones too: 60 "i" drawn half as wide as other letters fit a line of 32 whole.
  const half = (text) => Array.from(text).reduce((sum, character) => sum + (character === "i" ? 0.5 : 1), 0) <= 32;
  assert.equal(fittedName("i".repeat(60), half), "i".repeat(60));
  assert.equal(fittedName("i".repeat(40) + "w".repeat(20), half), `${"i".repeat(38)}…${"w".repeat(12)}`);
  // Whole characters: an emoji is not cut in two.
  assert.equal(fittedName("🐈".repeat(30), (text) => columns(text) <= 40), `${"🐈".repeat(13)}…${"🐈".repeat(6)}`);
});

test("the end a cut name keeps is as wide as the labels keep it: 12 columns, a CJK character two", () => {
  // 12 characters were kept: 24 columns of CJK, twice the end of the same name in the matrix and table.
  const wide = (text) => columns(text) <= 30;
  for (const name of ["国際電信送金の取引種別クラス番号", "慢性閉塞性肺疾患の増悪_class_01", "ＦＵＬＬＷＩＤＴＨ＿ＮＡＭＥ＿ＬＯＮＧ", "🐈".repeat(30) + "_01"]) {
    const end = splitName(name)[1];
    assert.ok(fittedName(name, wide).endsWith(`…${end}`), `${name}: ${fittedName(name, wide)}`);
    assert.ok(columns(end) <= KEPT_END && columns(end) >= KEPT_END - 1, end);
  }
  assert.equal(fittedName("国際電信送金の取引種別クラス番号", wide), "国際電信送金の取…別クラス番号");
  assert.equal(fittedName("慢性閉塞性肺疾患の増悪_class_01", wide), "慢性閉塞性肺疾患の…悪_class_01");
  assert.equal(fittedName("🐈".repeat(30) + "_01", wide), `${"🐈".repeat(9)}…${"🐈".repeat(4)}_01`);
  // Latin names as before: their last 12 characters.
  assert.equal(fittedName("transaction_type_wire_domestic_small", wide), "transaction_type_…mestic_small");
});

test("a name for one piece of text keeps the end the labels keep, 12 columns, and takes its length in columns", () => {
  // 12 characters were kept: 24 columns of CJK in a class set's title and the hidden picker, 12 in the labels.
  for (const name of ["国際電信送金の取引種別クラス番号", "慢性閉塞性肺疾患の増悪_class_01", "ＦＵＬＬＷＩＤＴＨ＿ＮＡＭＥ＿ＬＯＮＧ", "🐈".repeat(30) + "_01", "a_🐈_b_🐈_c_🐈_d_🐈_e_🐈_f"]) {
    for (const length of [20, 28, 40]) {
      const short = shortName(name, length);
      if (columns(name) <= length) {
        assert.equal(short, name);
        continue;
      }
      assert.ok(short.endsWith(`…${splitName(name)[1]}`), `${name} ${length}: ${short}`);
      assert.ok(columns(short) <= length && columns(short) >= length - 1, `${name} ${length}: ${short}`);
    }
  }
  assert.equal(shortName("国際電信送金の取引種別クラス番号", 28), "国際電信送金の…別クラス番号");
  assert.equal(shortName("慢性閉塞性肺疾患の増悪_class_01", 20), "慢性閉塞…悪_class_01");
  assert.equal(shortName("🐈".repeat(30) + "_01", 28), `${"🐈".repeat(8)}…${"🐈".repeat(4)}_01`);
  assert.equal(shortName("国際電信送金の取引種別クラス番号", 32), "国際電信送金の取引種別クラス番号"); // 32 columns: whole
  assert.equal(shortName("国際電信送金の取引種別クラス番号_", 32), "国際電信送金の取引種…クラス番号_");
});

test("the end stays even where it alone is too wide, and short names are never cut", () => {
  const none = () => false;
  assert.equal(fittedName("transaction_type_wire_domestic_small", none), "…mestic_small");
  assert.equal(fittedName("thirteen_char", none), "thirteen_char"); // KEPT_END + 1: a cut would save nothing
  assert.equal(fittedName("名前が長いクラ", none), "名前が長いクラ"); // one character before the end's 12 columns
  assert.equal(fittedName("名前が長いクラス", none), "…が長いクラス");
  assert.equal(fittedName("", none), "");
});

test("a long name is measured a few times, not once per character", () => {
  let calls = 0;
  const fits = (text) => (calls++, columns(text) <= 50);
  assert.equal(fittedName("x".repeat(5000), fits), `${"x".repeat(37)}…${"x".repeat(12)}`);
  assert.ok(calls <= 14, calls);
});
