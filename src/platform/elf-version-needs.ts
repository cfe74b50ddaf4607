/**
 * Minimal reader of the dynamic symbols and their versioning of an ELF64
 * little-endian shared object: section headers, .dynsym, .dynstr, .gnu.version
 * (versym) and .gnu.version_r (verneed/vernaux). Every offset read from the file is bounds
 * checked, so malformed input throws {@link ElfFormatError} instead of crashing.
 */

const SHT_STRTAB = 3;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const SYM_SIZE = 24;
const SHDR_SIZE = 64;
/** vna_flags bit marking a version need as weak (missing version is not fatal). */
export const VER_FLG_WEAK = 0x2;
/** .gnu.version bit marking a symbol version hidden. */
export const VERSYM_HIDDEN = 0x8000;

/** The input is not a well-formed ELF64 little-endian object. */
export class ElfFormatError extends Error {
  constructor(message: string) {
    super(`invalid ELF: ${message}`);
    this.name = 'ElfFormatError';
  }
}

/** One vernaux entry of .gnu.version_r: a version needed from a library. */
export interface VersionNeed {
  /** Library the version is needed from, e.g. `libc.so.6`. */
  readonly file: string;
  /** Version name, e.g. `GLIBC_2.38`. */
  readonly version: string;
  /** vna_flags; bit 0x2 is VER_FLG_WEAK. */
  readonly flags: number;
  readonly weak: boolean;
  /** vna_other: the index .gnu.version entries use to refer to this need. */
  readonly index: number;
  /** File offset of the vernaux entry. */
  readonly offset: number;
}

/** One undefined (imported) symbol of .dynsym with its required version. */
export interface ImportedSymbol {
  readonly symbolIndex: number;
  readonly name: string;
  /** Required version name, or null when unversioned. */
  readonly version: string | null;
  /** Library the version is needed from, or null when unversioned. */
  readonly file: string | null;
  /** .gnu.version index (hidden bit cleared); 0/1 mean unversioned. */
  readonly versionIndex: number;
  /** st_name: offset of the name in .dynstr. */
  readonly nameOffset: number;
  /** File offset of the Elf64_Sym entry. */
  readonly entryOffset: number;
}

/** What {@link inspectGlibcNeeds} finds. */
export interface GlibcNeeds {
  /** ELF e_machine (62 = x86-64, 183 = AArch64). */
  readonly machine: number;
  readonly imports: ImportedSymbol[];
  readonly needs: VersionNeed[];
  /** File offset of .gnu.version, or -1 when absent. */
  readonly versymOffset: number;
}

function check(buf: Buffer, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new ElfFormatError(`${what} (offset ${offset}, ${length} bytes) lies outside the ${buf.length}-byte file`);
  }
}

function u64(buf: Buffer, offset: number, what: string): number {
  const v = buf.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfFormatError(`${what} is too large`);
  return Number(v);
}

interface Section { type: number; addr: number; offset: number; size: number; link: number; info: number; entsize: number }

function readSections(buf: Buffer): Section[] {
  check(buf, 0, 64, 'ELF header');
  if (buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError('missing \\x7fELF magic (not an ELF file)');
  if (buf[4] !== 2) throw new ElfFormatError(`only ELF64 is supported (EI_CLASS=${buf[4]}, 1 means 32-bit)`);
  if (buf[5] !== 1) throw new ElfFormatError(`only little-endian ELF is supported (EI_DATA=${buf[5]})`);
  const shoff = u64(buf, 0x28, 'e_shoff');
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  if (shnum === 0 || shoff === 0) throw new ElfFormatError('no section header table (stripped of section headers?)');
  if (shentsize !== SHDR_SIZE) throw new ElfFormatError(`unexpected e_shentsize ${shentsize}`);
  check(buf, shoff, shnum * SHDR_SIZE, 'section header table');
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    sections.push({
      type: buf.readUInt32LE(o + 4),
      addr: u64(buf, o + 16, 'sh_addr'),
      offset: u64(buf, o + 24, 'sh_offset'),
      size: u64(buf, o + 32, 'sh_size'),
      link: buf.readUInt32LE(o + 40),
      info: buf.readUInt32LE(o + 44),
      entsize: u64(buf, o + 56, 'sh_entsize'),
    });
  }
  return sections;
}

function readString(buf: Buffer, strtab: Section, index: number): string {
  if (index >= strtab.size) throw new ElfFormatError(`string index ${index} outside .dynstr`);
  const start = strtab.offset + index;
  const nul = buf.indexOf(0, start);
  if (nul < 0 || nul >= strtab.offset + strtab.size) throw new ElfFormatError('unterminated string in .dynstr');
  return buf.toString('latin1', start, nul);
}

