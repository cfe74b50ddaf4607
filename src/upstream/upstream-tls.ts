import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { readSecret } from '../config/secrets.js';
import type { UpstreamTlsConfig } from '../config/types.js';

/** What a target's connector needs to speak TLS to it (see preciseConnector). */
export interface TargetTls {
  /** The upstream's context (trust, client certificate, minimum version), shared by its targets. */
  readonly secureContext: SecureContext;
  /**
   * SNI and the name the certificate is verified against; undefined = the
   * target's host, which undici derives (for an IP: no SNI, and the
   * certificate must list that IP).
   */
  readonly servername: string | undefined;
}

/**
 * Builds an upstream's TLS context from its `tls` config: the `ca` bundle
 * (replacing Node's default trust store) or the default store, the client
 * certificate and key (decrypted with `passphrase`), and `minVersion`.
 * Reads the files now; config validation has already checked them, so this
 * only throws when a file changed or vanished since.
 *
 * why: tls.connect() without a `secureContext` builds one from ca/cert/key
 * on every connection (parsing the PEMs each time); one context per upstream
 * is built once and shared by every connection of its targets.
 */
export function createUpstreamSecureContext(config: UpstreamTlsConfig, env: NodeJS.ProcessEnv = process.env): SecureContext {
  return createSecureContext({
    ca: config.ca === null ? undefined : readFileSync(config.ca),
    cert: config.cert === null ? undefined : readFileSync(config.cert),
    key: config.key === null ? undefined : readFileSync(config.key),
    passphrase: config.passphrase === null ? undefined : readSecret(config.passphrase, env),
    minVersion: config.minVersion,
  });
}

/** A target's TLS settings: the upstream's context and its server name (configured, else from the URL). */
export function targetTls(secureContext: SecureContext, config: UpstreamTlsConfig): TargetTls {
  return { secureContext, servername: config.serverName ?? undefined };
}

/**
 * The server name the dispatcher gives undici for every request to a target
 * (a stable, non-empty string, so undici never re-dials because it changed):
 * the configured `serverName`, else the URL's host name (an IP too; the
 * connector decides what is actually sent, see {@link TargetTls.servername}).
 */
export function dispatchServerName(url: string, config: UpstreamTlsConfig | null): string {
  if (config !== null && config.serverName !== null) return config.serverName;
  const host = new URL(url).hostname;
  return host.startsWith('[') ? host.slice(1, -1) : host;
}
