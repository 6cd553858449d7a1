// The estimate of the message being typed: "≈ 1,234 prompt tokens · ≤ $0.0031", asked for once
// typing pauses. POST /sessions/:id/estimate counts the prompt the message would make, the files
// attached included (what they weigh in tokens is the API's to say); it sends no turn and stores
// nothing. An answer about text, files (or a session) since changed is dropped: the estimate is a
// view of state.js, keyed by everything it depends on.

import { $ } from '../dom.js';
import * as api from '../api.js';
import { count, formatUsd, plural } from '../format.js';
import { currentSession, fresh, isBusy, isStale, on, readyFiles, supersede, ticket } from '../state.js';
import { composerText } from './conversation.js';

/** How long typing must pause before the estimate is asked for. */
const PAUSE_MS = 500;

const ui = { estimate: $('estimate') };
let timer = 0;

/**
 * What an estimate depends on: the session, what it holds (a turn stored changes the context),
 * the text and the files uploaded for it (those still uploading count once they are stored).
 * Null when there is nothing to estimate: no session, neither text nor files, a turn being sent,
 * or no key for a service that needs one.
 */
function keyOf(session, text, fileIds) {
  if (!session || (text.trim() === '' && fileIds.length === 0) || isBusy() || api.needsKey()) return null;
  return JSON.stringify([session.session_id, session.message_count ?? null, session.context_tokens ?? null, text, fileIds]);
}

/** Asks for the estimate of the box's text and files once typing pauses; what was shown for others goes. */
export function scheduleEstimate() {
  const session = currentSession();
  const text = composerText();
  const fileIds = readyFiles().map((file) => file.file_id);
  const key = keyOf(session, text, fileIds);
  if (key === ticket('estimate').key) return;
  const started = supersede('estimate', key);
  clearTimeout(timer);
  if (key === null) {
    render(null);
    return;
  }
  // The figures shown are about the text before this change: dimmed until the new ones come.
  ui.estimate.dataset.stale = 'true';
  timer = setTimeout(() => estimate(started, session, text, fileIds), PAUSE_MS);
}

async function estimate(started, session, text, fileIds) {
  try {
    render(await fresh(started, api.estimateTurn(session.session_id, text, fileIds)), session);
  } catch (error) {
    if (!isStale(error)) renderError(error);
  }
}

function render(answer, session) {
  delete ui.estimate.dataset.stale;
  ui.estimate.classList.remove('is-error');
  ui.estimate.hidden = !answer;
  if (!answer) {
    ui.estimate.textContent = '';
    ui.estimate.title = '';
    return;
  }
  const parts = [`≈ ${plural(answer.prompt_tokens, 'prompt token')}`];
  parts.push(typeof answer.max_cost_usd === 'number' ? `≤ ${formatUsd(answer.max_cost_usd)}` : 'unpriced');
  if (answer.truncated) {
    const stored = session?.message_count;
    const left = typeof stored === 'number' && typeof answer.messages_in_context === 'number' ? stored - answer.messages_in_context : null;
    parts.push(left > 0 ? `${plural(left, 'older message')} would be left out` : 'older messages would be left out');
  }
  ui.estimate.textContent = parts.join(' · ');
  ui.estimate.title =
    typeof answer.input_cost_usd === 'number'
      ? `The prompt costs ${formatUsd(answer.input_cost_usd)}; ${formatUsd(answer.max_cost_usd)} is with the longest reply the model may write.`
      : "The session's model has no price.";
  if (typeof answer.context_limit === 'number') ui.estimate.title += ` Context limit: ${count(answer.context_limit)} tokens.`;
}

function renderError(error) {
  delete ui.estimate.dataset.stale;
  // A refused key is asked for in the key area; nothing to say here.
  if (error?.status === 401) {
    render(null);
    return;
  }
  const tooLong = error?.code === 'CONTEXT_TOO_LONG';
  ui.estimate.textContent = tooLong ? error.message : `No estimate: ${error?.message ?? String(error)}`;
  ui.estimate.title = '';
  ui.estimate.classList.toggle('is-error', tooLong);
  ui.estimate.hidden = false;
}

export function initEstimate() {
  // Another session, or the same one after a turn: the estimate is about another context.
  on('session', scheduleEstimate);
  // Sending hides it; once sent, the box holds other text (or none).
  on('busy', scheduleEstimate);
  // A file stored or taken off is another message.
  on('attachments', scheduleEstimate);
}
