/**
 * The Git-sync section: state, ahead/behind, last cycle, conflicts, and a "Sync now" button.
 */

import { clipped, h, notice, section } from './dom';
import { formatAge } from './format';
import { ApiResult, requestAPI } from './request';
import { IGitStatus, Maybe } from './types';

/** How soon to look again while a sync cycle is running. */
const FOLLOW_UP_MS = 3000;

const RESULT_LABELS: Record<string, string> = {
  ok: 'Synced',
  conflict: 'Conflicts kept aside',
  error: 'Failed'
};

export class GitSection {
  readonly node: HTMLElement;
  private readonly body: HTMLElement;
  private readonly syncButton: HTMLButtonElement;
  private syncing = false;
  private status: IGitStatus | null = null;
  private followUp: number | null = null;

  constructor() {
    this.syncButton = h('button', {
      className: 'jp-RemoteDev-button jp-RemoteDev-syncNow',
      text: 'Sync now',
      attrs: { type: 'button', 'aria-label': 'Sync the workspace with Git now', disabled: '' }
    });
    this.syncButton.addEventListener('click', () => void this.syncNow());
    const parts = section('git', 'Git sync', [this.syncButton]);
    this.node = parts.node;
    this.body = parts.body;
  }

  async refresh(): Promise<void> {
    if (this.syncing) {
      return;
    }
    if (!this.status) {
      this.setState('loading', notice('loading', 'Loading Git sync state…'));
    }
    this.show(await requestAPI<Maybe<IGitStatus>>('git/status'));
  }

  /** POST git/sync: runs one cycle and answers the new status (409 if one is running). */
  async syncNow(): Promise<void> {
    if (this.syncing) {
      return;
    }
    this.syncing = true;
    this.updateButton();
    this.syncButton.textContent = 'Syncing…';
    this.node.setAttribute('aria-busy', 'true');
    const result = await requestAPI<Maybe<IGitStatus>>('git/sync', { method: 'POST' });
    this.syncing = false;
    this.syncButton.textContent = 'Sync now';
    this.node.removeAttribute('aria-busy');
    if (!result.ok && result.status === 409) {
      this.show(await requestAPI<Maybe<IGitStatus>>('git/status'));
      this.body.prepend(notice('info', 'A sync cycle is already running.', result.message));
      return;
    }
    this.show(result);
  }

  private show(result: ApiResult<Maybe<IGitStatus>>): void {
    if (!result.ok) {
      this.status = null;
      if (result.status === 404) {
        this.setState('unavailable', notice('info', 'Git sync is not available on this server.'));
      } else {
        const code = result.status ? ` (HTTP ${result.status})` : '';
        this.setState(
          'error',
          notice('error', `Could not load Git sync state${code}`, result.message)
        );
      }
    } else if (!result.data.configured) {
      this.status = null;
      this.setState(
        'not-configured',
        notice('info', 'Git sync is not configured.', result.data.message)
      );
    } else {
      this.status = result.data;
      this.setState('ready', this.render(result.data));
      if (result.data.running) {
        this.followRunningCycle();
      }
    }
    this.updateButton();
  }

  /** While a cycle runs (timer or another client), look again soon rather than in a minute. */
  private followRunningCycle(): void {
    if (this.followUp !== null) {
      return;
    }
    this.followUp = window.setTimeout(() => {
      this.followUp = null;
      if (this.node.isConnected) {
        void this.refresh();
      }
    }, FOLLOW_UP_MS);
  }

  private updateButton(): void {
    const usable = this.status !== null && !this.status.running && !this.syncing;
    this.syncButton.disabled = !usable;
  }

  private setState(state: string, content: HTMLElement): void {
    this.node.setAttribute('data-state', state);
    this.body.replaceChildren(content);
  }

  private render(status: IGitStatus): HTMLElement {
    const cycle = status.last_cycle;
    const rows: [string, string][] = [
      ['Repository', status.repo ?? '–'],
      ['Branch', status.branch ?? '–'],
      ['Upstream', status.upstream ?? 'none'],
      ['Workspace', status.workspace ?? '–']
    ];
    const state = status.running
      ? 'Sync running…'
      : status.ahead || status.behind
        ? `${status.ahead} ahead · ${status.behind} behind`
        : 'Up to date';
    const children: (HTMLElement | null)[] = [
      h(
        'div',
        { className: 'jp-RemoteDev-gitState', attrs: { role: 'status' } },
        h('span', { className: 'jp-RemoteDev-gitSummary', text: state }),
        h('span', {
          className: 'jp-RemoteDev-aheadBehind',
          text: `↑${status.ahead} ↓${status.behind}`,
          attrs: { 'aria-label': `${status.ahead} commits ahead, ${status.behind} behind` }
        })
      ),
      h(
        'dl',
        { className: 'jp-RemoteDev-facts' },
        ...rows.flatMap(([term, value]) => [h('dt', { text: term }), h('dd', clipped(value))])
      ),
      cycle
        ? h(
            'div',
            { className: `jp-RemoteDev-cycle jp-RemoteDev-result-${cycle.result}` },
            h('span', {
              className: 'jp-RemoteDev-badge',
              text: RESULT_LABELS[cycle.result] ?? cycle.result
            }),
            h('span', {
              text: ` last cycle ${formatAge(cycle.finished_at ?? cycle.started_at)}`,
              attrs: { title: cycle.finished_at ?? cycle.started_at ?? '' }
            }),
            cycle.message
              ? h('div', { className: 'jp-RemoteDev-cycleMessage', text: cycle.message })
              : null
          )
        : h('div', { className: 'jp-RemoteDev-cycle', text: 'No sync cycle has run yet.' })
    ];
    if (status.conflicts.length) {
      children.push(
        h(
          'div',
          { className: 'jp-RemoteDev-conflicts', attrs: { role: 'alert' } },
          h('div', {
            className: 'jp-RemoteDev-listTitle',
            text: `${status.conflicts.length} conflict(s): your copy stayed in place, the other is kept at`
          }),
          h(
            'ul',
            {},
            ...status.conflicts.map(conflict =>
              h(
                'li',
                {},
                h('code', clipped(conflict.path)),
                h(
                  'div',
                  { className: 'jp-RemoteDev-pathLine' },
                  h('span', { text: '→', attrs: { 'aria-label': 'kept at' } }),
                  h('code', clipped(conflict.kept_at))
                )
              )
            )
          )
        )
      );
    }
    if (status.skipped.length) {
      children.push(
        h(
          'details',
          { className: 'jp-RemoteDev-skipped' },
          h('summary', { text: `${status.skipped.length} file(s) not synced` }),
          h(
            'ul',
            {},
            ...status.skipped.map(item =>
              h(
                'li',
                { className: 'jp-RemoteDev-pathLine' },
                h('code', clipped(item.path)),
                h('span', { text: `(${item.reason})` })
              )
            )
          )
        )
      );
    }
    return h('div', { className: 'jp-RemoteDev-gitStatus' }, ...children);
  }
}
