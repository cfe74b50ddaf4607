import { connect } from 'node:net';

/** What the server sent on one raw connection, and whether it closed it. */
export interface RawExchange {
  /** Everything received, latin1. */
  text: string;
  /** The server ended or reset the connection (false: still open at the deadline). */
  closed: boolean;
}

/**
 * Writes each part on one fresh connection (`gapMs` apart) and collects the
 * reply until the server closes or `ms` pass after the last write.
 */
export function rawExchange(port: number, parts: string | string[], ms = 400, gapMs = 30): Promise<RawExchange> {
  const list = typeof parts === 'string' ? [parts] : parts;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const sock = connect(port, '127.0.0.1');
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const writeNext = (i: number): void => {
      if (closed) return;
      sock.write(list[i]);
      timer = i + 1 < list.length ? setTimeout(writeNext, gapMs, i + 1) : setTimeout(finish, ms);
    };
    sock.on('connect', () => writeNext(0));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => { closed = true; finish(); });
    sock.on('error', () => { closed = true; finish(); });
  });
}

/** One parsed HTTP/1.1 response. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated names joined with ', '. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits a byte stream into responses (Content-Length, chunked, or read to
 * the end). Stops at anything that is not a complete response.
 */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const lines = text.slice(at, headEnd).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]);
    if (m === null) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : headers[name] + ', ' + value;
    }
    let bodyStart = headEnd + 4;
    let body: string;
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (bodyStart + n > text.length) break;
      body = text.slice(bodyStart, bodyStart + n);
      at = bodyStart + n;
    } else if (headers['transfer-encoding'] === 'chunked') {
      body = '';
      for (;;) {
        const eol = text.indexOf('\r\n', bodyStart);
        if (eol < 0) return out;
        const size = parseInt(text.slice(bodyStart, eol), 16);
        if (size === 0) { at = eol + 4; break; }
        body += text.slice(eol + 2, eol + 2 + size);
        bodyStart = eol + 2 + size + 2;
      }
    } else {
      body = text.slice(bodyStart);
      at = text.length;
    }
    out.push({ status: Number(m[1]), headers, body });
  }
  return out;
}
