/**
 * The library.proto root and sample Book JSON (canonical proto3 JSON form)
 * shared by the JSON-mapping tests and the micro-benchmark.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { loadProtoRoot } from '../proto-root.js';

/** Path of library.proto inside the include dir. */
export const LIBRARY_PROTO = 'example/library/v1/library.proto';

/**
 * The repository's config/protos folder, found by walking up from this
 * module (works from dist/ and .cache/dist-x/) and then from the cwd.
 */
export function protoIncludeDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'config', 'protos');
    if (existsSync(join(p, LIBRARY_PROTO))) return p;
    if (dirname(dir) === dir) break;
  }
  return join(process.cwd(), 'config', 'protos');
}

/** library.proto loaded with {@link loadProtoRoot}. */
export function loadLibraryRoot(): protobuf.Root {
  return loadProtoRoot([LIBRARY_PROTO], [protoIncludeDir()]);
}

/** A Book of about 200 bytes encoded, in canonical JSON form. */
export function smallBookJson(): Record<string, unknown> {
  return {
    name: 'shelves/fiction/books/dune',
    title: 'Dune',
    authors: [{ displayName: 'Frank Herbert', birthYear: 1920 }],
    genre: 'FICTION',
    isbn: '9780441013593',
    pageViews: '1234567',
    rating: 4.5,
    available: true,
    labels: { lang: 'en', format: 'paperback' },
    hardcoverPages: 412,
    publishTime: '1965-08-01T12:30:00Z',
    readTime: '36000s',
    reprintCount: 7,
    tags: ['science-fiction', 'classic', 'desert'],
    weightKg: 0.3,
    catalogId: '18446744073709551615',
  };
}

/** Every Book field set, in canonical JSON form (for round trips). */
export function fullBookJson(): Record<string, unknown> {
  return {
    name: 'shelves/s1/books/b1',
    title: 'Dune "Messiah" ✓',
    authors: [{ displayName: 'Frank Herbert', birthYear: 1920 }, { displayName: 'Anon' }, { birthYear: -50 }],
    genre: 'SCIENCE',
    isbn: '-9223372036854775808',
    pageViews: '18446744073709551615',
    rating: -1.25e-7,
    available: true,
    coverThumbnail: '+/+/AAECAw==',
    labels: { lang: 'en', 'k"ey': 'v', '': 'empty key' },
    editions: { '1': { displayName: 'first', birthYear: 1965 }, '-2': { displayName: 'odd' }, '0': {} },
    ebookUrl: 'https://example.com/dune.epub',
    publishTime: '1965-08-01T12:30:00.123Z',
    readTime: '-36000.000000500s',
    reprintCount: 0,
    subtitle: '',
    metadata: { a: 1, b: [true, null, 'x', { c: 2.5 }], d: {}, e: [] },
    extra: null,
    tags: ['sf', 'classic', ''],
    weightKg: 0.3,
    shelfPosition: '-42',
    catalogId: '12345678901234567890',
  };
}

/** A Book of about 100 KB encoded (many authors, labels, tags, a 54 KB thumbnail). */
export function largeBookJson(): Record<string, unknown> {
  const book = smallBookJson();
  const authors: unknown[] = [];
  for (let i = 0; i < 600; i++) authors.push({ displayName: `Author number ${i}`, birthYear: 1900 + (i % 120) });
  const labels: Record<string, string> = {};
  for (let i = 0; i < 400; i++) labels[`label-${i}`] = `value-${i}-${'x'.repeat(i % 20)}`;
  const tags: string[] = [];
  for (let i = 0; i < 1500; i++) tags.push(`tag-${i}`);
  const thumb = Buffer.alloc(54_000);
  for (let i = 0; i < thumb.length; i++) thumb[i] = (i * 31) & 0xff;
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) metadata[`k${i}`] = i % 2 === 0 ? i * 1.5 : { nested: [`v${i}`, true, null] };
  return { ...book, authors, labels, tags, coverThumbnail: thumb.toString('base64'), metadata };
}
