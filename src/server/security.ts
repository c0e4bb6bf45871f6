import { randomBytes, timingSafeEqual } from '../engine/node-crypto.js';
import type { IncomingHttpHeaders } from 'node:http';
import { problem } from './problem.js';

// Secure by default, as Jupyter is: a token on every request, a Host allowlist against DNS rebinding, Origin checked
// on every request that changes state, no CORS. Pure checks over a request's headers.

export const TOKEN_COOKIE = 'flow_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** The Host values a request may carry: the bound address and loopback names, each with the port. */
export function allowedHosts(bind: string, port: number): Set<string> {
  const names = new Set([bind, ...(isLoopback(bind) ? ['127.0.0.1', 'localhost', '[::1]'] : [])]);
  return new Set([...names].map((n) => `${n.includes(':') && !n.startsWith('[') ? `[${n}]` : n}:${port}`.toLowerCase()));
}

export interface Access {
  /** How the request proved it knows the token. */
  by: 'bearer' | 'cookie';
}

/** Throws the problem the request is refused with; otherwise says how it was authorised. */
export function checkRequest(
  req: { method?: string | undefined; headers: IncomingHttpHeaders },
  token: string,
  hosts: ReadonlySet<string>,
): Access {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!hosts.has(host))
    throw problem(403, 'host-not-allowed', 'Host not allowed', `this server answers to ${[...hosts].join(', ')}, not to '${host}'`);
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
  const by = bearer !== undefined && same(bearer, token) ? 'bearer' : cookie !== undefined && same(cookie, token) ? 'cookie' : undefined;
  if (!by)
    throw problem(
      401,
      'unauthorized',
      'Token required',
      'every request needs the token flow serve printed',
      'send it as `Authorization: Bearer TOKEN`, or open the URL it printed once (?token=…) to get its cookie',
    );
  const changes = req.method !== 'GET' && req.method !== 'HEAD';
  if (changes) {
    const origin = req.headers.origin;
    // A browser sends Origin on every cross-site request; a cookie alone must never be enough to change state.
    if (origin !== undefined ? !hosts.has(originHost(origin)) : by === 'cookie')
      throw problem(
        403,
        'origin-not-allowed',
        'Origin not allowed',
        `a request that changes state must come from this server's own pages, not from '${origin ?? 'nowhere'}'`,
      );
  }
  return { by };
}

function originHost(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' ? url.host.toLowerCase() : '';
  } catch {
    return '';
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function same(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