function readNeeds(buf: Buffer, sec: Section, strtab: Section): VersionNeed[] {
  check(buf, sec.offset, sec.size, '.gnu.version_r');
  const end = sec.offset + sec.size;
  const needs: VersionNeed[] = [];
  let vn = sec.offset;
  // why: counts come from the file (sh_info, vn_cnt) so every loop is bounded even on hostile input.
  for (let i = 0; i < sec.info; i++) {
    if (vn + 16 > end) throw new ElfFormatError('verneed entry outside .gnu.version_r');
    const cnt = buf.readUInt16LE(vn + 2);
    const file = readString(buf, strtab, buf.readUInt32LE(vn + 4));
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let j = 0; j < cnt; j++) {
      if (aux + 16 > end) throw new ElfFormatError('vernaux entry outside .gnu.version_r');
      const flags = buf.readUInt16LE(aux + 4);
      needs.push({
        file,
        version: readString(buf, strtab, buf.readUInt32LE(aux + 8)),
        flags,
        weak: (flags & VER_FLG_WEAK) !== 0,
        index: buf.readUInt16LE(aux + 6),
        offset: aux,
      });
      const next = buf.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  return needs;
}

function dynamicSymbols(buf: Buffer, sections: Section[]): { dynsym: Section; strtab: Section; count: number } {
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) throw new ElfFormatError('no .dynsym section (not a shared object?)');
  if (dynsym.entsize !== SYM_SIZE) throw new ElfFormatError(`unexpected .dynsym entry size ${dynsym.entsize}`);
  check(buf, dynsym.offset, dynsym.size, '.dynsym');
  const strtab = sections[dynsym.link];
  if (!strtab || strtab.type !== SHT_STRTAB) throw new ElfFormatError('.dynsym does not link to a string table');
  check(buf, strtab.offset, strtab.size, '.dynstr');
  return { dynsym, strtab, count: Math.floor(dynsym.size / SYM_SIZE) };
}

/** Where a symbol defined (exported) by the object lies in the file. */
export interface DefinedSymbol {
  /** File offset of the symbol's first byte. */
  readonly fileOffset: number;
  /** st_size: the function's length in bytes. */
  readonly size: number;
}

/**
 * Finds a symbol the object defines in .dynsym (e.g. an exported function)
 * and maps it to its bytes in the file through its section. Null when absent;
 * throws {@link ElfFormatError} on malformed input.
 */
export function findDefinedSymbol(buf: Buffer, name: string): DefinedSymbol | null {
  const sections = readSections(buf);
  const { dynsym, strtab, count } = dynamicSymbols(buf, sections);
  for (let i = 1; i < count; i++) {
    const o = dynsym.offset + i * SYM_SIZE;
    const shndx = buf.readUInt16LE(o + 6);
    // why: SHN_UNDEF (imports) and the reserved indexes (>= 0xff00) have no bytes in a section.
    if (shndx === 0 || shndx >= 0xff00 || readString(buf, strtab, buf.readUInt32LE(o)) !== name) continue;
    const sec = sections[shndx];
    const value = u64(buf, o + 8, 'st_value');
    const size = u64(buf, o + 16, 'st_size');
    if (!sec || value < sec.addr || value + size > sec.addr + sec.size) throw new ElfFormatError(`symbol ${name} lies outside its section`);
    const fileOffset = sec.offset + (value - sec.addr);
    check(buf, fileOffset, size, `symbol ${name}`);
    return { fileOffset, size };
  }
  return null;
}

/**
 * Lists the imported symbols of an ELF64 LE shared object with the version each
 * requires, and all version needs. Throws {@link ElfFormatError} on malformed input.
 */
export function inspectGlibcNeeds(buf: Buffer): GlibcNeeds {
  const sections = readSections(buf);
  const { dynsym, strtab, count } = dynamicSymbols(buf, sections);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  if (versym) check(buf, versym.offset, count * 2, '.gnu.version');
  const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
  const needs = verneed ? readNeeds(buf, verneed, strtab) : [];
  const byIndex = new Map(needs.map((n) => [n.index, n]));
  const imports: ImportedSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const entryOffset = dynsym.offset + i * SYM_SIZE;
    if (buf.readUInt16LE(entryOffset + 6) !== 0) continue; // st_shndx != SHN_UNDEF: defined here
    const nameOffset = buf.readUInt32LE(entryOffset);
    const versionIndex = versym ? buf.readUInt16LE(versym.offset + i * 2) & ~VERSYM_HIDDEN : 1;
    const need = byIndex.get(versionIndex);
    const name = readString(buf, strtab, nameOffset);
    imports.push({
      symbolIndex: i, name, version: need?.version ?? null, file: need?.file ?? null,
      versionIndex, nameOffset, entryOffset,
    });
  }
  return { machine: buf.readUInt16LE(0x12), imports, needs, versymOffset: versym ? versym.offset : -1 };
}
