import { isUtf8 } from 'node:buffer';

/**
 * The media types a file may have, and what its bytes say it is (their magic numbers; text must
 * be valid UTF-8 without NUL). A small table of our own rather than the `file-type` package: the
 * copy in the tree (22.x, pulled in by @nestjs/common) declares Node >= 22 while this service
 * runs on 20, and it does not judge text at all; the formats accepted here are few and their
 * signatures fixed, each covered by media-types.spec.ts.
 */
import type { Modality } from '../core/modality.js';

export type { Modality };

export interface MediaType {
  /** What is stored and served (`mime_type`). */
  mimeType: string;
  modality: Modality;
  /** Other names clients send for it (Gemini's `audio/mp3`, `video/mov`, …). */
  aliases?: string[];
}

const IMAGE = (mimeType: string, aliases?: string[]): MediaType => ({ mimeType, modality: 'image', aliases });
const AUDIO = (mimeType: string, aliases?: string[]): MediaType => ({ mimeType, modality: 'audio', aliases });
const VIDEO = (mimeType: string, aliases?: string[]): MediaType => ({ mimeType, modality: 'video', aliases });
const TEXT = (mimeType: string, aliases?: string[]): MediaType => ({ mimeType, modality: 'text', aliases });

/** Every accepted type. SVG and HTML are not, and never will be: served back, they run script. */
export const MEDIA_TYPES = {
  png: IMAGE('image/png'),
  jpeg: IMAGE('image/jpeg', ['image/jpg', 'image/pjpeg']),
  webp: IMAGE('image/webp'),
  heic: IMAGE('image/heic', ['image/heic-sequence']),
  heif: IMAGE('image/heif', ['image/heif-sequence']),
  pdf: { mimeType: 'application/pdf', modality: 'document' },
  wav: AUDIO('audio/wav', ['audio/x-wav', 'audio/wave', 'audio/vnd.wave']),
  mp3: AUDIO('audio/mpeg', ['audio/mp3', 'audio/mpeg3', 'audio/x-mp3']),
  aiff: AUDIO('audio/aiff', ['audio/x-aiff']),
  aac: AUDIO('audio/aac', ['audio/x-aac', 'audio/aacp']),
  ogg: AUDIO('audio/ogg', ['application/ogg', 'audio/opus']),
  flac: AUDIO('audio/flac', ['audio/x-flac']),
  mp4: VIDEO('video/mp4'),
  mpeg: VIDEO('video/mpeg', ['video/mpg']),
  mov: VIDEO('video/quicktime', ['video/mov']),
  avi: VIDEO('video/x-msvideo', ['video/avi', 'video/msvideo']),
  flv: VIDEO('video/x-flv', ['video/flv']),
  webm: VIDEO('video/webm'),
  wmv: VIDEO('video/x-ms-wmv', ['video/wmv']),
  '3gpp': VIDEO('video/3gpp', ['audio/3gpp']),
  text: TEXT('text/plain'),
  markdown: TEXT('text/markdown', ['text/x-markdown']),
  csv: TEXT('text/csv'),
} as const satisfies Record<string, MediaType>;

export type Format = keyof typeof MEDIA_TYPES;

/** Every media type stored and served, once each (aliases are stored under these). */
export const ACCEPTED_MIME_TYPES: readonly string[] = [...new Set(Object.values(MEDIA_TYPES).map((type: MediaType) => type.mimeType))];

const BY_NAME = new Map<string, Format>(
  (Object.entries(MEDIA_TYPES) as [Format, MediaType][]).flatMap(([format, type]) =>
    [type.mimeType, ...(type.aliases ?? [])].map((name): [string, Format] => [name, format]),
  ),
);

/** The accepted format a `Content-Type` names (parameters and case ignored), or null. */
export function declaredFormat(contentType: string | undefined): Format | null {
  const essence = contentType?.split(';')[0].trim().toLowerCase();
  return (essence && BY_NAME.get(essence)) || null;
}

/** What the bytes are: an accepted format, another type we can name (refused), or nothing known. */
export type Sniffed = { format: Format } | { other: string };

const TEXT_FORMATS: ReadonlySet<Format> = new Set(['text', 'markdown', 'csv']);

/** Formats one set of bytes may honestly be declared as (HEIC is HEIF; any text is any text type). */
function agree(declared: Format, found: Format): boolean {
  if (declared === found) return true;
  const heif = new Set<Format>(['heic', 'heif']);
  if (heif.has(declared) && heif.has(found)) return true;
  return TEXT_FORMATS.has(declared) && TEXT_FORMATS.has(found);
}

/**
 * Whether `bytes` are what `declared` says: null when they agree, otherwise a description of
 * what was found, for the 415 ("image/png declared, application/pdf found").
 */
export function disagreement(declared: Format, bytes: Uint8Array): string | null {
  const sniffed = sniff(bytes);
  if ('format' in sniffed) return agree(declared, sniffed.format) ? null : MEDIA_TYPES[sniffed.format].mimeType;
  return sniffed.other;
}

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((char, i) => bytes[at + i] === char.charCodeAt(0));
const startsWith = (bytes: Uint8Array, signature: number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((byte, i) => bytes[at + i] === byte);

const ASF = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c];
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2']);
/** QuickTime files from before `ftyp`: their first atom. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'pnot']);

/** What the bytes are, from their first bytes (text: from all of them). */
export function sniff(bytes: Uint8Array): Sniffed {
  const found = sniffBinary(bytes);
  if (found) return found;
  return sniffText(bytes);
}

