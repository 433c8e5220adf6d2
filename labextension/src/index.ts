import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

/**
 * The remote-dev sidebar: spend, Git sync and Ray sections are added by later modules.
 */
const sidebar: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-remote-dev:sidebar',
  description: 'Sidebar with your spend, Git sync state and Ray connection.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const panel = new Widget();
    panel.id = 'jp-RemoteDev-panel';
    panel.addClass('jp-RemoteDev-panel');
    panel.title.caption = 'Remote dev';
    panel.title.label = 'Remote dev';
    app.shell.add(panel, 'right', { rank: 900 });
  }
};

export default sidebar;
