/**
 * Answers and report inputs the report tests share: hand-made answers of each shape, and data
 * that tries to break out of the page.
 */
import type { QueryAnswer, ReportInput } from "../../sim/report/report.ts";

export const HOSTILE = `</script><script>document.body.dataset.pwned="yes"</script><!--`;

export const popularCategory: QueryAnswer = {
  name: "q1_popular_category_by_country",
  title: "Most popular category per country",
  columns: ["country", "category", "category_count"],
  rows: [
    ["Albania", "art", 12n],
    ["Algeria", "quotes", 9n], // a tie: both rows are kept
    ["Algeria", "travel", 9n],
    ["Angola", "mens-fashion", 20n],
  ],
};

export const postsPerYear: QueryAnswer = {
  name: "q2_posts_per_category_per_year",
  title: "Posts per category per year",
  columns: ["post_year", "category", "category_count"],
  rows: [
    [2018, "art", 5],
    [2018, "beauty", 7],
    [2019, "art", 3],
    [2019, "beauty", 8],
    [2020, "art", 11],
  ],
};

export const usersJoined: QueryAnswer = {
  name: "q6_users_joined_per_year",
  title: "Users joined per year",
  columns: ["join_year", "number_users_joined"],
  rows: [[2015, 120], [2016, 98], [2017, 44]],
};

export const hostileAnswer: QueryAnswer = {
  name: `q3_top_user${HOSTILE}`,
  title: `User with most followers ${HOSTILE}`,
  columns: ["country", "poster_name", "follower_count"],
  rows: [
    ["Chad", `<img src=x onerror="document.body.dataset.pwned='img'">`, 2_000_000n],
    ["Peru", "O'Brien & Sons", 51_000n],
    [HOSTILE, "nobody", 1_000],
  ],
};

export function reportInput(answers: QueryAnswer[]): ReportInput {
  return {
    title: `pinpipe report ${HOSTILE}`,
    generatedAt: "2026-01-02T03:04:05Z",
    source: "hand-made answers <b>for the test</b>",
    answers,
    checks: [
      { name: "pin rows cleaned", passed: true, detail: "11000 in, 10987 out" },
      { name: "q1 ties kept", passed: false, detail: `expected 2 rows, got 1 ${HOSTILE}` },
    ],
    cleaned: {
      pin: { rowsIn: 11000, rowsOut: 10987 },
      [`geo${HOSTILE}`]: { rowsIn: 5, rowsOut: 5 },
    },
  };
}
