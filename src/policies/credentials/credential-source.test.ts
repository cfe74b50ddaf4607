import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import { DUPLICATE, findCredential, hideCredential, parseSource, type CredentialSource } from './credential-source.js';

function context(headers: Array<[string, string]>, query = ''): RequestContext {
  const ctx = new RequestContext(null as never);
  for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
  ctx.query = query;
  return ctx;
}

function sources(...specs: string[]): CredentialSource[] {
  return specs.map((s) => { const p = parseSource(s); if (typeof p === 'string') throw new Error(p); return p; });
}

test('parseSource accepts header, query and cookie specs and names what is wrong', () => {
  assert.deepEqual(parseSource('header:Authorization:Bearer'), { kind: 0, name: 'authorization', scheme: 'bearer', label: 'header:Authorization:Bearer' });
  assert.equal((parseSource('query:access_token') as CredentialSource).name, 'access_token');
  assert.match(parseSource('body:token') as string, /unknown source "body"/);
  assert.match(parseSource('header:') as string, /expected header:NAME/);
  assert.match(parseSource('header:x y') as string, /not a valid header name/);
  assert.match(parseSource('query:a:b') as string, /expected query:NAME/);
});

test('findCredential: bearer scheme, query and cookie; a different scheme is not a credential', () => {
  const from = sources('header:authorization:Bearer', 'query:access_token', 'cookie:session');
  assert.deepEqual(findCredential(context([['authorization', 'bearer  abc ']]), from), { value: 'abc', source: from[0] });
  assert.equal(findCredential(context([['authorization', 'Basic dXNlcjpwYXNz']]), from), null);
  assert.equal(findCredential(context([['authorization', 'Bearer']]), from), null);
  assert.equal(findCredential(context([['authorization', 'Bearerabc']]), from), null);
  assert.deepEqual(findCredential(context([], 'a=1&access_token=q%2B1'), from), { value: 'q+1', source: from[1] });
  assert.deepEqual(findCredential(context([['cookie', 'a=1; session="s1"; b=2']]), from), { value: 's1', source: from[2] });
  assert.equal(findCredential(context([['accept', '*/*']]), from), null);
});

test('findCredential refuses two credentials of one kind', () => {
  const from = sources('header:authorization:Bearer', 'query:access_token');
  assert.equal(findCredential(context([['authorization', 'Bearer a'], ['authorization', 'Bearer a']]), from), DUPLICATE);
  assert.equal(findCredential(context([['authorization', 'Bearer a, Bearer b']]), from), DUPLICATE);
  assert.equal(findCredential(context([['authorization', 'Bearer a']], 'access_token=b'), from), DUPLICATE);
  assert.equal(findCredential(context([], 'access_token=a&access_token=a'), from), DUPLICATE);
  // The same token twice in two places is one credential.
  assert.deepEqual(findCredential(context([['authorization', 'Bearer a']], 'access_token=a'), from), { value: 'a', source: from[0] });
  assert.equal(findCredential(context([['cookie', 'k=1'], ['cookie', 'k=2']]), sources('cookie:k')), DUPLICATE);
});

test('hideCredential removes only the credential', () => {
  const [h, q, c] = sources('header:x-api-key', 'query:apikey', 'cookie:session');
  const ctx = context([['x-api-key', 'k'], ['cookie', 'a=1; session=s; b=2'], ['cookie', 'session=s']], 'x=1&apikey=k&y=%20');
  hideCredential(ctx, h); hideCredential(ctx, q); hideCredential(ctx, c);
  assert.deepEqual(ctx.headerNames, ['cookie']);
  assert.deepEqual(ctx.headerValues, ['a=1; b=2']);
  assert.equal(ctx.query, 'x=1&y=%20');
  assert.equal(ctx.queryParam('apikey'), undefined);
});
