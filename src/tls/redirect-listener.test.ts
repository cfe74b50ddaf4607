import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiTarget, redirectHost } from './redirect-listener.js';

test('redirectHost: host names, IPv4 and bracketed IPv6, lower-cased, port dropped', () => {
  const ok: Array<[string, string]> = [
    ['example.com', 'example.com'], ['Example.COM:8080', 'example.com'], ['localhost', 'localhost'], ['a-b.c_d.example', 'a-b.c_d.example'],
    ['example.com.', 'example.com'], ['example.com:', 'example.com'], ['10.1.2.3:80', '10.1.2.3'], ['[::1]', '[::1]'], ['[2001:DB8::1]:8443', '[2001:db8::1]'],
  ];
  for (const [input, host] of ok) assert.equal(redirectHost(input), host, input);
});

test('redirectHost: anything that could point the redirect elsewhere, or is not a host, is refused', () => {
  const bad = [
    '', ' ', 'evil.example/x', 'evil.example/', 'user@good.example', 'good.example@evil.example', 'a\\b', 'good.example:80/x',
    'good.example:x', 'good.example:123456', 'good.example:80:90', '[::1', '[::1]x', '[::1]:x', '[not-ipv6]',
    'a..b', '-a.example', 'a-.example', 'ex%41mple.com', 'exa mple.com', 'a\tb', 'é.example', '?.example', '#frag', 'a.'.repeat(140),
  ];
  for (const input of bad) assert.equal(redirectHost(input), null, JSON.stringify(input));
});

test('asciiTarget: printable ASCII (percent-escapes included) as is; the rest percent-encoded as UTF-8', () => {
  assert.equal(asciiTarget('/a/b?x=%20&y=1'), '/a/b?x=%20&y=1');
  assert.equal(asciiTarget('/é x'), '/%C3%A9%20x');
  assert.equal(asciiTarget('/\u0000\u007f'), '/%00%7F');
  assert.equal(asciiTarget('/😀'), '/%F0%9F%98%80');
  assert.equal(asciiTarget('/\ud800'), '/%EF%BF%BD');
});
