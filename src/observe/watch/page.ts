/**
 * The watch page: one HTML file (`page.html`) with the chart library
 * (ECharts, as the simulator's report) inlined, so the browser loads
 * nothing but the page and its own server's event stream; the
 * Content-Security-Policy says so to the browser, as a header and in the
 * page. All data reaches the page as JSON and is set as text, never markup.
 *
 * @example
 * ```ts
 * import { renderPage } from "./page.ts";
 * const html = await renderPage(); // "<!DOCTYPE html>..."
 * ```
 */

/** Nothing from the network: scripts and styles inline, data only from this server. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

/** Text made safe to put inside a `<script>` element. */
function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** The page, with the chart library inlined. */
export async function renderPage(): Promise<string> {
  const [library, template] = await Promise.all([
    import("echarts/dist/echarts.min.js", { with: { type: "text" } }),
    import("./page.html", { with: { type: "text" } }),
  ]);
  return template.default
    .replace("{{ csp }}", CONTENT_SECURITY_POLICY)
    .replace("/* the chart library */", () => scriptText(library.default));
}
