import { describe, expect, it } from 'vitest';
import { meetingPathFor, parseRoute, signallingUrl } from './routes.js';

describe('parseRoute', () => {
  const id = 'AbCdEfGhIjKlMnOpQrSt_-';
  it('knows the landing and meeting pages', () => {
    expect(parseRoute('/')).toEqual({ page: 'landing' });
    expect(parseRoute(`/r/${id}`)).toEqual({ page: 'meeting', meetingId: id });
    expect(parseRoute(`/r/${id}/`)).toEqual({ page: 'meeting', meetingId: id });
    expect(meetingPathFor(id)).toBe(`/r/${id}`);
  });
  it('rejects malformed meeting IDs and other paths', () => {
    expect(parseRoute('/r/short')).toEqual({ page: 'not-found' });
    expect(parseRoute(`/r/${id}x`)).toEqual({ page: 'not-found' });
    expect(parseRoute(`/r/${id.slice(0, 21)}!`)).toEqual({ page: 'not-found' });
    expect(parseRoute('/admin/x')).toEqual({ page: 'not-found' });
  });

  it('knows the admin panel', () => {
    expect(parseRoute('/admin')).toEqual({ page: 'admin' });
  });
});

describe('signallingUrl', () => {
  it('follows the page: ws on http, wss on https, same host and port', () => {
    expect(signallingUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, '/ws')).toBe('ws://127.0.0.1:8080/ws');
    expect(signallingUrl({ protocol: 'https:', host: 'box.example' }, '/ws')).toBe('wss://box.example/ws');
  });
});
