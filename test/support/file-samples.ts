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

/** A 1×1 PNG of one grey pixel; `seed` changes the pixel, so each seed is other bytes. */
export function png(seed = 0): Buffer {
  const ihdr = Buffer.concat([u32be(1), u32be(1), Buffer.from([8, 0, 0, 0, 0])]); // 8-bit greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.from([0, seed & 0xff]))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG's frame: SOI, a JFIF APP0, EOI (enough for the magic number and structure). */
export function jpeg(): Buffer {
  const app0 = Buffer.concat([Buffer.from('JFIF\0', 'latin1'), Buffer.from([1, 1, 0, 0, 1, 0, 1, 0, 0])]);
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from([0, app0.length + 2]), app0, Buffer.from([0xff, 0xd9])]);
}

function riff(form: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from('RIFF'), u32le(body.length + 4), Buffer.from(form), body]);
}

/** A WebP with an empty VP8L chunk header (its RIFF structure is what is sniffed). */
export function webp(): Buffer {
  const vp8l = Buffer.from([0x2f, 0, 0, 0, 0]);
  return riff('WEBP', Buffer.concat([Buffer.from('VP8L'), u32le(vp8l.length), vp8l, Buffer.from([0])]));
}

/** 10 ms of 8 kHz 8-bit mono silence. */
export function wav(): Buffer {
  const samples = Buffer.alloc(80, 0x80);
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

/** A one-page PDF with its cross-reference table. */
export function pdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>',
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
