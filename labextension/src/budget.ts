/**
 * The budget line of the spend section: "$42.00 of $200.00 this month", the projection and state,
 * right-sizing hints, and each new budget alert once as a JupyterLab notification.
 */

import { Notification } from '@jupyterlab/apputils';

import { alertKey, budgetLine, budgetState, newAlerts } from './budgettext';
import { h } from './dom';
import { requestAPI } from './request';
import { IBudgetStatus } from './types';

/** Where the newest alert already shown is remembered (per browser, so a reload repeats none). */
export const SEEN_KEY = 'jupyter-remote-dev:budget-alert-seen';

export class BudgetLine {
  /** Empty (hidden) when no budget is configured or it cannot be read. */
  readonly node: HTMLElement = h('div', {
    className: 'jp-RemoteDev-budget',
    attrs: { 'aria-label': 'Budget', hidden: '' }
  });

  async refresh(): Promise<void> {
    const result = await requestAPI<IBudgetStatus | { configured: false }>('cost/budget');
    if (!result.ok || !result.data.configured) {
      this.node.setAttribute('hidden', '');
      this.node.replaceChildren();
      return;
    }
    const budget = result.data;
    this.node.removeAttribute('hidden');
    this.node.setAttribute('data-budget-state', budget.state);
    this.node.replaceChildren(
      h('div', { className: 'jp-RemoteDev-budgetLine', text: budgetLine(budget) }),
      h('div', { className: 'jp-RemoteDev-budgetState', text: budgetState(budget) }),
      ...budget.hints.map(hint =>
        h('p', {
          className: 'jp-RemoteDev-budgetHint',
          text: hint.message,
          attrs: { role: 'note' }
        })
      )
    );
    this.notify(budget);
  }

  /** Each alert not shown before, as a warning notification; the newest is remembered. */
  private notify(budget: IBudgetStatus): void {
    const seen = window.localStorage.getItem(SEEN_KEY);
    for (const alert of newAlerts(budget.alerts, seen)) {
      Notification.warning(alert.message, { autoClose: false });
    }
    if (budget.alerts.length) {
      window.localStorage.setItem(SEEN_KEY, alertKey(budget.alerts[0]));
    }
  }
}
