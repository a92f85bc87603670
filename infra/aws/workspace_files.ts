/**
 * Which files of `notebooks/` go to the Databricks workspace, and how: a
 * file whose first line is Databricks' notebook header becomes a notebook
 * (format SOURCE, its extension dropped, as Databricks names notebooks);
 * anything else (the shared SQL in its layers, manifest.json, the Python module the
 * notebooks import) becomes a workspace file beside them (format AUTO), so
 * the notebooks find it by its relative path.
 *
 * @example
 * ```ts
 * import { workspaceDir, workspaceImports } from "./workspace_files.ts";
 * workspaceDir("0123456789ab"); // "/Shared/pinpipe/0123456789ab"
 * const imports = workspaceImports("notebooks", workspaceDir("0123456789ab"));
 * ```
 */

/** Where a pipeline's notebooks live in the workspace (the DAG's default notebook path uses it). */
export const workspaceDir = (id: string): string => `/Shared/pinpipe/${id}`;

/** One file to import. */
export interface WorkspaceImport {
  /** Path in the repository, e.g. `notebooks/sql/staging/clean_pin.sql`. */
  source: string;
  /** Absolute workspace path. */
  path: string;
  format: "SOURCE" | "AUTO";
  /** Set for notebooks only (the API requires it with SOURCE). */
  language?: "PYTHON" | "SQL";
}

const NOTEBOOK_HEADERS: Record<string, { header: string; language: "PYTHON" | "SQL" }> = {
  ".py": { header: "# Databricks notebook source", language: "PYTHON" },
  ".sql": { header: "-- Databricks notebook source", language: "SQL" },
};

// Caches and editor droppings are not part of what the notebooks run, nor are the answers'
// hand-worked expected rows (`marts/<name>.expected.json`), which only the golden test reads.
const SKIPPED = /(^|\/)(__pycache__|\.[^/]*)(\/|$)|\.pyc$|\.expected\.json$/;

/** Every file under `root` (relative paths, sorted, so the plan is stable). */
export function listFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    const dir = relative ? `${root}/${relative}` : root;
    for (const entry of Deno.readDirSync(dir)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (SKIPPED.test(path)) continue;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) found.push(path);
    }
  };
  walk("");
  return found.sort();
}

/** How each file under `root` is imported into `targetDir`. */
export function workspaceImports(root: string, targetDir: string): WorkspaceImport[] {
  return listFiles(root).map((relative) => {
    const source = `${root}/${relative}`;
    const extension = /\.[^./]+$/.exec(relative)?.[0] ?? "";
    const notebook = NOTEBOOK_HEADERS[extension];
    if (notebook && firstLine(source) === notebook.header) {
      return {
        source,
        path: `${targetDir}/${relative.slice(0, -extension.length)}`,
        format: "SOURCE",
        language: notebook.language,
      };
    }
    return { source, path: `${targetDir}/${relative}`, format: "AUTO" };
  });
}

/** The workspace folders the imports need, parents first. */
export function workspaceFolders(imports: readonly WorkspaceImport[]): string[] {
  const folders = new Set(imports.map((item) => item.path.slice(0, item.path.lastIndexOf("/"))));
  return [...folders].sort();
}

function firstLine(path: string): string {
  const text = Deno.readTextFileSync(path);
  const end = text.indexOf("\n");
  return (end === -1 ? text : text.slice(0, end)).trimEnd();
}
