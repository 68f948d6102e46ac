/**
 * Markdown tables for the terminal summary, `bench/results/latest.md` and the README section.
 * @module
 */
export function table(header: string[], rows: (string | number | undefined)[][]): string {
  const cell = (v: string | number | undefined) => (v === undefined ? '–' : String(v).replace(/\|/g, '\\|'));
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