function sniffBinary(bytes: Uint8Array): Sniffed | null {
  const is = (format: Format): Sniffed => ({ format });
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return is('png');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return is('jpeg');
  if (ascii(bytes, 0, 'RIFF')) {
    if (ascii(bytes, 8, 'WEBP')) return is('webp');
    if (ascii(bytes, 8, 'WAVE')) return is('wav');
    if (ascii(bytes, 8, 'AVI ')) return is('avi');
  }
  if (ascii(bytes, 0, 'FORM') && (ascii(bytes, 8, 'AIFF') || ascii(bytes, 8, 'AIFC'))) return is('aiff');
  if (ascii(bytes, 4, 'ftyp')) return isoMedia(String.fromCharCode(...bytes.subarray(8, 12)), bytes);
  if (bytes.length >= 8 && QUICKTIME_ATOMS.has(String.fromCharCode(...bytes.subarray(4, 8)))) return is('mov');
  if (bytes.subarray(0, 1024).some((_, i) => ascii(bytes, i, '%PDF-'))) return is('pdf');
  if (ascii(bytes, 0, 'OggS')) return is('ogg');
  if (ascii(bytes, 0, 'fLaC')) return is('flac');
  if (ascii(bytes, 0, 'FLV') && bytes[3] === 0x01) return is('flv');
  if (startsWith(bytes, ASF)) return is('wmv');
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) {
    const head = String.fromCharCode(...bytes.subarray(0, 64));
    return head.includes('webm') ? is('webm') : { other: 'video/x-matroska' };
  }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0xba]) || startsWith(bytes, [0x00, 0x00, 0x01, 0xb3])) return is('mpeg');
  if (ascii(bytes, 0, 'ID3')) return afterId3(bytes);
  if (ascii(bytes, 0, 'ADIF') || isAdts(bytes, 0)) return is('aac');
  if (isMpegAudioFrame(bytes, 0)) return is('mp3');
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return { other: 'image/gif' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return { other: 'application/zip' };
  return null;
}

/** ISO base media (MP4, QuickTime, 3GPP, HEIF): told apart by the major brand of `ftyp`. */
function isoMedia(brand: string, bytes: Uint8Array): Sniffed {
  if (HEIC_BRANDS.has(brand)) return { format: 'heic' };
  if (HEIF_BRANDS.has(brand)) {
    // An iPhone's HEIC often says mif1 first and lists heic among its compatible brands.
    const compatible = String.fromCharCode(...bytes.subarray(16, Math.min(bytes.length, 64)));
    return { format: [...HEIC_BRANDS].some((heic) => compatible.includes(heic)) ? 'heic' : 'heif' };
  }
  if (brand === 'avif' || brand === 'avis') return { other: 'image/avif' };
  if (brand === 'qt  ') return { format: 'mov' };
  if (brand.startsWith('3g')) return { format: '3gpp' };
  return { format: 'mp4' };
}

/** MP3 (or AAC, or FLAC) behind an ID3v2 tag: judged by what follows the tag. */
function afterId3(bytes: Uint8Array): Sniffed {
  const size =
    bytes.length >= 10 ? ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f) : 0;
  const at = 10 + size + (bytes[5] & 0x10 ? 10 : 0);
  if (ascii(bytes, at, 'fLaC')) return { format: 'flac' };
  if (isAdts(bytes, at)) return { format: 'aac' };
  return { format: 'mp3' };
}

/** An AAC ADTS frame header: 12 sync bits, layer 00. */
function isAdts(bytes: Uint8Array, at: number): boolean {
  return bytes.length >= at + 2 && bytes[at] === 0xff && (bytes[at + 1] & 0xf6) === 0xf0;
}

/** An MPEG audio frame header: 11 sync bits, a version and layer, a bitrate and sample rate that exist. */
function isMpegAudioFrame(bytes: Uint8Array, at: number): boolean {
  if (bytes.length < at + 3 || bytes[at] !== 0xff || (bytes[at + 1] & 0xe0) !== 0xe0) return false;
  const version = (bytes[at + 1] >> 3) & 0x03;
  const layer = (bytes[at + 1] >> 1) & 0x03;
  const bitrate = bytes[at + 2] >> 4;
  const sampleRate = (bytes[at + 2] >> 2) & 0x03;
  return version !== 0x01 && layer !== 0x00 && bitrate !== 0x0f && sampleRate !== 0x03;
}

/** Reads the head of a text; a character cut at its end becomes U+FFFD, which no check below looks for. */
const HEAD = new TextDecoder('utf-8');

/**
 * Text: valid UTF-8 without NUL (checked on the bytes, no string of the whole file is made); an
 * HTML or SVG document is named as such (and refused).
 */
function sniffText(bytes: Uint8Array): Sniffed {
  if (bytes.includes(0)) return { other: 'binary data (a NUL byte)' };
  if (!isUtf8(bytes)) return { other: 'bytes that are neither a known type nor valid UTF-8 text' };
  const head = HEAD.decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<!doctype html|^<html[\s/>]/.test(head)) return { other: 'text/html' };
  if (/^<svg[\s/>]/.test(head) || (head.startsWith('<?xml') && head.includes('<svg'))) return { other: 'image/svg+xml' };
  return { format: 'text' };
}
