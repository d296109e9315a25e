/**
 * A small SVG bar chart written from the results (no charting dependency): for each load
 * scenario, each target's req/s relative to the reference baseline, with the absolute figure.
 */
import type { BenchResults } from './results.ts';

const COLORS: Record<string, string> = { weft: '#2f6fdf', hono: '#e09b2d', node: '#6a9f3a', nginx: '#2a9d8f', nodered: '#b5403a' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function chartSvg(r: BenchResults, titles: Record<string, string>, reference: string): string {
  const scenarios = [...new Set(r.load.map((x) => x.scenario))];
  const barH = 18;
  const gap = 26;
  const left = 170;
  const width = 760;
  const plotW = width - left - 110;
  const groups = scenarios.map((s) => r.load.filter((x) => x.scenario === s));
  const max = Math.max(1, ...r.load.map((x) => x.rps));
  const height = 50 + groups.reduce((h, g) => h + g.length * (barH + 4) + gap + 14, 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">req/s per target (median of ${r.settings.runs} rounds; ratio to ${esc(reference)})</text>`,
  ];
  let y = 44;
  groups.forEach((g, i) => {
    out.push(`<text x="10" y="${y + 10}" font-weight="bold">${esc(titles[scenarios[i]] ?? scenarios[i])}</text>`);
    y += 16;
    const ref = g.find((x) => x.target === reference);
    for (const row of g) {
      const w = Math.max(1, (row.rps / max) * plotW);
      const ratio = row.target === reference ? '1.00x' : row.rpsRatio[reference] !== undefined ? `${row.rpsRatio[reference].toFixed(2)}x` : ref ? `${(row.rps / ref.rps).toFixed(2)}x` : '';
      out.push(
        `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(row.target)}</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[row.target] ?? '#888'}"/>`,
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + 13}">${Math.round(row.rps)} (${ratio})</text>`,
      );
      y += barH + 4;
    }
    y += gap - 4;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
