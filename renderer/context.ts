import type { AppState } from '../src/app/types.ts';
import { ControlApiError } from './api.ts';
import { byId } from './dom.ts';

/** What every tab shares: the latest AppState (from the event stream), a toast, the clipboard. */
export class UiContext {
  #state: AppState | null = null;
  readonly #listeners = new Set<(state: AppState) => void>();
  #toastTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the tabs are wired: moves to a tab by its id (e.g. 'tab-settings'). */
  showTab: (tabId: string) => void = () => undefined;

  get state(): AppState | null {
    return this.#state;
  }

  setState(state: AppState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }

  /** Calls `listener` now (when a state is known) and on every later state. */
  onState(listener: (state: AppState) => void): void {
    this.#listeners.add(listener);
    if (this.#state) listener(this.#state);
  }

  toast(message: string): void {
    const toast = byId('toast');
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(this.#toastTimer);
    this.#toastTimer = setTimeout(() => {
      toast.hidden = true;
    }, 2500);
  }

  async copy(text: string, what: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.toast(`${what} copied`);
    } catch {
      this.toast(`Could not copy ${what.toLowerCase()}: select it and press Ctrl+C`);
    }
  }
}

/** A failed call as one sentence for people: the server's message when it sent one. */
export function describeError(error: unknown): string {
  if (error instanceof ControlApiError) return error.message;
  if (error instanceof TypeError) return 'The server cannot be reached. Is Bedrock Bridge still running?';
  return error instanceof Error ? error.message : String(error);
}
