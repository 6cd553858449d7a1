/**
 * What a file weighs in Gemini tokens, by Gemini's published rules, for the emulator (the usage it
 * reports) and for the service (budgets, context sizing, the estimate) alike. Pure functions of
 * bytes: no Nest, no I/O. Sources (read 2026): ai.google.dev/gemini-api/docs/tokens ("Multimodal
 * tokens"), …/docs/media-resolution ("Token counts"), …/docs/document-processing, …/docs/audio,
 * …/docs/video-understanding; summarised in shared/GEMINI.md, "Files, media and what they cost".
 */

/** A file's kind as the files room names it (`files/media-types.ts`, `Modality`): the same five strings. */
export type MediaModality = 'image' | 'document' | 'audio' | 'video' | 'text';

/** Gemini's modality names, as `promptTokensDetails` lists them. */
export type GeminiModality = 'TEXT' | 'IMAGE' | 'AUDIO' | 'VIDEO' | 'DOCUMENT';

/** What a file's headers say about its size in Gemini's terms; null where they do not say (or could not be read). */
export interface MediaFacts {
  width?: number | null;
  height?: number | null;
  /** PDF pages (at least 1 for a PDF). */
  pages?: number | null;
  /** Audio and video duration. */
  seconds?: number | null;
}

export function geminiModalityOf(modality: MediaModality): GeminiModality {
  switch (modality) {
    case 'image':
      return 'IMAGE';
    case 'document':
      return 'DOCUMENT';
    case 'audio':
      return 'AUDIO';
    case 'video':
      return 'VIDEO';
    case 'text':
      return 'TEXT';
  }
}

/**
 * The modality of a media type as Gemini treats it (`image/*`, `audio/*`, `video/*`, `text/*`,
 * `application/pdf`; parameters and case ignored), or null for a type Gemini does not take.
 */
export function mediaModalityOf(mimeType: string): MediaModality | null {
  const essence = mimeType.split(';')[0].trim().toLowerCase();
  if (essence === 'application/pdf') return 'document';
  if (essence === 'application/ogg') return 'audio';
  const top = /^(image|audio|video|text)\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.exec(essence)?.[1];
  if (top === 'image') return essence === 'image/svg+xml' || essence === 'image/gif' ? null : 'image';
  if (top === 'text') return 'text';
  if (top === 'audio' || top === 'video') return top;
  return null;
}

// --- Token rules -------------------------------------------------------------------------

/** Gemini 2.x (and anything not 3.x): an image with both sides ≤ 384 px is one tile of 258 tokens. */
const SMALL_IMAGE_SIDE = 384;
const TILE_SIDE = 768;
const TOKENS_PER_TILE = 258;
/**
 * An image whose size its headers do not give, on 2.x: taken as 3072×3072 (16 tiles, 4,128
 * tokens) — Gemini scales larger images down before tiling, so few real images weigh more.
 */
const UNKNOWN_IMAGE_TILES = 16;
/** Gemini 3.x: `media_resolution` HIGH, the default for images, is 1,120 tokens an image, whatever its size. */
const GEMINI3_IMAGE_TOKENS = 1120;
/** A PDF page: 258 on 2.x; on 3.x MEDIUM, the default for PDFs, 560. */
const PAGE_TOKENS = 258;
const GEMINI3_PAGE_TOKENS = 560;
/** Audio: 32 tokens a second, on every model and at every media resolution. */
const AUDIO_TOKENS_PER_SECOND = 32;
/**
 * Video: 263 tokens a second on 2.x (258 a frame at 1 fps plus 32 of audio… as Google rounds it).
 * No 3.x figure per second was found documented for the default resolution, so 263 stands for
 * 3.x too.
 */
const VIDEO_TOKENS_PER_SECOND = 263;
/**
 * Durations the headers do not give are bounded from the size: audio of at least 8 kbit/s
 * (1,000 bytes a second: below any codec Gemini takes at speech quality) and video of at least
 * 100 kbit/s (12,500 bytes a second). A bound, not an estimate: real files are mostly shorter.
 */
const MIN_AUDIO_BYTES_PER_SECOND = 1000;
const MIN_VIDEO_BYTES_PER_SECOND = 12_500;
/**
 * And a header's duration is believed only as far as the bytes allow: no audio holds more than
 * 192 kHz × 32 bits × 2 channels (1,536,000 bytes a second), no video Gemini takes more than
 * 100 Mbit/s. A file whose header says less is weighed by its size at those rates.
 */
const MAX_AUDIO_BYTES_PER_SECOND = 1_536_000;
const MAX_VIDEO_BYTES_PER_SECOND = 12_500_000;
/** A PDF whose pages could not be counted: one page per KiB, at least one, at most Gemini's 1,000. */
const MIN_PDF_BYTES_PER_PAGE = 1024;
/** Text: the emulator's estimate (four characters a token); a UTF-8 character is at least a byte, so bytes/4 never counts less. */
const TEXT_BYTES_PER_TOKEN = 4;

