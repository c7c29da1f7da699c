import { isUtf8 } from 'node:buffer';

/**
 * Lossless text for the bytes of a GitOps file. Valid UTF-8 decodes as usual; every byte that is
 * not part of a valid UTF-8 sequence (a Latin-1 comment, a stray 0xFF) becomes one lone surrogate
 * U+DC80..U+DCFF (Python's "surrogateescape"). The YAML parser treats those like any other
 * character, and `encodeFileText` turns them back into the very same bytes, so a file edited as
 * text comes back byte-identical outside the edited scalars whatever its encoding.
 */
const ESCAPE_BASE = 0xdc00;

export function decodeFileBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  const out: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    const len = sequenceLength(buf, i);
    if (len === 0) {
      out.push(String.fromCharCode(b < 0x80 ? b : ESCAPE_BASE + b));
      i += 1;
    } else {
      out.push(buf.toString('utf8', i, i + len));
      i += len;
    }
  }
  return out.join('');
}

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629: no overlongs, no surrogates), or 0. */
function sequenceLength(buf: Buffer, i: number): number {
  const b = buf[i];
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k] >= lo && buf[i + k] <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const [lo, hi] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const [lo, hi] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function encodeFileText(text: string): Buffer {
  if (!LONE_SURROGATE.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= ESCAPE_BASE + 0x80 && code <= ESCAPE_BASE + 0xff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([code - ESCAPE_BASE]));
      run = '';
    } else if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      throw new Error(`text holds a lone surrogate U+${code.toString(16).toUpperCase()} that stands for no byte`);
    } else run += ch;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Whether `text` holds bytes that were not valid UTF-8 in the file it was decoded from. */
export function hasNonUtf8Bytes(text: string): boolean {
  return /[\uDC80-\uDCFF]/.test(text) && LONE_SURROGATE.test(text);
}
