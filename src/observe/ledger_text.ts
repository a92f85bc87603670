/**
 * The ledger as a table for a terminal: one line per path and table, one
 * column per stage, each cell the stage's count and, when it is behind,
 * how many and how old the oldest; then the servers, the notes and the
 * rejects by reason.
 *
 * @example
 * ```ts
 * import { ledgerText } from "./ledger_text.ts";
 * // console.log(ledgerText(await reader.read()));
 * ```
 */
import { TABLE_KINDS } from "../core/tables.ts";
import { formatAge } from "./gaps.ts";
import type { Ledger, PathLedger } from "./ledger.ts";
import type { StageReading } from "./stage.ts";

/** One cell: `11000`, `6000 -5000 (12 s)`, or `unreadable`. */
export function cellText(stage: StageReading): string {
  if (stage.error !== undefined) return "unreadable";
  let text = String(stage.count);
  if (stage.behind !== null && stage.behind > 0) {
    text += ` -${stage.behind}`;
    if (stage.oldestAgeMs !== null) text += ` (${formatAge(stage.oldestAgeMs)})`;
  }
  return text;
}

function pathLines(name: "batch" | "stream", path: PathLedger): string[] {
  if (!path.started) return [`${name}: not started (${path.tables.pin[0].note})`];
  const header = ["table", ...path.tables.pin.map((stage) => stage.stage)];
  const rows = TABLE_KINDS.map((kind) => [kind, ...path.tables[kind].map(cellText)]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  const notes = TABLE_KINDS.flatMap((kind) =>
    path.tables[kind].filter((stage) => stage.error ?? stage.note).map((stage) =>
      `  ${kind} ${stage.stage}: ${stage.error ?? stage.note}`
    )
  );
  return [`${name}:`, `  ${line(header)}`, ...rows.map((row) => `  ${line(row)}`), ...notes];
}

/** The whole ledger as text. */
export function ledgerText(ledger: Ledger): string {
  const servers = ledger.servers.map((server) =>
    `  ${server.name.padEnd(18)} ${server.where}: ${
      server.up === null ? "not asked" : server.up ? "up" : `DOWN (${server.error})`
    }`
  );
  const groups = (list: Ledger["rejects"]) =>
    list.map((group) =>
      `  ${group.kind} ${group.reason}: ${group.count}` +
      (group.samples[0] ? `, e.g. ${group.samples[0].detail ?? group.samples[0].data}` : "")
    );
  const rejects = groups(ledger.rejects);
  const quarantine = groups(ledger.quarantine);
  const drift = ledger.drift.map((d) => `  ${d.kind}.${d.field}: ${d.records} record(s)`);
  return [
    `pipeline ${ledger.id} at ${ledger.at}`,
    ...pathLines("batch", ledger.batch),
    ...pathLines("stream", ledger.stream),
    "servers:",
    ...servers,
    ...(rejects.length ? ["stream rejects:", ...rejects] : []),
    ...(quarantine.length ? ["batch quarantine:", ...quarantine] : []),
    ...(drift.length ? ["schema drift (kept without the field):", ...drift] : []),
  ].join("\n");
}