const GEMINI_3 = /gemini-3/;

/**
 * The prompt tokens one file weighs for `model`, by Gemini's rules at the default media
 * resolution. Unknown facts are assumed the worst reasonable (see the constants above). Text
 * files: `ceil(bytes / 4)`, the emulator's `estimateTokens` on the text, an upper bound of it.
 */
export function mediaTokens(model: string, modality: MediaModality, facts: MediaFacts, bytes: number): number {
  const gemini3 = GEMINI_3.test(model);
  const size = Math.max(0, Number.isFinite(bytes) ? bytes : 0);
  const positive = (value: number | null | undefined): number | null =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
  const safe = (tokens: number) => Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(tokens));
  switch (modality) {
    case 'image': {
      if (gemini3) return GEMINI3_IMAGE_TOKENS;
      const width = positive(facts.width);
      const height = positive(facts.height);
      if (width === null || height === null) return UNKNOWN_IMAGE_TILES * TOKENS_PER_TILE;
      if (width <= SMALL_IMAGE_SIDE && height <= SMALL_IMAGE_SIDE) return TOKENS_PER_TILE;
      return safe(Math.ceil(width / TILE_SIDE) * Math.ceil(height / TILE_SIDE) * TOKENS_PER_TILE);
    }
    case 'document': {
      const pages = positive(facts.pages) ?? Math.min(MAX_PDF_PAGES, Math.max(1, Math.ceil(size / MIN_PDF_BYTES_PER_PAGE)));
      return safe(Math.ceil(pages) * (gemini3 ? GEMINI3_PAGE_TOKENS : PAGE_TOKENS));
    }
    case 'audio': {
      // A header that says less than the bytes can hold is not believed (a hostile file's 0.01 s).
      const seconds = Math.max(positive(facts.seconds) ?? size / MIN_AUDIO_BYTES_PER_SECOND, size / MAX_AUDIO_BYTES_PER_SECOND);
      return safe(seconds * AUDIO_TOKENS_PER_SECOND);
    }
    case 'video': {
      const seconds = Math.max(positive(facts.seconds) ?? size / MIN_VIDEO_BYTES_PER_SECOND, size / MAX_VIDEO_BYTES_PER_SECOND);
      return safe(seconds * VIDEO_TOKENS_PER_SECOND);
    }
    case 'text':
      return safe(size / TEXT_BYTES_PER_TOKEN);
  }
}

// --- Facts from headers ------------------------------------------------------------------

const NO_FACTS = { width: null, height: null, pages: null, seconds: null } as const;
type Facts = Required<MediaFacts>;

/**
 * What the bytes say about their size — image width and height, PDF pages, audio and video
 * seconds — read from their headers only (a PDF's page objects are counted in its text). Never
 * throws: hostile bytes (truncated, lying sizes) give nulls, never an exception.
 */
export function mediaFactsOf(mimeType: string, data: Buffer): Facts {
  try {
    const modality = mediaModalityOf(mimeType);
    switch (modality) {
      case 'image': {
        const size = imageSizeOf(data);
        return { ...NO_FACTS, width: size?.width ?? null, height: size?.height ?? null };
      }
      case 'document':
        return { ...NO_FACTS, pages: pdfPagesOf(data) };
      case 'audio':
      case 'video':
        return { ...NO_FACTS, seconds: durationOf(data) };
      default:
        return { ...NO_FACTS };
    }
  } catch {
    // Every reader bounds its offsets; this is the last guard that a header can't take a turn down.
    return { ...NO_FACTS };
  }
}

const ascii = (b: Buffer, at: number, text: string) =>
  at >= 0 && b.length >= at + text.length && b.toString('latin1', at, at + text.length) === text;
const u16be = (b: Buffer, at: number) => (at + 2 <= b.length ? b.readUInt16BE(at) : null);
const u16le = (b: Buffer, at: number) => (at + 2 <= b.length ? b.readUInt16LE(at) : null);
const u24le = (b: Buffer, at: number) => (at + 3 <= b.length ? b.readUIntLE(at, 3) : null);
const u32be = (b: Buffer, at: number) => (at + 4 <= b.length ? b.readUInt32BE(at) : null);
const u32le = (b: Buffer, at: number) => (at + 4 <= b.length ? b.readUInt32LE(at) : null);
const u64be = (b: Buffer, at: number) => (at + 8 <= b.length ? Number(b.readBigUInt64BE(at)) : null);

type Size = { width: number; height: number } | null;
const sized = (width: number | null, height: number | null): Size => (width && height ? { width, height } : null);

function imageSizeOf(b: Buffer): Size {
  if (ascii(b, 1, 'PNG') && ascii(b, 12, 'IHDR')) return sized(u32be(b, 16), u32be(b, 20));
  if (b[0] === 0xff && b[1] === 0xd8) return jpegSizeOf(b);
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webpSizeOf(b);
  if (ascii(b, 4, 'ftyp')) return heifSizeOf(b);
  return null;
}

