import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer } from 'node:http';
import type { ServerOptions } from 'node:http';

/**
 * Nest's Express adapter, with Node's http server created with the options Node takes only at
 * creation. The one that matters is `connectionsCheckingInterval`: how often Node looks for
 * connections past `headersTimeout` or `requestTimeout`. Its default is 30 s, so a connection
 * that never finished its headers was closed 10–40 s after it opened (measured: 13–37 s), not at
 * the 10 s the service promises. Nest's own adapter makes the server with no options.
 */
export class ExpressAdapterWithServerOptions extends ExpressAdapter {
  constructor(private readonly serverOptions: ServerOptions) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    // What Nest's own initHttpServer does with these is not done here; this app uses none of them.
    if (options.httpsOptions || options.forceCloseConnections || options.return503OnClosing) {
      throw new Error('ExpressAdapterWithServerOptions takes no httpsOptions, forceCloseConnections or return503OnClosing');
    }
    this.setHttpServer(createServer(this.serverOptions, this.getInstance()));
  }
}
