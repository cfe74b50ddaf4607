/**
 * The public listener as a uWS SSLApp (server.tls): the default
 * certificate, one SNI context per `sni` entry, and client certificates
 * requested on every host when a clientCa is set.
 */
import type { AppOptions, HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readSecret } from '../config/secrets.js';
import { tlsFileProblems } from '../config/tls-check.js';
import type { TlsConfig } from '../config/types.js';
import type { UwsModule } from '../platform/uws-loader.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/** uWS options for one certificate; `ca` requests and verifies client certificates. */
function appOptions(entry: { cert: string; key: string; passphrase: string | null }, ca: string | null): AppOptions {
  const o: AppOptions = { cert_file_name: entry.cert, key_file_name: entry.key };
  if (entry.passphrase !== null) o.passphrase = readSecret(entry.passphrase);
  if (ca !== null) o.ca_file_name = ca;
  return o;
}

/**
 * Creates the SSLApp with every certificate (no routes yet: see
 * {@link routeTlsApp}). The files are checked again first (they are read
 * now, maybe long after the config was loaded): uWS only says "App
 * construction failed" for a default certificate it cannot use and silently
 * ignores an SNI one, so a broken file is an Error naming the field instead.
 *
 * uWS limits this works around: whether a client certificate is requested
 * is decided by the default context's CA (ca_file_name), but a presented
 * certificate is verified against the store of the SNI context the client
 * landed on, so every SNI context gets the same CA as the default one; and
 * uWS never fails a handshake for a missing certificate, so `require` is
 * enforced per request by the handler.
 *
 * @throws Error when a file cannot be used.
 */
export function openTlsApp(uws: UwsModule, tls: TlsConfig): TemplatedApp {
  const problems = tlsFileProblems(tls);
  if (problems.length > 0) throw new Error(`cannot start TLS: ${problems.join('; ')}`);
  const ca = clientCa(tls);
  let app: TemplatedApp;
  try {
    app = uws.SSLApp(appOptions(tls, ca));
  } catch (err) {
    throw new Error(`cannot start TLS with ${tls.cert} and ${tls.key}: ${(err as Error).message}`);
  }
  for (const entry of tls.sni) app.addServerName(entry.host, appOptions(entry, ca));
  return app;
}

/**
 * Routes every request of every host of an {@link openTlsApp} app to
 * `handle`, and registers what `more` adds (WebSocket handlers) on each host too.
 */
export function routeTlsApp(app: TemplatedApp, tls: TlsConfig, handle: Handler, more?: (host: TemplatedApp) => void): void {
  app.any('/*', handle);
  more?.(app);
  // why: uWS routes a connection whose SNI matched an added name with that
  // name's own router; a host without routes would reset every request.
  // (This uWS build prints two lines on stdout per domain() call.) domain()
  // switches the app's current router, so the default host is done first.
  for (const entry of tls.sni) {
    const host = app.domain(entry.host);
    host.any('/*', handle);
    more?.(host);
  }
}

/** The CA file handed to uWS: null (no client certificates requested) unless clientAuth is optional or require. */
export function clientCa(tls: TlsConfig): string | null {
  return tls.clientAuth === 'none' ? null : tls.clientCa;
}
