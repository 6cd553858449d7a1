// An incremental text/event-stream parser: the parts of the HTML spec this page needs.

/** push(text) returns the events completed by that text, each as {event, data}. */
export function sseParser() {
  let buffer = '';
  let eventName = '';
  let dataLines = [];
  return {
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
          if (dataLines.length) events.push({ event: eventName || 'message', data: dataLines.join('\n') });
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
      }
      return events;
    },
  };
}
