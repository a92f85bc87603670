import assert from "node:assert/strict";
import { textTable } from "../../sim/text_table.ts";

Deno.test("textTable aligns text left and numbers right, shows NULL and arrays", () => {
  const text = textTable(["country", "posts", "coordinates"], [
    ["Albania", 12, [1.5, -2]],
    ["Chad", null, null],
  ]);
  assert.equal(
    text,
    [
      "country  posts  coordinates",
      "-------  -----  -----------",
      "Albania     12  [1.5,-2]",
      "Chad      NULL  NULL",
    ].join("\n"),
  );
});

Deno.test("textTable cuts long cells and says how many rows it left out", () => {
  const rows = Array.from({ length: 5 }, (_, i) => [`${"x".repeat(10)}${i}`]);
  const text = textTable(["name"], rows, { maxRows: 2, maxWidth: 6 });
  assert.deepEqual(text.split("\n"), ["name", "------", "xxxxx…", "xxxxx…", "(3 more rows)"]);
  assert.match(textTable(["a"], []), /\(no rows\)$/);
});
