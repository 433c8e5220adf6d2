import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { RemoteDevPanel } from './panel';

const OPEN_COMMAND = 'jupyter-remote-dev:open-panel';

/**
 * The remote-dev sidebar with your spend, Git sync state and Ray connection.
 */
const sidebar: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-remote-dev:sidebar',
  description: 'Sidebar with your spend, Git sync state and Ray connection.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const panel = new RemoteDevPanel();
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, 'jupyter-remote-dev');
    app.commands.addCommand(OPEN_COMMAND, {
      label: 'Show Remote Dev Panel (spend, Git sync, Ray)',
      execute: () => app.shell.activateById(panel.id)
    });
    palette?.addItem({ command: OPEN_COMMAND, category: 'Remote Dev' });
  }
};

export default sidebar;
