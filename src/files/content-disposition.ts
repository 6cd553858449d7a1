/**
 * `Content-Disposition: attachment` with a file's name, safe whatever the name holds (RFC 6266):
 * `filename` is a plain-ASCII fallback in a quoted string (anything else becomes `_`), and
 * `filename*` carries the exact name, UTF-8 and percent-encoded (RFC 8187), when they differ.
 */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const disposition = `attachment; filename="${fallback}"`;
  return fallback === name ? disposition : `${disposition}; filename*=UTF-8''${encodeRfc8187(name)}`;
}

/** Percent-encodes all but RFC 8187's attr-char (encodeURIComponent also leaves ' ( ) * alone). */
function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
