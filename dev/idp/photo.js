// Profile photos for the Graph emulation: a small PNG per user, generated on demand.
//
// Real Graph serves whatever the user uploaded (usually JPEG). Here each user who "has a photo"
// gets a generated head-and-shoulders silhouette on a background colour derived from their object
// id, so that different users are told apart at a glance and the bytes are a real image a
// browser can display. Written by hand with node:zlib, to need no image library.

import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';

/** Width and height of the generated photos, in pixels (Graph's smallest size is 48). */
export const PHOTO_SIZE = 96;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes 8-bit RGB pixels (`width * height * 3` bytes, row by row) as a PNG. */
export function encodePng(width, height, rgb) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  // compression, filter and interlace methods: 0
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y += 1) {
    // Each row starts with its filter type (0, none).
    rgb.copy(rows, y * (1 + width * 3) + 1, y * width * 3, (y + 1) * width * 3);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The photo of the user with object id `seed`: a PNG of PHOTO_SIZE × PHOTO_SIZE pixels. */
export function avatarPng(seed, size = PHOTO_SIZE) {
  const hash = crypto.createHash('sha256').update(String(seed)).digest();
  // A muted background colour from the seed, and a light silhouette on it.
  const background = [60 + (hash[0] % 120), 60 + (hash[1] % 120), 60 + (hash[2] % 120)];
  const figure = [235, 235, 240];
  const rgb = Buffer.alloc(size * size * 3);
  const head = { x: size / 2, y: size * 0.4, r: size * 0.19 };
  const body = { x: size / 2, y: size * 1.05, rx: size * 0.36, ry: size * 0.34 };
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const inHead = (x - head.x) ** 2 + (y - head.y) ** 2 <= head.r ** 2;
      const inBody = ((x - body.x) / body.rx) ** 2 + ((y - body.y) / body.ry) ** 2 <= 1;
      const colour = inHead || inBody ? figure : background;
      rgb.set(colour, (y * size + x) * 3);
    }
  }
  return encodePng(size, size, rgb);
}
