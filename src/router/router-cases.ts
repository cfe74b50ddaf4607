/**
 * The shared table of router test cases: groups of routes, each with requests
 * and the expected outcome. Used by router.test.ts (matching) and
 * explain.test.ts (explain agrees with the router on every case).
 */
import type { RouteConfig, SplitEntry } from '../config/types.js';

/** Optional parts of a test route. */
export interface RouteOptions {
  methods?: string[] | null;
  host?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  upstream?: string;
  split?: SplitEntry[];
  sticky?: string;
  rewrite?: string;
  stripPrefix?: string;
}

/** Builds a normalised RouteConfig as the config loader would. */
export function makeRoute(index: number, name: string, path: string, o: RouteOptions = {}): RouteConfig {
  return {
    name,
    index,
    match: { path, methods: o.methods === undefined ? ['GET'] : o.methods, host: o.host ?? null, headers: o.headers ?? {}, query: o.query ?? {} },
    upstream: o.split === undefined ? (o.upstream ?? 'backend') : null,
    split: o.split ?? null,
    sticky: o.sticky ?? null,
    rewrite: o.rewrite ?? null,
    stripPrefix: o.stripPrefix ?? null,
    preserveHost: false,
    timeout: { connectMs: 5000, headersMs: 30000, requestMs: 60000 },
    rateLimit: [], policies: [], maxBodyBytes: null,
  };
}

type RouteSpec = [name: string, path: string, options?: RouteOptions];

function routes(specs: RouteSpec[]): RouteConfig[] {
  return specs.map(([name, path, o], i) => makeRoute(i, name, path, o));
}

/** One request and what the router must answer. */
export interface RouterCase {
  method: string;
  host: string;
  path: string;
  headers?: Record<string, string>;
  query?: string;
  /** Expected route name; omit when a status is expected. */
  route?: string;
  /** Expected params (in paramNames order) when `route` is set; default []. */
  params?: string[];
  /** 404 (null), 405 (method-not-allowed) or 400 (bad-path). */
  status?: 400 | 404 | 405;
  /** Expected Allow list for 405. */
  allow?: string[];
}

/** Routes plus the cases run against them. */
export interface RouterCaseGroup {
  title: string;
  routes: RouteConfig[];
  cases: RouterCase[];
}

const H = 'gw.test';

