/**
 * Where access log lines go: stdout or a file, written asynchronously in
 * batches of whole lines by pino's destination (sonic-boom), never on the
 * request path.
 */
import { pino } from 'pino';

/**
 * Pipes write at most this much atomically (POSIX PIPE_BUF on Linux). The
 * access log hands over whole lines up to this many characters: a line with
 * multi-byte characters can make a chunk larger in bytes (sonic-boom then
 * writes it alone, still whole).
 */
const PIPE_CHUNK = 4096;
/** Files: one write per this much (O_APPEND writes do not interleave). */
const FILE_CHUNK = 64 * 1024;
/** Bytes gathered before a write (below the chunk size): a busy worker writes a few KiB at a time. */
const PIPE_MIN = 3 * 1024;
const FILE_MIN = 32 * 1024;
/** A quiet worker's lines wait at most this long. */
const FLUSH_EVERY_MS = 250;
/** Bytes held while the destination is slower than the traffic; beyond it lines are dropped (and counted). */
const MAX_PENDING = 16 * 1024 * 1024;

type Destination = ReturnType<typeof pino.destination>;

/**
 * An asynchronous line destination (sonic-boom through `pino.destination`):
 * lines gather until a few KiB are pending (or 250 ms pass) and go out in
 * one write, so a busy worker makes one `write(2)` per few KiB of log, not
 * one per request. Why at most 4 KiB per write on stdout: every worker writes to
 * the same stdout, and only writes up to PIPE_BUF are atomic on a pipe, so
 * a larger one could interleave with another worker's inside a line
 * (sonic-boom fills each write with whole lines up to `maxWrite`). A
 * destination that cannot keep up holds up to 16 MiB, then drops lines and
 * counts them.
 */
export class LineWriter {
  /** Lines dropped because the destination was too slow. */
  dropped = 0;
  /** Most characters to pass in one `write` (whole lines; see the class comment). */
  readonly chunkChars: number;
  private readonly dest: Destination;
  private closing: Promise<void> | null = null;

  /**
   * @param file a path to append to (created, with its directory, when missing), or null for stdout.
   */
  constructor(file: string | null) {
    this.chunkChars = file === null ? PIPE_CHUNK : FILE_CHUNK;
    this.dest = pino.destination({
      dest: file ?? 1, sync: false, append: true, mkdir: true,
      // why: one write(2) per request-sized line costs more than building the
      // line; gathering a few KiB per write (and at most 250 ms) keeps the
      // syscalls per request near 0.1.
      maxWrite: file === null ? PIPE_CHUNK : FILE_CHUNK, minLength: file === null ? PIPE_MIN : FILE_MIN,
      periodicFlush: FLUSH_EVERY_MS, maxLength: MAX_PENDING,
    });
    this.dest.on('drop', () => { this.dropped++; });
    // A failed write (a closed stdout, a full disk) loses those lines, never the worker.
    this.dest.on('error', ignoreWriteError);
  }

  /** Queues whole lines (each with its newline, at most {@link chunkChars} in all); nothing once closing. */
  write(line: string): void {
    if (this.closing === null) this.dest.write(line);
  }

  /**
   * Writes out everything queued, then closes a file (stdout stays open).
   * The worker awaits it before it exits, so no line is lost.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.dest.once('close', () => resolve());
      this.dest.once('error', () => resolve());
      this.dest.end();
    });
    return this.closing;
  }
}

function ignoreWriteError(): void {}
