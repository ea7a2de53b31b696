// A dependency-free SVG bar chart of HTTP throughput ratios to bare Nest, from the bench's JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const COLORS = { 'bare-interceptor': '#5b6fa8', floor: '#8a8a8a', 'floor-interceptor': '#6f6f6f', ours: '#2f7d4f', 'ours-req-session': '#4f9d6f', 'es-pipelined': '#c98b2b', 'es-default': '#b5523b', 'fs-pipelined': '#a0662a' };

export function writeRatioChart(summary, file) {
  const bars = [];
  for (const [platform, table] of Object.entries(summary.platforms)) {
    for (const [name, entry] of Object.entries(table)) {
      if (name === 'bare') continue;
      const [variant, route = 'bare'] = name.split(' ');
      bars.push({ label: `${platform} ${variant} ${route}`, variant, ratio: entry.ratioToBare });
    }
  }
  const barHeight = 22;
  const gap = 8;
  const left = 230;
  const width = 760;
  const plot = width - left - 60;
  const top = 40;
  const height = top + bars.length * (barHeight + gap) + 40;
  const x = (ratio) => left + Math.min(ratio, 1.2) / 1.2 * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Requests per second, as a ratio to bare Nest (1.00)</text>`,
  ];
  for (const mark of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(mark)}" y1="${top - 6}" x2="${x(mark)}" y2="${height - 30}" stroke="${mark === 1 ? '#333' : '#ddd'}"/>`);
    parts.push(`<text x="${x(mark)}" y="${height - 14}" text-anchor="middle">${mark.toFixed(2)}</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${bar.label}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${x(bar.ratio) - left}" height="${barHeight}" fill="${COLORS[bar.variant] ?? '#777'}"/>`);
    parts.push(`<text x="${x(bar.ratio) + 4}" y="${y + 15}">${bar.ratio.toFixed(2)}</text>`);
  });
  parts.push('</svg>');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${parts.join('\n')}\n`);
}
