/**
 * The remote-dev sidebar: spend, Git sync and Ray, refreshed while visible.
 */

import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CostSection } from './cost';
import { GitSection } from './git';
import { RaySection } from './ray';

/** How often the visible panel refreshes itself (the server caches spend for minutes anyway). */
const REFRESH_MS = 60_000;

export const remoteDevIcon = new LabIcon({
  name: 'jupyter-remote-dev:panel',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<rect x="3" y="13" width="4" height="8" rx="1"/><rect x="10" y="8" width="4" height="13" rx="1"/>' +
    '<rect x="17" y="3" width="4" height="18" rx="1"/></g></svg>'
});

export class RemoteDevPanel extends Widget {
  readonly cost = new CostSection();
  readonly git = new GitSection();
  readonly ray = new RaySection();
  private timer: number | null = null;

  constructor() {
    super();
    this.id = 'jp-RemoteDev-panel';
    this.addClass('jp-RemoteDev-panel');
    this.title.icon = remoteDevIcon;
    this.title.label = 'Remote Dev';
    this.title.caption = 'Remote dev: spend, Git sync, Ray';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Remote dev: spend, Git sync and Ray');
    this.node.append(this.cost.node, this.git.node, this.ray.node);
  }

  /** Reload every section (each shows its own loading, ready or error state). */
  async refresh(): Promise<void> {
    await Promise.all([this.cost.refresh(), this.git.refresh(), this.ray.refresh()]);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
    this.stopTimer();
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  protected onBeforeHide(msg: Message): void {
    this.stopTimer();
    super.onBeforeHide(msg);
  }

  dispose(): void {
    this.stopTimer();
    super.dispose();
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }
}
