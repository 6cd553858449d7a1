import type { NextFunction, Request, Response } from 'express';
import { HostNotAllowed } from '../common/errors.js';
import { isLoopback, parseHost } from '../common/host-names.js';
import type { HostName } from '../common/host-names.js';
import { toErrorBody } from '../common/http-exception.filter.js';

export interface AllowedHostsOptions {
  /** No ADMIN_API_KEY: anyone who reaches the service may use it, so who reaches it must be checked. */
  openMode: boolean;
  /** ALLOWED_HOSTS: names served besides the loopback ones (without a port: on any port). */
  allowedHosts: HostName[];
  /** Paths served whatever the Host: probes that address the service by its IP, and carry no data. */
  anyHost: string[];
}

/**
 * The defence against DNS rebinding: a web page whose name an attacker rebinds to 127.0.0.1 can
 * send requests here from the laptop's browser, and in open mode read every chat and spend the
 * key — but its requests carry the page's name in `Host`. So a request is served only when its
 * `Host` is a loopback name (`localhost`, `127.x.y.z`, `[::1]`, any port) or one of ALLOWED_HOSTS;
 * any other, or none, is 403 HOST_NOT_ALLOWED before anything else is done (no body read, no
 * route). With keys required and no ALLOWED_HOSTS every Host is served: the keys protect it.
 * Null when nothing is to be checked.
 */
export function allowedHosts({ openMode, allowedHosts, anyHost }: AllowedHostsOptions) {
  if (!openMode && allowedHosts.length === 0) return null;
  const allowed = (host: HostName) =>
    isLoopback(host) || allowedHosts.some(({ name, port }) => name === host.name && (port === null || port === host.port));
  return (request: Request, response: Response, next: NextFunction): void => {
    const header = request.headers.host;
    const host = header === undefined ? null : parseHost(header);
    if ((host && allowed(host)) || anyHost.includes(request.path)) return next();
    const { body } = toErrorBody(new HostNotAllowed(header));
    // Whatever body the request announced is not read: the connection goes with the answer.
    response.setHeader('Connection', 'close');
    response.status(body.statusCode).json(body);
  };
}