/** The first SOFn frame header: markers are walked by their lengths, no pixel data is read. */
function jpegSizeOf(b: Buffer): Size {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return sized(u16be(b, at + 7), u16be(b, at + 5));
    const length = u16be(b, at + 2);
    if (length === null || length < 2) return null;
    at += 2 + length;
  }
  return null;
}

function webpSizeOf(b: Buffer): Size {
  if (ascii(b, 12, 'VP8 ')) {
    // A key frame: start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    const width = u16le(b, 26);
    const height = u16le(b, 28);
    return width === null || height === null ? null : sized(width & 0x3fff, height & 0x3fff);
  }
  if (ascii(b, 12, 'VP8L')) {
    if (b[20] !== 0x2f) return null;
    const bits = u32le(b, 21);
    return bits === null ? null : sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, 'VP8X')) {
    const width = u24le(b, 24);
    const height = u24le(b, 27);
    return width === null || height === null ? null : sized(width + 1, height + 1);
  }
  return null;
}

/** HEIC/HEIF: the largest `ispe` (image spatial extents) property in the head of the file. */
function heifSizeOf(b: Buffer): Size {
  const head = b.subarray(0, Math.min(b.length, 256 * 1024));
  let best: Size = null;
  for (let at = head.indexOf('ispe', 0, 'latin1'); at >= 0; at = head.indexOf('ispe', at + 4, 'latin1')) {
    const found = sized(u32be(head, at + 8), u32be(head, at + 12));
    if (found && (!best || found.width * found.height > best.width * best.height)) best = found;
  }
  return best;
}

/** Gemini's limit on a PDF's pages: no larger count is believed from a header. */
const MAX_PDF_PAGES = 1000;

/**
 * A PDF's pages: its `/Type /Page` objects (not `/Pages`), whitespace and all. A PDF 1.5 file
 * that keeps its page objects in compressed object streams shows none: then the largest `/Count`
 * of its page tree, capped at Gemini's 1,000 pages. At least 1.
 */
function pdfPagesOf(b: Buffer): number | null {
  const text = b.toString('latin1');
  const objects = text.match(/\/Type\s*\/Page(?![A-Za-z0-9#])/g)?.length ?? 0;
  if (objects > 0) return objects;
  let counted = 0;
  for (const [, count] of text.matchAll(/\/Count\s+(\d{1,9})(?!\d)/g)) counted = Math.max(counted, Number(count));
  // Nothing readable (the page tree compressed too): not known — the size bound applies.
  return counted > 0 ? Math.min(MAX_PDF_PAGES, counted) : null;
}

function durationOf(b: Buffer): number | null {
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')) return wavSecondsOf(b);
  if (ascii(b, 4, 'ftyp') || ['moov', 'mdat', 'wide', 'free', 'pnot'].some((atom) => ascii(b, 4, atom))) return isoSecondsOf(b);
  return null;
}

/** WAV: the data chunk's size (bounded by the bytes there are) over the format's byte rate. */
function wavSecondsOf(b: Buffer): number | null {
  let byteRate: number | null = null;
  for (let at = 12; at + 8 <= b.length;) {
    const size = u32le(b, at + 4)!;
    if (ascii(b, at, 'fmt ')) byteRate = u32le(b, at + 16);
    if (ascii(b, at, 'data')) {
      const present = Math.min(size, b.length - (at + 8));
      return byteRate ? present / byteRate : null;
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

/** MP4/MOV/3GPP: `moov`/`mvhd`'s duration over its timescale; boxes are walked by their sizes. */
function isoSecondsOf(b: Buffer): number | null {
  const moov = childBox(b, 0, b.length, 'moov');
  const mvhd = moov && childBox(b, moov.from, moov.to, 'mvhd');
  if (!mvhd) return null;
  const version = b[mvhd.from];
  const [timescale, duration] =
    version === 1 ? [u32be(b, mvhd.from + 20), u64be(b, mvhd.from + 24)] : [u32be(b, mvhd.from + 12), u32be(b, mvhd.from + 16)];
  // All ones: "duration unknown".
  if (!timescale || duration === null || duration === 0xffffffff || (version === 1 && duration >= 2 ** 64 - 1)) return null;
  return duration / timescale;
}

/** The payload range of the first box named `type` between `from` and `to`, or null. */
function childBox(b: Buffer, from: number, to: number, type: string): { from: number; to: number } | null {
  for (let at = from; at + 8 <= to;) {
    let size = u32be(b, at)!;
    let header = 8;
    if (size === 1) {
      const large = u64be(b, at + 8);
      if (large === null) return null;
      size = large;
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header) return null;
    if (ascii(b, at + 4, type)) return { from: at + header, to: Math.min(to, at + size) };
    at += size;
  }
  return null;
}
