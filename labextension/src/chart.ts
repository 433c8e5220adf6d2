/**
 * The breakdown bar and the daily bar chart, as plain DOM and SVG styled by theme variables.
 */

import { h, s } from './dom';
import { chartScale, chartScaleLabel, formatDay, formatMoney, toNumber } from './format';
import { BreakdownPart } from './types';

/** Breakdown parts in display order, with their labels. */
export const PARTS: [BreakdownPart, string][] = [
  ['cpu', 'CPU'],
  ['ram', 'RAM'],
  ['gpu', 'GPU'],
  ['pv', 'Storage'],
  ['network', 'Network'],
  ['load_balancer', 'Load balancer'],
  ['shared', 'Shared'],
  ['external', 'External']
];

/**
 * A stacked bar of the non-zero parts with a legend; an empty bar when nothing was spent.
 */
export function breakdownBar(
  breakdown: Partial<Record<BreakdownPart, number>>,
  currency: string
): HTMLElement {
  const parts = PARTS.map(([key, label]) => ({
    key,
    label,
    value: toNumber(breakdown[key])
  })).filter(part => part.value > 0);
  const sum = parts.reduce((total, part) => total + part.value, 0);
  const description = parts.length
    ? parts.map(part => `${part.label} ${formatMoney(part.value, currency)}`).join(', ')
    : 'nothing spent';
  const bar = h('div', {
    className: 'jp-RemoteDev-breakdownBar',
    attrs: { role: 'img', 'aria-label': `Breakdown by resource: ${description}` }
  });
  const legend = h('ul', { className: 'jp-RemoteDev-legend', attrs: { 'aria-hidden': 'true' } });
  for (const part of parts) {
    const share = (part.value / sum) * 100;
    bar.append(
      h('span', {
        className: `jp-RemoteDev-segment jp-RemoteDev-part-${part.key}`,
        attrs: {
          style: `width: ${share.toFixed(2)}%`,
          title: `${part.label}: ${formatMoney(part.value, currency)}`
        }
      })
    );
    legend.append(
      h(
        'li',
        { className: 'jp-RemoteDev-legendItem' },
        h('span', { className: `jp-RemoteDev-swatch jp-RemoteDev-part-${part.key}` }),
        h('span', { className: 'jp-RemoteDev-legendLabel', text: part.label }),
        h('span', {
          className: 'jp-RemoteDev-legendValue',
          text: formatMoney(part.value, currency)
        })
      )
    );
  }
  return h('div', { className: 'jp-RemoteDev-breakdown' }, bar, legend);
}

const WIDTH = 240;
const HEIGHT = 56;

/**
 * One bar per day (zero days show a baseline tick) on a scale of 1, 2 or 5 times a power of ten, at
 * least a cent (so a day of a fraction of a cent is a sliver, not a full bar), with the scale
 * labelled and first and last dates under the chart. Each bar has a tooltip; the whole chart has a
 * text description.
 */
export function dailyChart(
  daily: { date: string; total: number }[],
  currency: string
): HTMLElement {
  const days = daily.map(day => ({ date: day.date, total: Math.max(0, toNumber(day.total)) }));
  const max = days.reduce((top, day) => Math.max(top, day.total), 0);
  const scale = chartScale(max);
  const slot = days.length ? WIDTH / days.length : WIDTH;
  const gap = Math.min(2, slot * 0.2);
  const svg = s('svg', {
    class: 'jp-RemoteDev-daily',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    'aria-hidden': 'true'
  });
  days.forEach((day, index) => {
    const height = scale > 0 ? Math.max(1, (day.total / scale) * (HEIGHT - 2)) : 1;
    svg.append(
      s(
        'rect',
        {
          class: day.total > 0 ? 'jp-RemoteDev-dayBar' : 'jp-RemoteDev-dayBar jp-RemoteDev-dayZero',
          x: (index * slot + gap / 2).toFixed(2),
          y: (HEIGHT - height).toFixed(2),
          width: Math.max(0.5, slot - gap).toFixed(2),
          height: height.toFixed(2)
        },
        s('title', {}, `${formatDay(day.date)}: ${formatMoney(day.total, currency)}`)
      )
    );
  });
  const description = days.length
    ? days.map(day => `${formatDay(day.date)} ${formatMoney(day.total, currency)}`).join(', ')
    : 'no days';
  return h(
    'figure',
    {
      className: 'jp-RemoteDev-chart',
      attrs: { role: 'img', 'aria-label': `Daily spend: ${description}` }
    },
    h('div', {
      className: 'jp-RemoteDev-chartMax',
      text: chartScaleLabel(max, currency),
      attrs: { title: `Largest day: ${formatMoney(max, currency)}` }
    }),
    svg,
    days.length
      ? h(
          'div',
          { className: 'jp-RemoteDev-chartAxis' },
          h('span', { text: formatDay(days[0].date) }),
          h('span', { text: formatDay(days[days.length - 1].date) })
        )
      : null
  );
}

/**
 * A horizontal meter for efficiency (0..100%, capped for drawing).
 */
export function efficiencyMeter(fraction: number | null, label: string): HTMLElement {
  const known = fraction !== null && Number.isFinite(fraction);
  const percent = fraction !== null && known ? Math.round(fraction * 100) : 0;
  return h(
    'div',
    {
      className: 'jp-RemoteDev-meter',
      attrs: known
        ? {
            role: 'meter',
            'aria-label': label,
            'aria-valuemin': '0',
            'aria-valuemax': '100',
            'aria-valuenow': String(Math.min(100, percent)),
            'aria-valuetext': `${percent}%`
          }
        : { role: 'img', 'aria-label': `${label}: unknown` }
    },
    h('span', {
      className: 'jp-RemoteDev-meterFill',
      attrs: { style: `width: ${Math.min(100, Math.max(0, percent))}%` }
    })
  );
}
