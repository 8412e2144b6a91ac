/**
 * Light, dark, or the system's choice (prefers-color-scheme, the default). The choice is kept in
 * localStorage and applied as data-theme on <html>; the stylesheet does the rest.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'bedrock-bridge.theme';
const ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const ICON: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

function storedChoice(): ThemeChoice {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

function apply(choice: ThemeChoice, button: HTMLButtonElement): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  const label = `Theme: ${choice} (click to change)`;
  button.textContent = ICON[choice];
  button.setAttribute('aria-label', label);
  button.title = label;
}

/** Wires the toggle; `onChange` runs after every change (the user's or the system's). */
export function setUpTheme(button: HTMLButtonElement, onChange: () => void): void {
  let choice = storedChoice();
  apply(choice, button);
  button.addEventListener('click', () => {
    choice = ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!;
    if (choice === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
    apply(choice, button);
    onChange();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', onChange);
}
