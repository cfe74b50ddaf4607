/**
 * The REST→gRPC terminal: hands the matched request, with its whole body
 * (the ingress buffers it: a JSON body is parsed whole), to the transcoder.
 */
import type { Readable } from 'node:stream';
import type { RequestContext } from '../ingress/request-context.js';
import type { Transcoder } from '../transcode/transcoder.js';
import type { TranscodeSink } from '../transcode/transcode-call.js';
import type { Terminal } from './terminal.js';

/** Transcodes the routes generated from gRPC bindings. */
export class TranscodeTerminal implements Terminal {
  readonly needsWholeBody = true;

  constructor(private readonly transcoder: Transcoder, private readonly sink: TranscodeSink) {}

  start(ctx: RequestContext, body: Buffer | Readable | null): void {
    this.transcoder.start(ctx, ctx.route!, this.sink, body as Buffer | null);
  }
}
