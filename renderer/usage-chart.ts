import uPlot from 'uplot';
import type { UsageRow } from '../src/usage/aggregates.ts';
import { formatTokens, formatUsd } from './format.ts';

/** uPlot draws on a canvas: it gets concrete colours, read by the tab from the page's computed styles. */
export interface ChartColours {
  tokens: string;
  cost: string;
  axis: string;
  grid: string;
}

/** "2026-12-02" -> "Dec 2", "2026-12" -> "Dec 26"; other keys unchanged. */
export function periodLabel(key: string): string {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  const month = /^(\d{4})-(\d{2})$/.exec(key);
  const monthName = (value: string) => new Date(2000, Number(value) - 1, 1).toLocaleString('en-US', { month: 'short' });
  if (day) return `${monthName(day[2]!)} ${Number(day[3])}`;
  if (month) return `${monthName(month[2]!)} ${month[1]!.slice(2)}`;
  return key;
}

/** About how wide one character of the axis font is, px: enough to keep labels apart. */
const AXIS_CHAR_PX = 6.5;

/** `text` cut with an ellipsis to at most `max` characters. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/**
 * Tokens (bars, left axis) and cost (line, right axis) per group, one x slot per row. Rows come in
 * the order the chart shows them.
 */
export function drawUsageChart(target: HTMLElement, rows: readonly UsageRow[], labels: readonly string[], width: number, colours: ChartColours): uPlot {
  const xs = rows.map((_, index) => index);
  const shown = xs.filter((index) => rows.length <= 8 || index % Math.ceil(rows.length / 6) === 0);
  // Each shown label gets its slot of the plot's width (less both axes), cut to fit it: none overlap.
  const slotChars = Math.floor((width - 110) / shown.length / AXIS_CHAR_PX) - 1;
  const axisFont = '11px system-ui, sans-serif';
  const options: uPlot.Options = {
    width,
    height: 170,
    cursor: { drag: { x: false, y: false } },
    // The tab draws its own legend: uPlot's live legend needs more width than the window has.
    legend: { show: false },
    scales: {
      x: { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] },
      tokens: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      cost: { range: (_u, _min, max) => [0, Math.max(0.000001, max * 1.1)] },
    },
    axes: [
      {
        stroke: colours.axis,
        font: axisFont,
        grid: { show: false },
        ticks: { show: false },
        splits: () => shown,
        values: (_u, splits) => splits.map((index) => clip(labels[index] ?? '', slotChars)),
      },
      { scale: 'tokens', stroke: colours.axis, font: axisFont, size: 44, grid: { stroke: colours.grid }, ticks: { show: false }, values: (_u, splits) => splits.map((value) => formatTokens(value)) },
      {
        scale: 'cost',
        side: 1,
        stroke: colours.axis,
        font: axisFont,
        grid: { show: false }, ticks: { show: false },
        // As wide as its longest label ("$0.000015"), so none is cut.
        size: (_u, values) => 12 + AXIS_CHAR_PX * Math.max(5, ...(values ?? []).map((value) => value.length)),
        values: (_u, splits) => splits.map((value) => formatUsd(value)),
      },
    ],
    series: [
      {},
      {
        label: 'Tokens',
        scale: 'tokens',
        stroke: colours.tokens,
        fill: colours.tokens,
        alpha: 0.8,
        paths: uPlot.paths.bars!({ size: [0.6, 40] }),
        points: { show: false },
      },
      {
        label: 'Cost',
        scale: 'cost',
        stroke: colours.cost,
        width: 2,
        points: { show: true, size: 5, fill: colours.cost },
      },
    ],
  };
  return new uPlot(options, [xs, rows.map((row) => row.totalTokens), rows.map((row) => row.costUsd)], target);
}
