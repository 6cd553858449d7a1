/** A host as a `Host` header or an ALLOWED_HOSTS entry names it: the name, and the port when one is given. */
export interface HostName {
  /** Lower-case; IP addresses in their canonical form (`127.1` is `127.0.0.1`, `[0:0::1]` is `[::1]`). */
  name: string;
  port: number | null;
}

/**
 * `uri-host [":" port]` with the characters a name or an address can have: anything else (a
 * user part before `@`, a path, spaces) is not a host, whatever a URL parser would make of it.
 */
const HOST_SYNTAX = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i;

/** Reads `chat.example.com`, `LOCALHOST:3000`, `[::1]:8080`…; null when it is not a host. */
export function parseHost(value: string): HostName | null {
  const match = HOST_SYNTAX.exec(value);
  if (!match) return null;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && port > 65535) return null;
  try {
    // The WHATWG parser puts names and addresses in the one form browsers send and compare.
    return { name: new URL(`http://${match[1]}`).hostname, port };
  } catch {
    return null;
  }
}

/**
 * Names that only ever mean this machine: a web page cannot make a browser send one of them for
 * its own site (DNS rebinding changes what a name resolves to, not the name the browser sends).
 */
export function isLoopback({ name }: HostName): boolean {
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
