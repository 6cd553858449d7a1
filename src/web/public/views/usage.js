// The usage panel: the current user's usage report from the API (in total, by model, by day).

import { $ } from '../dom.js';
import * as api from '../api.js';
import { count, formatUsd, plural } from '../format.js';
import { fresh, isCurrent, isStale, supersede } from '../state.js';
import { currentUserId } from './session-form.js';

const ui = {
  button: $('usage-button'),
  panel: $('usage-panel'),
  user: $('usage-user'),
  refresh: $('usage-refresh'),
  close: $('usage-close'),
  totalCost: $('usage-total-cost'),
  turns: $('usage-turns'),
  tokens: $('usage-tokens'),
  detail: $('usage-detail'),
  status: $('usage-status'),
  tables: $('usage-tables'),
  byModel: $('usage-by-model'),
  byDay: $('usage-by-day'),
};

function setOpen(open) {
  ui.panel.hidden = !open;
  ui.button.setAttribute('aria-expanded', String(open));
  if (open) refreshUsage();
}

/** Loads the usage report of the current user into the panel (when it is open). */
export async function refreshUsage() {
  if (ui.panel.hidden) return;
  const userId = currentUserId();
  const started = supersede('usage', userId);
  ui.user.textContent = userId;
  ui.panel.setAttribute('aria-busy', 'true');
  // Another user's figures are not left up while this one's load.
  if (ui.status.dataset.user !== userId) render(null, 'Loading…');
  try {
    const report = await fresh(started, api.getUsage(userId));
    render(report, report?.turns ? '' : 'No usage yet.');
  } catch (error) {
    if (isStale(error)) return;
    if (error.status === 404) render(null, 'No usage yet.');
    else if (error.status === 401) render(null, 'Enter the API key to see the usage.');
    else render(null, `Could not load the usage: ${error.message}`);
  } finally {
    if (isCurrent(started)) {
      ui.status.dataset.user = userId;
      ui.panel.removeAttribute('aria-busy');
    }
  }
}

/** Empties the panel (the key is gone); a load under way is dropped when it answers. */
export function clearUsage() {
  supersede('usage', null);
  delete ui.status.dataset.user;
  render(null, '');
}

function render(report, status) {
  ui.totalCost.textContent = formatUsd(report?.total_cost_usd ?? 0);
  ui.turns.textContent = count(report?.turns ?? 0);
  ui.tokens.textContent = count(report?.total_tokens ?? 0);
  ui.status.textContent = status;
  ui.status.hidden = status === '';
  if (!report || !report.turns) {
    ui.detail.textContent = '';
    ui.tables.hidden = true;
    return;
  }
  ui.detail.textContent = detailOf(report);
  fillTable(ui.byModel, report.by_model ?? [], (row) => row.model);
  // The API lists days oldest first; the most recent day is the interesting one.
  fillTable(ui.byDay, [...(report.by_day ?? [])].reverse(), (row) => row.day);
  ui.tables.hidden = false;
}

/** "Tokens: 120 in, 80 out, 40 thinking. All time. 1 turn had no known price…" */
function detailOf(report) {
  const parts = [`${count(report.prompt_tokens)} in`];
  if (report.cached_tokens) parts.push(`${count(report.cached_tokens)} cached`);
  parts.push(`${count(report.output_tokens)} out`);
  if (report.thoughts_tokens) parts.push(`${count(report.thoughts_tokens)} thinking`);
  let detail = `Tokens: ${parts.join(', ')}. All time.`;
  if (report.unpriced_turns) detail += ` ${plural(report.unpriced_turns, 'turn')} had no known price and are not in the cost.`;
  return detail;
}

function fillTable(table, rows, label) {
  table.tBodies[0].replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = label(row);
      const cost = row.unpriced_turns && !row.total_cost_usd ? 'unpriced' : formatUsd(row.total_cost_usd);
      const cells = [count(row.turns), count(row.total_tokens), cost].map((text) => {
        const td = document.createElement('td');
        td.textContent = text;
        return td;
      });
      tr.append(name, ...cells);
      return tr;
    }),
  );
}

export function initUsage() {
  ui.button.addEventListener('click', () => setOpen(ui.panel.hidden));
  ui.close.addEventListener('click', () => {
    setOpen(false);
    ui.button.focus();
  });
  ui.refresh.addEventListener('click', () => refreshUsage());
}