/** Every case group. */
export const routerCaseGroups: RouterCaseGroup[] = [
  {
    title: 'hosts: exact, wildcard, any, fallback',
    routes: routes([
      ['api-users', '/users/:id', { host: 'api.example.com' }],
      ['wild-users', '/users/:id', { host: '*.example.com' }],
      ['eu-users', '/users/:id', { host: '*.eu.example.com' }],
      ['any-users', '/users/:id', { host: null }],
      ['any-health', '/health', { host: null }],
      ['api-health-post', '/health', { host: 'api.example.com', methods: ['POST'] }],
      ['v6', '/v6', { host: '[::1]' }],
    ]),
    cases: [
      { method: 'GET', host: 'api.example.com', path: '/users/1', route: 'api-users', params: ['1'] },
      { method: 'GET', host: 'API.Example.COM:8443', path: '/users/1', route: 'api-users', params: ['1'] },
      { method: 'GET', host: 'api.example.com.', path: '/users/1', route: 'api-users', params: ['1'] },
      { method: 'GET', host: 'x.example.com', path: '/users/2', route: 'wild-users', params: ['2'] },
      { method: 'GET', host: 'a.b.example.com', path: '/users/2', route: 'wild-users', params: ['2'] },
      { method: 'GET', host: 'x.eu.example.com', path: '/users/3', route: 'eu-users', params: ['3'] },
      { method: 'GET', host: 'eu.example.com', path: '/users/3', route: 'wild-users', params: ['3'] },
      { method: 'GET', host: 'example.com', path: '/users/4', route: 'any-users', params: ['4'] },
      { method: 'GET', host: 'other.org:80', path: '/users/4', route: 'any-users', params: ['4'] },
      { method: 'GET', host: '', path: '/users/4', route: 'any-users', params: ['4'] },
      { method: 'GET', host: 'api.example.com', path: '/health', route: 'any-health' },
      { method: 'POST', host: 'api.example.com', path: '/health', route: 'api-health-post' },
      { method: 'POST', host: 'x.example.com', path: '/health', status: 405, allow: ['GET', 'HEAD'] },
      { method: 'DELETE', host: 'api.example.com', path: '/health', status: 405, allow: ['GET', 'HEAD', 'POST'] },
      { method: 'POST', host: 'api.example.com', path: '/users/1', status: 405, allow: ['GET', 'HEAD'] },
      { method: 'GET', host: '[::1]:8080', path: '/v6', route: 'v6' },
      { method: 'GET', host: '[::1]:8080', path: '/users/9', route: 'any-users', params: ['9'] },
      { method: 'GET', host: '127.0.0.1:8080', path: '/v6', status: 404 },
      { method: 'GET', host: 'api.example.com', path: '/nothing', status: 404 },
    ],
  },
  {
    title: 'methods, 405 and HEAD',
    routes: routes([
      ['list-users', '/users', { methods: ['GET'] }],
      ['create-user', '/users', { methods: ['POST'] }],
      ['get-user', '/users/:id', { methods: ['GET'] }],
      ['put-user', '/users/:id', { methods: ['PUT'] }],
      ['me-post', '/users/me', { methods: ['POST'] }],
      ['anything', '/any', { methods: null }],
      ['head-only', '/probe', { methods: ['HEAD'] }],
    ]),
    cases: [
      { method: 'GET', host: H, path: '/users', route: 'list-users' },
      { method: 'HEAD', host: H, path: '/users', route: 'list-users' },
      { method: 'POST', host: H, path: '/users', route: 'create-user' },
      { method: 'DELETE', host: H, path: '/users', status: 405, allow: ['GET', 'HEAD', 'POST'] },
      { method: 'OPTIONS', host: H, path: '/users', status: 405, allow: ['GET', 'HEAD', 'POST'] },
      { method: 'HEAD', host: H, path: '/users/5', route: 'get-user', params: ['5'] },
      { method: 'PUT', host: H, path: '/users/5', route: 'put-user', params: ['5'] },
      { method: 'POST', host: H, path: '/users/5', status: 405, allow: ['GET', 'HEAD', 'PUT'] },
      { method: 'POST', host: H, path: '/users/me', route: 'me-post' },
      { method: 'GET', host: H, path: '/users/me', route: 'get-user', params: ['me'] },
      { method: 'DELETE', host: H, path: '/users/me', status: 405, allow: ['GET', 'HEAD', 'POST', 'PUT'] },
      { method: 'PATCH', host: H, path: '/any', route: 'anything' },
      { method: 'BREW', host: H, path: '/any', route: 'anything' },
      { method: 'HEAD', host: H, path: '/probe', route: 'head-only' },
      { method: 'GET', host: H, path: '/probe', status: 405, allow: ['HEAD'] },
      { method: 'GET', host: H, path: '/nope', status: 404 },
    ],
  },
  {
    title: 'params and wildcards',
    routes: routes([
      ['issue', '/orgs/:org/repos/:repo/issues/:n'],
      ['file', '/files/:name'],
      ['static', '/static/*'],
    ]),
    cases: [
      { method: 'GET', host: H, path: '/orgs/acme/repos/web/issues/42', route: 'issue', params: ['acme', 'web', '42'] },
      { method: 'GET', host: H, path: '/orgs/acme/repos/web/issues/42/', status: 404 },
      { method: 'GET', host: H, path: '/orgs//repos/web/issues/1', status: 404 },
      { method: 'GET', host: H, path: '/files/hello%20world.txt', route: 'file', params: ['hello world.txt'] },
      { method: 'GET', host: H, path: '/files/caf%C3%A9', route: 'file', params: ['café'] },
      { method: 'GET', host: H, path: '/files/a%2Fb', route: 'file', params: ['a/b'] },
      { method: 'GET', host: H, path: '/files/plain', route: 'file', params: ['plain'] },
      { method: 'GET', host: H, path: '/files/%zz', status: 400 },
      { method: 'GET', host: H, path: '/files/bad%E0%A4%A', status: 400 },
      { method: 'GET', host: H, path: '/files/', status: 404 },
      { method: 'GET', host: H, path: '/files', status: 404 },
      { method: 'GET', host: H, path: '/static', route: 'static', params: [''] },
      { method: 'GET', host: H, path: '/static/', route: 'static', params: [''] },
      { method: 'GET', host: H, path: '/static/css/app.css', route: 'static', params: ['css/app.css'] },
      { method: 'GET', host: H, path: '/static/a%20b/%zz', route: 'static', params: ['a%20b/%zz'] },
      { method: 'GET', host: H, path: '/staticx', status: 404 },
      { method: 'GET', host: H, path: '*', status: 404 },
    ],
  },
  {
    title: 'precedence: static > param > wildcard, with backtracking',
    routes: routes([
      ['users-wild', '/users/*'],
      ['users-id', '/users/:id'],
      ['users-me', '/users/me'],
      ['a-x-c', '/a/:x/c'],
      ['a-b-y', '/a/b/:y'],
      ['m-static', '/m/static/end'],
      ['m-param', '/m/:p/other'],
      ['root', '/'],
      ['t', '/t'],
      ['t-slash', '/t/'],
      ['user-prefix', '/user'],
    ]),
    cases: [
      { method: 'GET', host: H, path: '/users/me', route: 'users-me' },
      { method: 'GET', host: H, path: '/users/42', route: 'users-id', params: ['42'] },
      { method: 'GET', host: H, path: '/users/42/orders', route: 'users-wild', params: ['42/orders'] },
      { method: 'GET', host: H, path: '/users/me/x', route: 'users-wild', params: ['me/x'] },
      { method: 'GET', host: H, path: '/users/', route: 'users-wild', params: [''] },
      { method: 'GET', host: H, path: '/users', route: 'users-wild', params: [''] },
      { method: 'GET', host: H, path: '/user', route: 'user-prefix' },
      { method: 'GET', host: H, path: '/a/b/c', route: 'a-b-y', params: ['c'] },
      { method: 'GET', host: H, path: '/a/z/c', route: 'a-x-c', params: ['z'] },
      { method: 'GET', host: H, path: '/m/static/end', route: 'm-static' },
      { method: 'GET', host: H, path: '/m/static/other', route: 'm-param', params: ['static'] },
      { method: 'GET', host: H, path: '/', route: 'root' },
      { method: 'GET', host: H, path: '/t', route: 't' },
      { method: 'GET', host: H, path: '/t/', route: 't-slash' },
      { method: 'GET', host: H, path: '/t//', status: 404 },
    ],
  },
  {
    title: 'predicates: headers, query, count, config order, fallback',
    routes: routes([
      ['app-default', '/app'],
      ['mobile', '/app', { headers: { 'x-client': 'mobile' } }],
      ['beta-mobile', '/app', { headers: { 'x-client': 'mobile' }, query: { beta: '1' } }],
      ['desktop', '/app', { headers: { 'x-client': 'desktop' } }],
      ['tie-a', '/tie', { headers: { 'x-a': '1' } }],
      ['tie-b', '/tie', { headers: { 'x-b': '1' } }],
      ['dup-first', '/dup'],
      ['dup-second', '/dup'],
      ['api-wild', '/api/*'],
      ['guarded', '/api/secret', { headers: { 'x-key': 'k1' } }],
      ['only-guarded', '/only', { headers: { 'x-key': 'k1' } }],
      ['search', '/search'],
      ['search-v2', '/search', { query: { v: '2' } }],
    ]),
    cases: [
      { method: 'GET', host: H, path: '/app', route: 'app-default' },
      { method: 'GET', host: H, path: '/app', headers: { 'x-client': 'mobile' }, route: 'mobile' },
      { method: 'GET', host: H, path: '/app', headers: { 'X-Client': 'mobile' }, route: 'mobile' },
      { method: 'GET', host: H, path: '/app', headers: { 'x-client': 'mobile' }, query: 'beta=1', route: 'beta-mobile' },
      { method: 'GET', host: H, path: '/app', headers: { 'x-client': 'desktop' }, query: 'beta=1', route: 'desktop' },
      { method: 'GET', host: H, path: '/app', headers: { 'x-client': 'tv' }, route: 'app-default' },
      { method: 'GET', host: H, path: '/tie', headers: { 'x-a': '1', 'x-b': '1' }, route: 'tie-a' },
      { method: 'GET', host: H, path: '/tie', headers: { 'x-b': '1' }, route: 'tie-b' },
      { method: 'GET', host: H, path: '/tie', status: 404 },
      { method: 'GET', host: H, path: '/dup', route: 'dup-first' },
      { method: 'GET', host: H, path: '/api/secret', headers: { 'x-key': 'k1' }, route: 'guarded' },
      { method: 'GET', host: H, path: '/api/secret', headers: { 'x-key': 'nope' }, route: 'api-wild', params: ['secret'] },
      { method: 'GET', host: H, path: '/only', status: 404 },
      { method: 'POST', host: H, path: '/only', status: 405, allow: ['GET', 'HEAD'] },
      { method: 'GET', host: H, path: '/search', query: 'v=2', route: 'search-v2' },
      { method: 'GET', host: H, path: '/search', query: 'v=2&v=3', route: 'search-v2' },
      { method: 'GET', host: H, path: '/search', query: 'v=3', route: 'search' },
    ],
  },
  {
    title: 'any-host catch-all behind host routes',
    routes: routes([
      ['catch-all', '/*', { methods: null }],
      ['admin', '/admin/:page', { host: 'admin.example.com', methods: ['GET'] }],
    ]),
    cases: [
      { method: 'GET', host: 'admin.example.com', path: '/admin/users', route: 'admin', params: ['users'] },
      { method: 'POST', host: 'admin.example.com', path: '/admin/users', route: 'catch-all', params: ['admin/users'] },
      { method: 'GET', host: 'www.example.com', path: '/', route: 'catch-all', params: [''] },
      { method: 'PUT', host: 'www.example.com', path: '/x/y/z', route: 'catch-all', params: ['x/y/z'] },
    ],
  },
];
