/**
 * The WAI-ARIA tabs pattern: one tab in the tab order (roving tabindex), arrow keys move between
 * tabs and activate them, Home/End jump to the ends. The chosen tab survives a reload (location hash).
 */
export interface TabsOptions {
  /** Called when a tab's panel is shown (also for the first one), e.g. to load its data. */
  onShow: (panelId: string) => void;
}

export function setUpTabs(tablist: HTMLElement, options: TabsOptions): { select(tabId: string): void } {
  const tabs = [...tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  const panelOf = (tab: HTMLElement) => document.getElementById(tab.getAttribute('aria-controls') ?? '')!;

  function select(tab: HTMLButtonElement, focus: boolean): void {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      panelOf(other).hidden = !selected;
    }
    if (focus) tab.focus();
    history.replaceState(null, '', `#${tab.id.replace(/^tab-/, '')}`);
    options.onShow(panelOf(tab).id);
  }

  tablist.addEventListener('click', (event) => {
    const tab = (event.target as HTMLElement).closest<HTMLButtonElement>('[role="tab"]');
    if (tab) select(tab, false);
  });
  tablist.addEventListener('keydown', (event) => {
    const current = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (current < 0) return;
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
        next = (current + 1) % tabs.length;
        break;
      case 'ArrowLeft':
        next = (current - 1 + tabs.length) % tabs.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = tabs.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    select(tabs[next]!, true);
  });

  const initial = tabs.find((tab) => `#${tab.id.replace(/^tab-/, '')}` === location.hash) ?? tabs[0]!;
  select(initial, false);
  return {
    select(tabId: string) {
      const tab = tabs.find((candidate) => candidate.id === tabId);
      if (tab) select(tab, true);
    },
  };
}
