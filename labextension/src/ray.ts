/**
 * The Ray section: address, reachability, versions (with a mismatch warning), jobs, dashboard.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { clipped, h, notice, section } from './dom';
import { requestAPI } from './request';
import { IRayInfo, IRayJob, Maybe } from './types';

const MAX_JOBS = 8;

/** The dashboard link the browser can open: the proxied path under this server, if any. */
export function dashboardHref(info: IRayInfo, baseUrl: string): string | null {
  const proxied = info.proxied_dashboard_url;
  if (proxied) {
    return /^(https?:)?\//.test(proxied) ? proxied : URLExt.join(baseUrl, proxied);
  }
  return info.dashboard_url;
}

function jobTime(value: number | string | null): string {
  if (value === null || value === '') {
    return '';
  }
  // The jobs API reports milliseconds since the epoch; ISO strings are accepted too.
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? String(value) : time.toLocaleString();
}

export class RaySection {
  readonly node: HTMLElement;
  private readonly body: HTMLElement;
  private loaded = false;

  constructor() {
    const parts = section('ray', 'Ray');
    this.node = parts.node;
    this.body = parts.body;
  }

  async refresh(): Promise<void> {
    if (!this.loaded) {
      this.setState('loading', notice('loading', 'Loading Ray connection…'));
    }
    const result = await requestAPI<Maybe<IRayInfo>>('ray');
    this.loaded = true;
    if (!result.ok) {
      if (result.status === 404) {
        this.setState('unavailable', notice('info', 'Ray is not available on this server.'));
      } else {
        const code = result.status ? ` (HTTP ${result.status})` : '';
        this.setState(
          'error',
          notice('error', `Could not load Ray connection${code}`, result.message)
        );
      }
      return;
    }
    if (!result.data.configured) {
      this.setState(
        'not-configured',
        notice('info', 'Ray is not configured.', result.data.message)
      );
      return;
    }
    const info = result.data;
    const view = this.render(info);
    this.setState('ready', view);
    if (info.reachable) {
      view.append(await this.jobs());
    }
  }

  private setState(state: string, content: HTMLElement): void {
    this.node.setAttribute('data-state', state);
    this.body.replaceChildren(content);
  }

  private render(info: IRayInfo): HTMLElement {
    const href = dashboardHref(info, ServerConnection.makeSettings().baseUrl);
    const starting = !info.reachable && info.state === 'starting';
    const reachable = h('span', {
      className: `jp-RemoteDev-badge ${info.reachable ? 'jp-RemoteDev-good' : starting ? '' : 'jp-RemoteDev-bad'}`,
      text: info.reachable ? 'Reachable' : starting ? 'Starting…' : 'Unreachable'
    });
    const versions =
      `Ray ${info.local_ray_version ?? 'not installed'} here, ` +
      `${info.cluster_ray_version ?? 'unknown'} on the cluster; Python ${info.local_python_version ?? '?'}`;
    return h(
      'div',
      { className: 'jp-RemoteDev-rayInfo' },
      h('div', { className: 'jp-RemoteDev-rayState', attrs: { role: 'status' } }, reachable),
      h(
        'dl',
        { className: 'jp-RemoteDev-facts' },
        h('dt', { text: 'Address' }),
        h('dd', {}, h('code', clipped(info.address ?? '–'))),
        h('dt', { text: 'Versions' }),
        h('dd', { text: versions })
      ),
      info.mismatch
        ? notice('error', 'Ray or Python versions differ from the cluster', info.message)
        : info.message && !info.reachable
          ? h('div', { className: 'jp-RemoteDev-noticeDetail', text: info.message })
          : null,
      href
        ? h('a', {
            className: 'jp-RemoteDev-link',
            text: 'Open the Ray dashboard',
            attrs: { href, target: '_blank', rel: 'noopener noreferrer' }
          })
        : null
    );
  }

  private async jobs(): Promise<HTMLElement> {
    const result = await requestAPI<{ jobs: IRayJob[] }>('ray/jobs');
    if (!result.ok) {
      return notice('info', 'Jobs are not available.', result.message);
    }
    const jobs = Array.isArray(result.data.jobs) ? result.data.jobs : [];
    if (!jobs.length) {
      return h('div', { className: 'jp-RemoteDev-jobs', text: 'No jobs yet.' });
    }
    return h(
      'div',
      { className: 'jp-RemoteDev-jobs' },
      h('div', { className: 'jp-RemoteDev-listTitle', text: `Jobs (${jobs.length})` }),
      h(
        'ul',
        { attrs: { 'aria-label': 'Ray jobs' } },
        ...jobs.slice(0, MAX_JOBS).map(job =>
          h(
            'li',
            { className: 'jp-RemoteDev-job' },
            h('span', {
              className: `jp-RemoteDev-badge jp-RemoteDev-job-${job.status.toLowerCase()}`,
              text: job.status
            }),
            h('code', clipped(job.entrypoint, 'jp-RemoteDev-entrypoint')),
            h(
              'span',
              { className: 'jp-RemoteDev-jobMeta' },
              h('span', clipped(job.submission_id ?? job.job_id ?? '', 'jp-RemoteDev-jobId')),
              h('span', { text: jobTime(job.start_time) })
            )
          )
        )
      )
    );
  }
}
