/** The catalogue's whole style sheet, inlined in its `<style>`: no external assets, readable printed too. */
export const CATALOGUE_CSS = `
:root { --ink: #1d2430; --muted: #5b6576; --line: #d9dee7; --bg: #f6f7f9; --card: #fff; --accent: #1f5fbf;
  --warn: #8a4b00; --warn-bg: #fff1dc; --pii: #7a1f5c; --pii-bg: #fbe6f3; --secret: #fff; --secret-bg: #a11d2b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--bg); }
header.page { background: #14213d; color: #fff; padding: 24px 40px; }
header.page h1 { margin: 0 0 4px; font-size: 26px; }
header.page p { margin: 0; color: #c9d3e6; }
.layout { display: grid; grid-template-columns: 260px 1fr; gap: 32px; padding: 24px 40px 64px; }
nav.toc { position: sticky; top: 16px; align-self: start; font-size: 14px; }
nav.toc ul { list-style: none; margin: 0; padding: 0; }
nav.toc li { margin: 2px 0; }
nav.toc ul ul { padding-left: 14px; }
nav.toc a { color: var(--accent); text-decoration: none; }
h2 { font-size: 21px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 18px; margin: 20px 0 8px; }
h4 { font-size: 16px; margin: 0; display: inline; }
h2 code, h3 code, h4 code { font-size: inherit; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #0f172a; color: #e2e8f0; padding: 12px 14px; border-radius: 6px; overflow-x: auto; margin: 6px 0 0; }
.topic-facts { color: var(--muted); margin: 0 0 12px; }
article.version { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin: 0 0 16px; }
article.version.deprecated { border-left: 5px solid var(--warn); }
article.version > header { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; margin-bottom: 6px; }
.badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 999px; border: 1px solid var(--line);
  color: var(--muted); background: var(--bg); white-space: nowrap; }
.badge.mode { color: var(--accent); border-color: #b9cdf0; background: #eef4ff; }
.badge.dep { color: var(--warn); border-color: #f0c98f; background: var(--warn-bg); }
.badge.personal { color: var(--pii); border-color: #e9b3d6; background: var(--pii-bg); }
.badge.secret { color: var(--secret); border-color: var(--secret-bg); background: var(--secret-bg); }
.badge.nobackfill { color: var(--warn); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 12px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
tr.classified td:first-child { border-left: 3px solid var(--pii); }
.muted { color: var(--muted); }
h5 { margin: 12px 0 0; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
ul.carriers { margin: 0; padding-left: 18px; }
@media print { .layout { display: block; } nav.toc { display: none; } pre { white-space: pre-wrap; } }
`;
