// The open session's model and context window: how much of the limit its conversation takes,
// how many older messages its last turn left out, and whether its model is going away. Every
// figure is the API's: the Session resource (context_tokens, context_limit, model_notice) and the
// model messages' `context`.

import { $ } from '../dom.js';
import { leftOut } from '../context.js';
import { count, formatModelNotice, plural } from '../format.js';
import { currentSession, lastTurnContext, on } from '../state.js';

const ui = {
  model: $('session-model'),
  gauge: $('context-gauge'),
  meter: $('context-meter'),
  leftOut: $('context-left-out'),
  warning: $('model-warning'),
};

const TRUNCATION = {
  auto: 'A turn that would not fit leaves out the oldest turns it sends (the history keeps them).',
  disabled: 'Truncation is off: a message that would not fit is refused.',
};

function render() {
  const session = currentSession();
  if (!session) {
    ui.warning.hidden = true;
    return;
  }
  ui.model.textContent = session.model ?? '';
  ui.gauge.textContent = gaugeText(session);
  ui.gauge.title = TRUNCATION[session.truncation] ?? '';
  renderMeter(session);
  renderLeftOut();
  renderWarning(session);
}

/** "Context: 12,340 of 1,048,576 tokens" */
function gaugeText({ context_tokens: tokens, context_limit: limit, message_count: messages }) {
  const known = typeof limit === 'number';
  if (typeof tokens === 'number')
    return known ? `Context: ${count(tokens)} of ${count(limit)} tokens` : `Context: ${plural(tokens, 'token')}`;
  // Null before the first turn; also when the API could not be read after a turn.
  const what = messages === 0 ? 'no turns yet' : 'known after the next turn';
  return `Context: ${what}${known ? ` · limit ${count(limit)} tokens` : ''}`;
}

function renderMeter({ context_tokens: tokens, context_limit: limit }) {
  const shown = typeof tokens === 'number' && typeof limit === 'number' && limit > 0;
  ui.meter.hidden = !shown;
  if (!shown) return;
  ui.meter.max = limit;
  ui.meter.value = Math.min(tokens, limit);
  ui.meter.low = limit * 0.75;
  ui.meter.high = limit * 0.9;
  ui.meter.optimum = 0;
}

/** "6 older messages left out", after a turn that had to leave some out. */
function renderLeftOut() {
  const turn = lastTurnContext();
  ui.leftOut.hidden = !turn?.truncated;
  if (!turn?.truncated) return;
  const n = leftOut(turn);
  ui.leftOut.textContent = n === null ? 'Older messages left out' : `${plural(n, 'older message')} left out`;
  ui.leftOut.title = `The last turn sent the newest ${plural(turn.messages, 'message')} with its own; the history keeps every message.`;
}

/** The session's model, when the API says Google is retiring it (within 30 days) or has. */
function renderWarning(session) {
  const notice = session.model_notice;
  ui.warning.hidden = !notice;
  if (!notice) return;
  const consequence =
    notice.status === 'retired'
      ? ' Google no longer serves it under this name: its turns may fail, or be answered (and billed) by its replacement.'
      : '';
  ui.warning.textContent = `This session's model ${formatModelNotice({ model: session.model, ...notice })}.${consequence}`;
}

export function initSessionContext() {
  on('session', render);
  render();
}
