// An incremental text/event-stream parser: the parts of the HTML spec this page needs.

/**
 * push(text) returns the events completed by that text, each as {event, data, id}: `id` is the
 * last event id so far (it carries over to events without one, as in the spec). `retry` is the
 * reconnection delay the stream last asked for, in ms (null when it asked for none).
 */
export function sseParser() {
  let buffer = '';
  let eventName = '';
  let dataLines = [];
  let lastId = '';
  return {
    retry: null,
    push(text) {
      buffer += text;
      const events = [];
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (dataLines.length) events.push({ event: eventName || 'message', data: dataLines.join('\n'), id: lastId });
          eventName = '';
          dataLines = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') eventName = value;
        else if (field === 'data') dataLines.push(value);
        else if (field === 'id' && !value.includes('\0')) lastId = value;
        else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
      }
      return events;
    },
  };
}
