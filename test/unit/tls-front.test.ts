// The TLS front's routing decisions: by ALPN, and for clients without ALPN by their first bytes.
import { describe, expect, it } from 'vitest';
import { classifyFirstBytes, routeByAlpn } from '../../appliance/server/tls-front.js';

/** A STUN Allocate request header (type 0x0003, length, magic cookie, transaction ID). */
function stun(type = 0x0003, length = 8): Buffer {
  const b = Buffer.alloc(20 + length);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(0x2112a442, 4);
  return b;
}

describe('routeByAlpn', () => {
  it('sends stun.turn to TURN, http/1.1 to HTTP, no ALPN to sniffing, anything else nowhere', () => {
    expect(routeByAlpn('stun.turn')).toBe('turn');
    expect(routeByAlpn('http/1.1')).toBe('http');
    expect(routeByAlpn(false)).toBe('sniff');
    expect(routeByAlpn(null)).toBe('sniff');
    expect(routeByAlpn('h2')).toBe('drop');
  });
});

describe('classifyFirstBytes', () => {
  it('recognises HTTP methods', () => {
    for (const m of ['GET / HTTP/1.1\r\n', 'POST /api/meetings HTTP/1.1\r\n', 'HEAD / HTTP/1.1\r\n', 'OPTIONS * HTTP/1.1\r\n']) {
      expect(classifyFirstBytes(Buffer.from(m))).toBe('http');
    }
  });

  it('recognises a STUN message by its magic cookie', () => {
    expect(classifyFirstBytes(stun())).toBe('stun');
    expect(classifyFirstBytes(stun(0x0001, 0))).toBe('stun');
  });

  it('waits for more bytes while either is still possible', () => {
    expect(classifyFirstBytes(Buffer.alloc(0))).toBe('more');
    expect(classifyFirstBytes(Buffer.from('GE'))).toBe('more');
    expect(classifyFirstBytes(Buffer.from('OPTIONS'))).toBe('more');
    expect(classifyFirstBytes(stun().subarray(0, 5))).toBe('more');
  });

  it('calls everything else garbage', () => {
    expect(classifyFirstBytes(Buffer.from('get / HTTP/1.1'))).toBe('garbage');
    expect(classifyFirstBytes(Buffer.from('GETX'))).toBe('garbage');
    expect(classifyFirstBytes(Buffer.from('SSH-2.0-OpenSSH'))).toBe('garbage');
    expect(classifyFirstBytes(Buffer.from([0xff, 0x00, 0x01]))).toBe('garbage');
    const noCookie = stun();
    noCookie.writeUInt32BE(0xdeadbeef, 4);
    expect(classifyFirstBytes(noCookie)).toBe('garbage');
    // TURN ChannelData (first bits 01) never opens a connection.
    expect(classifyFirstBytes(Buffer.from([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]))).toBe('garbage');
    const oddLength = stun(0x0003, 8);
    oddLength.writeUInt16BE(7, 2);
    expect(classifyFirstBytes(oddLength)).toBe('garbage');
  });
});
