import { api, ControlApiError, type ModelsView } from './api.ts';
import { describeError, type UiContext } from './context.ts';
import { h, replaceChildren } from './dom.ts';
import { formatMs, shortModel } from './format.ts';
import { aliasProblems, type AliasRow } from './model-validation.ts';

/**
 * A Bedrock id as people say it, with its inference-profile scope: "claude-sonnet-4-5 (global)" for
 * "global.anthropic.claude-sonnet-4-5-20250929-v1:0". Names that are not Bedrock ids stay whole.
 */
function modelLabel(name: string): string {
  const short = shortModel(name);
  if (short === name) return name;
  const scope = /^(global|us|us-gov|eu|apac|jp|au|ca)\./.exec(name)?.[1];
  return scope ? `${short} (${scope})` : short;
}

/**
 * Models: the default model (applies to the next request), "try it", and the user's aliases
 * (alias -> Bedrock model id, inference profile or ARN) with a picker fed by the catalogue.
 */
export function createModelsTab(panel: HTMLElement, context: UiContext): { show(): void } {
  let view: ModelsView | null = null;

  const catalogueList = h('datalist', { id: 'catalogue-list' });
  const defaultPicker = h('select', { id: 'default-model', class: 'grow', attrs: { 'aria-label': 'Default model' }, on: { change: () => void changeDefault() } });
  const defaultResolved = h('p', { class: 'muted small mono', id: 'default-model-id' });
  const tryButton = h('button', { id: 'try-model', attrs: { type: 'button' }, on: { click: () => void tryIt() } }, 'Try it');
  const tryResult = h('p', { id: 'try-result', class: 'small', attrs: { 'aria-live': 'polite' } });
  const aliasBody = h('tbody', { id: 'alias-rows' });
  const noAliases = h('p', { class: 'muted small', id: 'no-aliases' }, 'None yet: the built-in names below work, and Add alias makes your own.');
  const aliasError = h('p', { class: 'small error-text', id: 'alias-error', attrs: { 'aria-live': 'polite' } });
  const degradedNote = h('p', { class: 'small muted', id: 'catalogue-degraded' });
  const builtInBody = h('tbody');
  const builtInSummary = h('summary', null, 'Built-in and organisation aliases');

  panel.append(
    h('h2', null, 'Default model'),
    h('div', { class: 'row' }, defaultPicker, tryButton),
    defaultResolved,
    tryResult,
    h('h2', null, 'Your aliases'),
    h('p', { class: 'muted small' }, 'A name your tools send, and the Bedrock model id, inference profile or ARN it calls.'),
    h(
      'table',
      { id: 'alias-table' },
      h('colgroup', null, h('col', { attrs: { width: '34%' } }), h('col'), h('col', { attrs: { width: '30px' } })),
      h('thead', null, h('tr', null, h('th', { attrs: { scope: 'col' } }, 'Alias'), h('th', { attrs: { scope: 'col' } }, 'Bedrock model'), h('th', null, h('span', { class: 'visually-hidden' }, 'Remove')))),
      aliasBody,
    ),
    noAliases,
    aliasError,
    h('div', { class: 'actions' }, h('button', { id: 'add-alias', attrs: { type: 'button' }, on: { click: () => addRow({ alias: '', target: '' }, true) } }, 'Add alias'), h('button', { class: 'primary', id: 'save-aliases', attrs: { type: 'button' }, on: { click: () => void saveAliases() } }, 'Save aliases')),
    degradedNote,
    h('details', { class: 'small' }, builtInSummary, h('table', null, h('colgroup', null, h('col', { attrs: { width: '34%' } }), h('col')), builtInBody)),
    catalogueList,
  );

  function addRow(row: AliasRow, focus = false): void {
    const alias = h('input', { class: 'alias-name', attrs: { type: 'text', 'aria-label': 'Alias', spellcheck: 'false', autocomplete: 'off' } });
    alias.value = row.alias;
    const target = h('input', { class: 'alias-target mono', attrs: { type: 'text', list: 'catalogue-list', 'aria-label': `Bedrock model for ${row.alias || 'new alias'}`, spellcheck: 'false', autocomplete: 'off' } });
    target.value = row.target;
    const remove = () => {
      tr.remove();
      noAliases.hidden = aliasBody.rows.length > 0;
    };
    const tr = h('tr', null, h('td', null, alias), h('td', null, target), h('td', null, h('button', { class: 'icon-button', attrs: { type: 'button', 'aria-label': `Remove alias ${row.alias}` }, on: { click: remove } }, '×')));
    aliasBody.append(tr);
    noAliases.hidden = true;
    if (focus) alias.focus();
  }

  function currentRows(): Array<AliasRow & { aliasInput: HTMLInputElement; targetInput: HTMLInputElement }> {
    return [...aliasBody.rows].map((tr) => {
      const aliasInput = tr.querySelector<HTMLInputElement>('.alias-name')!;
      const targetInput = tr.querySelector<HTMLInputElement>('.alias-target')!;
      return { alias: aliasInput.value.trim(), target: targetInput.value.trim(), aliasInput, targetInput };
    });
  }

  function render(next: ModelsView): void {
    view = next;
    const names = [...new Set([...Object.keys(next.aliases), ...next.catalogue.map((entry) => entry.id)])];
    replaceChildren(catalogueList, ...next.catalogue.map((entry) => h('option', { attrs: { value: entry.id } }, entry.bedrock_model_id ? `→ ${entry.bedrock_model_id}` : entry.owned_by)));
    const option = (name: string) => h('option', { attrs: { value: name, title: name } }, modelLabel(name));
    replaceChildren(defaultPicker, ...names.map(option));
    if (next.defaultModel && !names.includes(next.defaultModel)) defaultPicker.prepend(option(next.defaultModel));
    defaultPicker.value = next.defaultModel ?? '';
    defaultPicker.title = next.defaultModel ?? '';
    defaultResolved.textContent = next.defaultModelId ? `→ ${next.defaultModelId}` : 'No default: requests must name a model.';
    defaultResolved.title = defaultResolved.textContent;
    aliasBody.replaceChildren();
    noAliases.hidden = false;
    for (const [alias, target] of Object.entries(next.userAliases)) addRow({ alias, target });
    aliasError.textContent = '';
    degradedNote.textContent = next.degraded ? `Bedrock's model list is unavailable (${next.degraded}); aliases still work.` : '';
    const others = Object.entries(next.aliases).filter(([alias]) => !(alias in next.userAliases));
    builtInSummary.textContent = `Built-in and organisation aliases (${others.length})`;
    replaceChildren(builtInBody, ...others.map(([alias, target]) => h('tr', null, h('td', { title: alias }, alias), h('td', { class: 'mono', title: target }, modelLabel(target)))));
  }

  async function load(): Promise<void> {
    try {
      render(await api.models());
    } catch (error) {
      aliasError.textContent = describeError(error);
    }
  }

  async function changeDefault(): Promise<void> {
    try {
      render(await api.setDefaultModel(defaultPicker.value));
      context.toast(`Default model: ${defaultPicker.value}`);
    } catch (error) {
      context.toast(describeError(error));
      if (view) defaultPicker.value = view.defaultModel ?? '';
    }
  }

  async function tryIt(): Promise<void> {
    tryButton.disabled = true;
    tryResult.className = 'small muted';
    tryResult.textContent = `Asking ${defaultPicker.value}…`;
    try {
      const result = await api.tryModel(defaultPicker.value || undefined);
      tryResult.className = result.ok ? 'small ok-text' : 'small error-text';
      tryResult.textContent = result.ok ? `Answered in ${formatMs(result.latencyMs)} by ${result.modelId ?? result.model}` : `${result.status}: ${result.error ?? 'failed'}`;
    } catch (error) {
      tryResult.className = 'small error-text';
      tryResult.textContent = describeError(error);
    } finally {
      tryButton.disabled = false;
    }
  }

  async function saveAliases(): Promise<void> {
    const rows = currentRows().filter((row) => row.alias || row.target);
    for (const row of currentRows()) {
      row.aliasInput.removeAttribute('aria-invalid');
      row.targetInput.removeAttribute('aria-invalid');
    }
    const problems = aliasProblems(rows);
    if (problems.length > 0) {
      for (const problem of problems) rows[problem.row]![problem.field === 'alias' ? 'aliasInput' : 'targetInput'].setAttribute('aria-invalid', 'true');
      aliasError.textContent = problems[0]!.message;
      return;
    }
    try {
      render(await api.setModels(Object.fromEntries(rows.map((row) => [row.alias, row.target]))));
      context.toast('Aliases saved');
    } catch (error) {
      aliasError.textContent = describeError(error);
      // `aliases.<name>` names the row the server refused.
      const name = error instanceof ControlApiError && error.field?.startsWith('aliases.') ? error.field.slice('aliases.'.length) : null;
      const row = name === null ? undefined : rows.find((candidate) => candidate.alias === name);
      row?.targetInput.setAttribute('aria-invalid', 'true');
    }
  }

  // A default switched from the tray shows here at once.
  context.onState((state) => {
    if (view && state.models.defaultModel !== view.defaultModel) void load();
  });

  return {
    show() {
      // Loaded once: coming back to the tab keeps alias edits not saved yet.
      if (!view) void load();
    },
  };
}
