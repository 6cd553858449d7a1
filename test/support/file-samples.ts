import { deflateSync } from 'node:zlib';

/**
 * Small, real files of every accepted family, built here byte by byte: what a client uploads.
 * Each is a valid file of its kind (a PNG a viewer opens, a WAV a player plays), not only its
 * magic number.
 */
const u32be = (n: number) => Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const u32le = (n: number) => Buffer.from([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
const u16le = (n: number) => Buffer.from([n & 0xff, (n >>> 8) & 0xff]);

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), typed, u32be(crc32(typed))]);
}

/**
 * A grey PNG, 1×1 unless sized (a larger one is black but its first pixel); `seed` changes that
 * pixel, so each seed is other bytes.
 */
export function png(seed = 0, width = 1, height = 1): Buffer {
  const ihdr = Buffer.concat([u32be(width), u32be(height), Buffer.from([8, 0, 0, 0, 0])]); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then its pixels
  rows[1] = seed & 0xff;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const u16be = (n: number) => Buffer.from([(n >>> 8) & 0xff, n & 0xff]);

/**
 * A JPEG's frame: SOI, a JFIF APP0, EOI (enough for the magic number and structure); sized, a
 * baseline SOF0 header with those dimensions after the APP0 (headers only, no scan).
 */
export function jpeg(size?: { width: number; height: number }): Buffer {
  const app0 = Buffer.concat([Buffer.from('JFIF\0', 'latin1'), Buffer.from([1, 1, 0, 0, 1, 0, 1, 0, 0])]);
  const sof0 = size
    ? Buffer.concat([
        Buffer.from([0xff, 0xc0]),
        u16be(11),
        Buffer.from([8]),
        u16be(size.height),
        u16be(size.width),
        Buffer.from([1, 1, 0x11, 0]),
      ])
    : Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from([0, app0.length + 2]), app0, sof0, Buffer.from([0xff, 0xd9])]);
}

function riff(form: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from('RIFF'), u32le(body.length + 4), Buffer.from(form), body]);
}

/** A WebP with an empty VP8L chunk header (its RIFF structure is what is sniffed). */
export function webp(): Buffer {
  const vp8l = Buffer.from([0x2f, 0, 0, 0, 0]);
  return riff('WEBP', Buffer.concat([Buffer.from('VP8L'), u32le(vp8l.length), vp8l, Buffer.from([0])]));
}

/** `ms` (default 10) of 8 kHz 8-bit mono silence: 8,000 bytes a second. */
export function wav(ms = 10): Buffer {
  const samples = Buffer.alloc(Math.round(ms * 8), 0x80);
  const fmt = Buffer.concat([u16le(1), u16le(1), u32le(8000), u32le(8000), u16le(1), u16le(8)]);
  return riff('WAVE', Buffer.concat([Buffer.from('fmt '), u32le(fmt.length), fmt, Buffer.from('data'), u32le(samples.length), samples]));
}

/** One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, 417 bytes, silent. */
export function mp3(): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return frame;
}

/** An ISO base media file's `ftyp` box with the major brand given, then an empty `mdat`. */
export function isoMedia(brand: string, compatible: string[] = ['isom']): Buffer {
  const ftypBody = Buffer.concat([Buffer.from(brand), u32be(0x200), ...compatible.map((b) => Buffer.from(b))]);
  return Buffer.concat([u32be(8 + ftypBody.length), Buffer.from('ftyp'), ftypBody, u32be(8), Buffer.from('mdat')]);
}

export const mp4 = () => isoMedia('isom', ['isom', 'iso2', 'avc1', 'mp41']);

/** An MP4 whose `moov` holds an `mvhd` saying it lasts `seconds` (timescale 1000), then an empty `mdat`. */
export function mp4Lasting(seconds: number): Buffer {
  const ftypBody = Buffer.concat([Buffer.from('isom'), u32be(0x200), Buffer.from('isomiso2avc1mp41')]);
  const box = (type: string, body: Buffer) => Buffer.concat([u32be(8 + body.length), Buffer.from(type), body]);
  // version 0: flags, creation, modification, timescale, duration, then rate, volume and the rest (zeros).
  const mvhd = box('mvhd', Buffer.concat([u32be(0), u32be(0), u32be(0), u32be(1000), u32be(Math.round(seconds * 1000)), Buffer.alloc(80)]));
  return Buffer.concat([box('ftyp', ftypBody), box('moov', mvhd), u32be(8), Buffer.from('mdat')]);
}

/** A PDF of `pages` pages (default 1) with its cross-reference table. */
export function pdf(pages = 1): Buffer {
  const pageIds = Array.from({ length: pages }, (_, i) => i + 3);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages} >>`,
    ...pageIds.map(() => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>'),
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export const text = (content = 'Hello, files — ünïcödé ✓\n') => Buffer.from(content, 'utf8');
