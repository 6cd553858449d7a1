// How numbers, dates and titles read on the page. Pure functions: no DOM, no state.

/** Dollars with every significant digit down to the nano-dollar: 0.0003568 → "$0.0003568". */
export function formatUsd(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '$0.00';
  let text = value.toFixed(9).replace(/0+$/, '');
  const decimals = text.length - text.indexOf('.') - 1;
  if (decimals < 2) text = value.toFixed(2);
  return `$${text}`;
}

export const count = (n) => (Number(n) || 0).toLocaleString('en-US');
export const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/** "148 tokens (6 in, 44 out, 98 thinking) · $0.0003568", and " · Stopped" for a turn stopped part way. */
export function formatMeta(message) {
  const u = message.usage ?? {};
  const parts = [`${u.prompt_tokens ?? 0} in`];
  if (u.cached_tokens) parts.push(`${u.cached_tokens} cached`);
  parts.push(`${u.output_tokens ?? 0} out`);
  if (u.thoughts_tokens) parts.push(`${u.thoughts_tokens} thinking`);
  if (u.tool_prompt_tokens) parts.push(`${u.tool_prompt_tokens} tool`);
  let cost = message.cost_status === 'unpriced' || message.cost_usd == null ? 'unpriced' : formatUsd(message.cost_usd);
  // Gemini reported no usage before the call was aborted: the cost is the service's estimate.
  if (message.cost_status === 'estimated') cost += ' (estimated)';
  let meta = `${plural(u.total_tokens ?? 0, 'token')} (${parts.join(', ')}) · ${cost}`;
  if (message.finish_reason === 'CANCELLED') meta += ' · Stopped';
  else if (message.finish_reason && message.finish_reason !== 'STOP') meta += ` · stopped: ${message.finish_reason}`;
  return meta;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** "14:05" today, "Nov 21, 14:05" this year, "Nov 21, 2025" before. */
export function formatWhen(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return `${dateFormat.format(date)}, ${timeFormat.format(date)}`;
  return yearFormat.format(date);
}

/** The full date and time, for a tooltip. */
export const formatFull = (iso) => fullFormat.format(new Date(iso));

/** 42 → "42 s", 150 → "3 min", 7200 → "2 h" */
export function formatWait(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export const titleOf = (session) => (session?.title ? session.title : 'Untitled');

/** A model going away (GET /health's model_notices, a session's model_notice): "gemini-2.5-flash is deprecated: shutdown 2026-12-01, use gemini-3-flash" */
export function formatModelNotice({ model, status, shutdown_date: shutdown, replacement }) {
  const details = [];
  if (shutdown) details.push(status === 'retired' ? `shut down ${shutdown}` : `shutdown ${shutdown}`);
  if (replacement) details.push(`use ${replacement}`);
  return `${model} is ${status}${details.length ? `: ${details.join(', ')}` : ''}`;
}

/** 812 → "812 B", 1536 → "1.5 KiB", 20971520 → "20 MiB" (binary units, as the API's limits are stated). */
export function formatBytes(n) {
  const bytes = Number(n) || 0;
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} ${units[unit]}`;
}
