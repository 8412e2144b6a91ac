// @ts-check
// The admin page: draws /admin/api/summary and a user's drill-down. Data only ever goes in through
// textContent (never as HTML): user names, models and clients come from laptops.

/** @type {any} */
const uPlot = /** @type {any} */ (globalThis).uPlot;
const usd = (/** @type {number} */ value) => `$${value.toFixed(2)}`;
const count = (/** @type {number} */ value) => value.toLocaleString('en-US');
const monthInput = /** @type {HTMLInputElement} */ (document.getElementById('month'));
/** @type {Record<string, any>} */
const charts = {};

/** @param {string} path */
async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (response.status === 401) {
    location.href = '/admin/login';
    throw new Error('signed out');
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** @param {string} tag @param {string} text @param {string} [className] */
function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** @param {string} id @param {HTMLElement[][]} rows @param {(row: number) => void} [onClick] */
function fill(id, rows, onClick) {
  const body = /** @type {HTMLTableSectionElement} */ (document.querySelector(`#${id} tbody`));
  body.replaceChildren(...rows.map((cells, index) => {
    const tr = document.createElement('tr');
    tr.append(...cells);
    if (onClick) {
      tr.className = 'clickable';
      tr.addEventListener('click', () => {
        body.querySelectorAll('tr.selected').forEach((row) => row.classList.remove('selected'));
        tr.classList.add('selected');
        onClick(index);
      });
    }
    return tr;
  }));
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('td', 'No usage this month.', 'muted');
    td.colSpan = 6;
    tr.append(td);
    body.append(tr);
  }
}

/** @param {number} spent @param {number | null | undefined} budget */
function budgetCell(spent, budget) {
  const td = document.createElement('td');
  if (budget === null || budget === undefined) {
    td.append(cell('span', 'no budget', 'muted'));
    return td;
  }
  const share = budget > 0 ? spent / budget : 1;
  const bar = document.createElement('div');
  bar.className = `bar${share >= 1 ? ' reached' : share >= 0.8 ? ' near' : ''}`;
  const fillSpan = document.createElement('span');
  fillSpan.style.width = `${Math.min(100, share * 100).toFixed(0)}%`;
  bar.append(fillSpan);
  const wrap = document.createElement('div');
  wrap.className = 'budget';
  wrap.append(bar, cell('span', share >= 1 ? `reached: ${usd(spent)} of ${usd(budget)}` : `${usd(spent)} of ${usd(budget)}`));
  td.append(wrap);
  return td;
}

/** @param {string} id @param {{day: string, costUsd: number, requests: number}[]} days @param {string} month */
function dayChart(id, days, month) {
  const [year, monthNumber] = month.split('-').map(Number);
  const length = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  const xs = [];
  const cost = [];
  const requests = [];
  const byDay = new Map(days.map((d) => [d.day, d]));
  const today = new Date().toISOString().slice(0, 10);
  for (let day = 1; day <= length; day += 1) {
    const key = `${month}-${String(day).padStart(2, '0')}`;
    xs.push(Date.UTC(year, monthNumber - 1, day) / 1000);
    // Days still to come have no value (the line stops), rather than a spend of $0.
    cost.push(key > today ? null : (byDay.get(key)?.costUsd ?? 0));
    requests.push(key > today ? null : (byDay.get(key)?.requests ?? 0));
  }
  const target = /** @type {HTMLElement} */ (document.getElementById(id));
  charts[id]?.destroy();
  charts[id] = new uPlot({
    width: Math.max(320, target.clientWidth - 16),
    height: 220,
    tzDate: (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series: [
      {},
      { label: 'Cost (USD)', stroke: '#2f6fde', fill: 'rgba(47,111,222,0.12)', value: (/** @type {any} */ _u, /** @type {number} */ v) => (v == null ? '–' : usd(v)) },
      { label: 'Requests', stroke: '#9aa3b1', scale: 'requests' },
    ],
    axes: [{}, { values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) => ticks.map((t) => `$${t}`) }, { side: 1, scale: 'requests', grid: { show: false } }],
  }, [xs, cost, requests], target);
}

/** @param {string} user */
async function drill(user) {
  const data = await api(`/admin/api/user?user=${encodeURIComponent(user)}&month=${monthInput.value}`);
  const section = /** @type {HTMLElement} */ (document.getElementById('drill'));
  section.hidden = false;
  /** @type {HTMLElement} */ (document.getElementById('drill-title')).textContent = `${user} — ${data.month}`;
  dayChart('chart-user', data.days, data.month);
  fill('user-models', data.models.map((/** @type {any} */ m) => [cell('td', m.model), cell('td', count(m.requests), 'num'), cell('td', count(m.errors), 'num'), cell('td', `${count(m.inputTokens)} / ${count(m.outputTokens)}`, 'num'), cell('td', usd(m.costUsd), 'num')]));
}

async function load() {
  const data = await api(`/admin/api/summary${monthInput.value ? `?month=${monthInput.value}` : ''}`);
  monthInput.value = data.month;
  /** @type {HTMLElement} */ (document.getElementById('who')).textContent = `Signed in as ${data.signedInAs}`;
  /** @type {HTMLElement} */ (document.getElementById('total-cost')).textContent = usd(data.total.costUsd);
  /** @type {HTMLElement} */ (document.getElementById('total-requests')).textContent = count(data.total.requests);
  /** @type {HTMLElement} */ (document.getElementById('total-users')).textContent = count(data.users.length);
  dayChart('chart-days', data.days, data.month);
  fill('users', data.users.map((/** @type {any} */ u) => [cell('td', u.user), cell('td', u.groups.join(', ')), cell('td', count(u.requests), 'num'), cell('td', usd(u.costUsd), 'num'), budgetCell(u.costUsd, u.budgetUsd)]), (index) => void drill(data.users[index].user));
  fill('groups', data.groups.map((/** @type {any} */ g) => [cell('td', g.group), cell('td', usd(g.costUsd), 'num'), budgetCell(g.costUsd, g.budgetUsd)]));
  fill('models', data.models.map((/** @type {any} */ m) => [cell('td', m.model), cell('td', count(m.requests), 'num'), cell('td', `${count(m.inputTokens)} / ${count(m.outputTokens)}`, 'num'), cell('td', usd(m.costUsd), 'num')]));
  fill('clients', data.clients.map((/** @type {any} */ c) => [cell('td', c.client), cell('td', count(c.requests), 'num'), cell('td', usd(c.costUsd), 'num')]));
  /** @type {HTMLElement} */ (document.getElementById('drill')).hidden = true;
}

monthInput.addEventListener('change', () => void load());
void load();
