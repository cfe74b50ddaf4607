import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  compareGlibcVersions, ElfFormatError, GlibcCompatError, inspectGlibcNeeds, parseGlibcVersion,
  patchForOldGlibc, verifyPatched,
} from './elf-glibc-compat.js';

const pkgDir = dirname(createRequire(import.meta.url).resolve('uWebSockets.js'));
const X64 = readFileSync(join(pkgDir, 'uws_linux_x64_115.node'));
const C23 = ['__isoc23_sscanf', '__isoc23_strtol', '__isoc23_strtoul'];

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

test('parseGlibcVersion and compareGlibcVersions order glibc versions numerically', () => {
  assert.deepEqual(parseGlibcVersion('GLIBC_2.38'), [2, 38]);
  assert.deepEqual(parseGlibcVersion('GLIBC_2.2.5'), [2, 2, 5]);
  assert.deepEqual(parseGlibcVersion('2.36'), [2, 36]);
  assert.equal(parseGlibcVersion('GLIBC_PRIVATE'), null);
  assert.equal(parseGlibcVersion('GLIBCXX_3.4'), null);
  assert.ok(compareGlibcVersions([2, 38], [2, 36]) > 0);
  assert.ok(compareGlibcVersions([2, 2, 5], [2, 10]) < 0);
  assert.equal(compareGlibcVersions([2, 17], [2, 17, 0]), 0);
});

test('inspect finds exactly the three C23 imports at GLIBC_2.38 in the official x64 binary', () => {
  const info = inspectGlibcNeeds(X64);
  assert.equal(info.machine, 62);
  const at238 = info.imports.filter((s) => s.version === 'GLIBC_2.38');
  assert.deepEqual(at238.map((s) => s.name).sort(), C23);
  assert.ok(at238.every((s) => s.file === 'libc.so.6'));
  const need = info.needs.find((n) => n.version === 'GLIBC_2.38');
  assert.equal(need?.file, 'libc.so.6');
  assert.equal(need?.weak, false);
  assert.ok(info.needs.some((n) => n.file === 'libc.so.6' && n.version === 'GLIBC_2.2.5'));
  assert.ok(info.imports.length > 100);
});

test('patch redirects the C23 imports to the plain functions and weakens GLIBC_2.38', () => {
  const before = sha(X64);
  const result = patchForOldGlibc(X64);
  assert.equal(sha(X64), before, 'input must not be mutated');
  assert.notEqual(result.buffer, X64);
  assert.equal(result.changed, true);
  assert.deepEqual(result.redirected.map((r) => r.to).sort(), ['sscanf', 'strtol', 'strtoul']);
  assert.deepEqual(result.weakened, ['libc.so.6:GLIBC_2.38']);
  let diff = 0;
  for (let i = 0; i < X64.length; i++) if (X64[i] !== result.buffer[i]) diff++;
  assert.equal(result.buffer.length, X64.length);
  assert.ok(diff > 0 && diff <= 3 * 4 + 3 * 2 + 1, `only st_name, versym and vna_flags bytes change (changed ${diff})`);

  const after = inspectGlibcNeeds(result.buffer);
  assert.equal(after.imports.filter((s) => s.name.startsWith('__isoc23_')).length, 0);
  for (const name of ['strtol', 'strtoul', 'sscanf']) {
    const redirected = after.imports.filter((s) => s.name === name && s.version === 'GLIBC_2.2.5' && s.file === 'libc.so.6');
    assert.ok(redirected.length >= 1, `${name}@GLIBC_2.2.5 present`);
  }
  const need = after.needs.find((n) => n.version === 'GLIBC_2.38');
  assert.equal(need?.weak, true);
  assert.equal(need?.flags, 2);

  const report = verifyPatched(result.buffer);
  assert.equal(report.maxGlibc, 'GLIBC_2.36');
  assert.equal(report.highestRequired, 'GLIBC_2.36');
  assert.deepEqual(report.weakNeeds, ['libc.so.6:GLIBC_2.38']);
});

test('patch is idempotent and an unpatched binary fails verification', () => {
  const once = patchForOldGlibc(X64).buffer;
  const twice = patchForOldGlibc(once);
  assert.equal(twice.changed, false);
  assert.deepEqual(twice.redirected, []);
  assert.deepEqual(twice.weakened, []);
  assert.ok(twice.buffer.equals(once));
  assert.throws(() => verifyPatched(X64), (err: Error) =>
    err instanceof GlibcCompatError && /__isoc23_strtol@GLIBC_2\.38/.test(err.message) && /non-weak needs/.test(err.message));
});

