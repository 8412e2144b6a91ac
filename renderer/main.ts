import './app.css';
import type { AppState } from '../src/app/types.ts';
import { connectEvents } from './api.ts';
import { UiContext } from './context.ts';
import { byId } from './dom.ts';
import { createLiveLogTab } from './live-log-tab.ts';
import { createModelsTab } from './models-tab.ts';
import { createSettingsTab } from './settings-tab.ts';
import { createSetupTab } from './setup-tab.ts';
import { setUpTabs } from './tabs.ts';
import { setUpTheme } from './theme.ts';
import { createUsageTab } from './usage-tab.ts';

const LEVEL: Record<AppState['status'], 'ok' | 'warn' | 'error' | 'idle'> = {
  starting: 'idle',
  serving: 'ok',
  'needs-sign-in': 'warn',
  'signing-in': 'warn',
  error: 'error',
  'port-in-use': 'error',
  stopped: 'idle',
};

const context = new UiContext();
const setup = createSetupTab(byId('panel-setup'), context);
const models = createModelsTab(byId('panel-models'), context);
const liveLog = createLiveLogTab(byId('panel-log'));
const usage = createUsageTab(byId('panel-usage'));
const settings = createSettingsTab(byId('panel-settings'), context);

const header = byId('state');
context.onState((state) => {
  header.dataset.level = LEVEL[state.status];
  // The full URL would push the port out of the header at the window's width: host and port here, the
  // whole sentence in the title, the base URL in the Setup tab.
  const emulator = state.emulator ? ' (emulator)' : '';
  const address = state.status === 'serving' && state.baseUrl ? new URL(state.baseUrl).host : null;
  header.textContent = address ? `${state.emulator ? 'Emulator' : 'Serving'} · ${address}` : state.message + emulator;
  header.title = state.message + emulator;
});

connectEvents({
  state: (state) => context.setState(state),
  requests: (batch) => {
    liveLog.apply(batch);
    if (batch.finished.length > 0 || batch.dropped > 0) usage.requestsFinished();
  },
  disconnected: (retrying) => {
    setup.serverLost();
    header.dataset.level = 'error';
    header.textContent = retrying ? 'Not connected: retrying…' : 'Disconnected: open the window again from the app, or the link serve printed.';
    header.title = header.textContent;
  },
});

setUpTheme(byId<HTMLButtonElement>('theme-toggle'), () => usage.redraw());
const tabs: Record<string, { show(): void; hide?(): void }> = {
  'panel-setup': setup,
  'panel-models': models,
  'panel-log': liveLog,
  'panel-usage': usage,
  'panel-settings': settings,
};
const tabList = setUpTabs(byId('tablist'), {
  onShow(panelId) {
    for (const [id, tab] of Object.entries(tabs)) {
      if (id === panelId) tab.show();
      else tab.hide?.();
    }
  },
});
context.showTab = (tabId) => tabList.select(tabId);
