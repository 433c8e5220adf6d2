/**
 * The spend section: total for the chosen window, breakdown, daily chart, efficiency, freshness.
 */

import { BudgetLine } from './budget';
import { breakdownBar, dailyChart, efficiencyMeter } from './chart';
import { h, notice, section } from './dom';
import { formatAge, formatEfficiency, formatMoney } from './format';
import { requestAPI } from './request';
import { ICostReport, Maybe } from './types';

export const WINDOWS: [string, string][] = [
  ['today', 'Today'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['week', 'This week'],
  ['lastweek', 'Last week'],
  ['month', 'This month']
];

export class CostSection {
  readonly node: HTMLElement;
  private readonly body: HTMLElement;
  readonly budget = new BudgetLine();
  private readonly select: HTMLSelectElement;
  private report: ICostReport | null = null;
  private generation = 0;

  constructor() {
    this.select = h(
      'select',
      { className: 'jp-RemoteDev-select', attrs: { 'aria-label': 'Spend window' } },
      ...WINDOWS.map(([value, label]) => h('option', { text: label, attrs: { value } }))
    );
    this.select.value = '7d';
    this.select.addEventListener('change', () => void this.refresh());
    const refresh = h('button', {
      className: 'jp-RemoteDev-button jp-RemoteDev-refresh',
      text: '↻',
      attrs: { type: 'button', 'aria-label': 'Refresh spend', title: 'Refresh spend' }
    });
    refresh.addEventListener('click', () => void this.refresh());
    const parts = section('cost', 'Spend', [this.select, refresh]);
    this.node = parts.node;
    this.body = parts.body;
    this.node.insertBefore(this.budget.node, this.body);
  }

  get window(): string {
    return this.select.value;
  }

  /** Load the chosen window; keeps showing the previous numbers of that window while it loads. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const window = this.window;
    void this.budget.refresh();
    if (!this.report || this.report.window !== window) {
      this.setState('loading', notice('loading', 'Loading spend…'));
    } else {
      this.node.setAttribute('aria-busy', 'true');
    }
    const result = await requestAPI<Maybe<ICostReport>>('cost', {}, { window });
    if (generation !== this.generation) {
      return; // a newer request (another window) owns the view
    }
    this.node.removeAttribute('aria-busy');
    if (!result.ok) {
      this.report = null;
      const title =
        result.status === 404
          ? 'Spend is not available on this server'
          : result.status === 504
            ? 'The cost backend did not answer in time'
            : result.status === 0
              ? 'The Jupyter server is not reachable'
              : 'Could not load spend';
      const code = result.status ? ` (HTTP ${result.status})` : '';
      this.setState('error', notice('error', title + code, result.message));
      return;
    }
    if (!result.data.configured) {
      this.report = null;
      this.setState(
        'not-configured',
        notice('info', 'Spend is not configured on this server.', result.data.message)
      );
      return;
    }
    this.report = result.data;
    this.setState('ready', this.render(result.data));
  }

  private setState(state: string, content: HTMLElement): void {
    this.node.setAttribute('data-state', state);
    this.body.replaceChildren(content);
  }

  private render(report: ICostReport): HTMLElement {
    const windowLabel = WINDOWS.find(([value]) => value === report.window)?.[1] ?? report.window;
    const updated = h('span', {
      className: 'jp-RemoteDev-updated',
      text: `Updated ${formatAge(report.updated_at)}`,
      attrs: { title: report.updated_at }
    });
    return h(
      'div',
      { className: 'jp-RemoteDev-costReport' },
      h(
        'div',
        { className: 'jp-RemoteDev-total', attrs: { 'aria-label': `Total spend ${windowLabel}` } },
        h('span', {
          className: 'jp-RemoteDev-totalValue',
          text: formatMoney(report.total, report.currency)
        }),
        h('span', { className: 'jp-RemoteDev-totalWindow', text: windowLabel.toLowerCase() })
      ),
      report.note
        ? h('p', {
            className: 'jp-RemoteDev-costNote',
            text: report.note,
            attrs: { role: 'note', 'aria-label': 'About these figures' }
          })
        : null,
      h('div', {
        className: 'jp-RemoteDev-meta',
        text: `${report.user} · ${report.source}${report.includes_ray ? ' · includes your Ray cluster' : ''}`
      }),
      breakdownBar(report.breakdown, report.currency),
      dailyChart(report.daily, report.currency),
      h(
        'div',
        { className: 'jp-RemoteDev-efficiency' },
        h('span', { className: 'jp-RemoteDev-efficiencyLabel', text: 'Efficiency' }),
        efficiencyMeter(report.efficiency, 'Efficiency'),
        h('span', {
          className: 'jp-RemoteDev-efficiencyValue',
          text: formatEfficiency(report.efficiency),
          attrs:
            report.efficiency === null
              ? { title: 'No resources were requested, so there is no usage of a request to show' }
              : {}
        })
      ),
      h('div', { className: 'jp-RemoteDev-footer' }, updated)
    );
  }
}
