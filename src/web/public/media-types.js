// The media type a file is uploaded as. The API takes the type the client declares (and checks
// it against the bytes); browsers leave File.type empty for what the system does not register —
// Markdown, CSV and HEIC on many systems — so the file's extension names it then. Pure: no DOM.

/** By extension, lower case: the types the API accepts (src/files/media-types.ts). */
const BY_EXTENSION = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  aif: 'audio/aiff',
  aiff: 'audio/aiff',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  flv: 'video/x-flv',
  webm: 'video/webm',
  wmv: 'video/x-ms-wmv',
  '3gp': 'video/3gpp',
  '3gpp': 'video/3gpp',
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
};

/** What the file picker offers first: the accepted types, and the extensions browsers give no type. */
export const PICKER_ACCEPT = [...new Set(Object.values(BY_EXTENSION)), ...Object.keys(BY_EXTENSION).map((ext) => `.${ext}`)].join(',');

/**
 * The type to declare for a file named `name` that the browser calls `browserType`: the browser's,
 * unless it has none (or only says "some bytes"), then the extension's. Anything else is sent as
 * it is, and the API's 415 says what it is not.
 */
export function declaredType(name, browserType) {
  if (browserType && browserType !== 'application/octet-stream') return browserType;
  const extension = /\.([^./\\]+)$/.exec(name ?? '')?.[1]?.toLowerCase();
  return BY_EXTENSION[extension] ?? (browserType || 'application/octet-stream');
}
