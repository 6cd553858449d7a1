import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  /** The server closed the connection. */
  closed: boolean;
  ms: number;
}

/**
 * Sends raw bytes (`\n` becomes CRLF) on a fresh loopback connection, for what a well-behaved
 * client cannot send: no Host, a body announced and never sent, headers never finished. Resolves
 * once the server closes the connection, or after `waitMs` with `closed: false`.
 */
export function raw(baseUrl: string, head: string, options: { drip?: string; waitMs?: number } = {}): Promise<RawAnswer> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = Date.now();
    let data = '';
    let drip: NodeJS.Timeout | undefined;
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(head.replace(/\n/g, '\r\n'));
      // A byte every 100 ms: the body never arrives whole in time.
      if (options.drip) drip = setInterval(() => socket.writable && socket.write(options.drip!), 100);
    });
    const done = (closed: boolean) => {
      clearInterval(drip);
      clearTimeout(timer);
      socket.destroy();
      const [headers, body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1] ?? 0), headers, body, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done(false), options.waitMs ?? 5_000);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}