test('a binary without any GLIBC_2.38 need is left unchanged', () => {
  // Build one: the patched binary with its (unused) GLIBC_2.38 need renamed to a second GLIBC_2.36 need.
  const buf = patchForOldGlibc(X64).buffer;
  const needs = inspectGlibcNeeds(buf).needs;
  const n238 = needs.find((n) => n.version === 'GLIBC_2.38');
  const n236 = needs.find((n) => n.version === 'GLIBC_2.36');
  assert.ok(n238 && n236);
  buf.copy(buf, n238.offset, n236.offset, n236.offset + 4); // vna_hash
  buf.writeUInt16LE(0, n238.offset + 4); // vna_flags: not weak
  buf.copy(buf, n238.offset + 8, n236.offset + 8, n236.offset + 12); // vna_name
  assert.equal(inspectGlibcNeeds(buf).needs.filter((n) => n.version === 'GLIBC_2.38').length, 0);
  const r = patchForOldGlibc(buf);
  assert.equal(r.changed, false);
  assert.ok(r.buffer.equals(buf));
  assert.equal(verifyPatched(buf).weakNeeds.length, 0);
  // And a newer host accepts the already patched binary as is.
  assert.equal(patchForOldGlibc(patchForOldGlibc(X64).buffer, { maxGlibc: '2.38' }).changed, false);
});

test('every official Linux binary (x64 and arm64, all ABIs) patches and verifies', () => {
  const names = readdirSync(pkgDir).filter((n) => /^uws_linux_(x64|arm64)_\d+\.node$/.test(n));
  assert.ok(names.length >= 8);
  for (const name of names) {
    const buf = readFileSync(join(pkgDir, name));
    const r = patchForOldGlibc(buf);
    assert.equal(r.changed, true, name);
    assert.ok(r.redirected.length >= 2, name);
    verifyPatched(r.buffer);
  }
});

test('an import needing a newer glibc than the host and no substitute is named in the error', () => {
  assert.throws(() => patchForOldGlibc(X64, { maxGlibc: 'GLIBC_2.35' }), (err: Error) =>
    err instanceof GlibcCompatError && /arc4random@GLIBC_2\.36/.test(err.message));
  assert.throws(() => patchForOldGlibc(X64, { baseVersion: 'GLIBC_9.9' }), /no libc\.so\.6 GLIBC_9\.9 version need/);
  assert.throws(() => patchForOldGlibc(X64, { maxGlibc: 'latest' }), /not a glibc version/);
});

test('malformed inputs throw ElfFormatError with a clear message', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /ELF header/],
    ['not ELF', Buffer.from('#!/bin/sh\necho this is a shell script, not an ELF file\n'.repeat(4)), /magic/],
    ['truncated', X64.subarray(0, 4096), /section header table .* outside/],
  ];
  const elf32 = Buffer.from(X64.subarray(0, 4096));
  elf32[4] = 1;
  cases.push(['32-bit', elf32, /only ELF64/]);
  const bigEndian = Buffer.from(X64.subarray(0, 4096));
  bigEndian[5] = 2;
  cases.push(['big-endian', bigEndian, /little-endian/]);
  const noShdr = Buffer.from(X64.subarray(0, 4096));
  noShdr.writeUInt16LE(0, 0x3c);
  cases.push(['no section headers', noShdr, /no section header table/]);
  for (const [label, buf, re] of cases) {
    assert.throws(() => inspectGlibcNeeds(buf), (err: Error) => err instanceof ElfFormatError && re.test(err.message), label);
    assert.throws(() => patchForOldGlibc(buf), ElfFormatError, label);
  }
});

test('random corruption of the parsed structures never escapes as anything but a clear error', () => {
  const info = inspectGlibcNeeds(X64);
  const shoff = Number(X64.readBigUInt64LE(0x28));
  const hot = [
    [0, 64],
    [shoff, X64.length - shoff],
    [info.needs[0].offset - 16, 0x180],
    [info.imports[0].entryOffset, 24 * 64],
  ];
  let seed = 0x2545f491;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let rejected = 0;
  for (let i = 0; i < 150; i++) {
    const buf = Buffer.from(X64);
    for (let k = 0; k < 4; k++) {
      const [start, len] = hot[Math.floor(rand() * hot.length)];
      buf[start + Math.floor(rand() * len)] = Math.floor(rand() * 256);
    }
    try {
      patchForOldGlibc(buf);
    } catch (err) {
      assert.ok(err instanceof ElfFormatError || err instanceof GlibcCompatError, `unexpected ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 0, 'some corruptions must be rejected');
});
