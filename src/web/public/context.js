// What a turn's context was, from API data: the stored messages sent with its message, and how
// many older ones it left out to fit the context limit. Pure functions: no DOM, no state.

/**
 * A turn's context from its model message (`context`: {messages, first_message_id, truncated})
 * and how many messages were stored before its user message (null when not known).
 */
export function turnContext(modelMessage, storedBefore) {
  const context = modelMessage?.context;
  if (!context || typeof context.messages !== 'number') return null;
  return {
    messages: context.messages,
    truncated: context.truncated === true,
    storedBefore: Number.isInteger(storedBefore) && storedBefore >= 0 ? storedBefore : null,
  };
}

/** The context of the last turn of a history (its messages in order), or null before any. */
export function lastTurnIn(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    // A model message follows its user message: i - 1 messages were stored before that one.
    if (messages[i].role === 'model') return turnContext(messages[i], i - 1);
  }
  return null;
}

/** How many older messages the turn left out: null when it left none out, or the count is not known. */
export function leftOut(turn) {
  if (!turn?.truncated || turn.storedBefore === null) return null;
  return Math.max(0, turn.storedBefore - turn.messages);
}
