// The key exchange between browsers, run in Node over an in-memory relay that behaves like the
// service (sender set by the relay, direct or to everyone else). Real WebCrypto (X25519, HKDF, AES-GCM).
import { describe, expect, it } from 'vitest';
import { toBase64Url, randomBytes, toHex } from './bytes.js';
import { KeyExchange, SWITCH_DELAY_MS } from './keyExchange.js';
import type { SenderKey } from './keySchedule.js';
import { deriveSecretKeys } from './secretKeys.js';

interface Node {
  id: string;
  kx: KeyExchange;
  sending: SenderKey | null;
  received: Map<string, SenderKey[]>;
}

function relay() {
  const nodes = new Map<string, Node>();
  const wire: string[] = [];
  async function add(id: string, secret: string): Promise<Node> {
    const keys = await deriveSecretKeys(secret);
    const node: Node = { id, kx: null as unknown as KeyExchange, sending: null, received: new Map() };
    node.kx = await KeyExchange.create(keys, (data, to) => {
      wire.push(data);
      for (const other of nodes.values()) if (other.id !== id && (to === undefined || to === other.id)) other.kx.receive(id, data);
    });
    let latestKey: SenderKey | null = null;
    node.kx.on('sendKey', (k, delayMs) => {
      latestKey = k;
      setTimeout(() => {
        if (latestKey === k) node.sending = k;
      }, delayMs);
    });
    node.kx.on('receiveKey', (from, k) => node.received.set(from, [...(node.received.get(from) ?? []), k]));
    node.kx.on('forget', (from) => node.received.delete(from));
    nodes.set(id, node);
    node.kx.joined(id);
    return node;
  }
  async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      await Promise.all([...nodes.values()].map((n) => n.kx.settled()));
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  function remove(id: string): void {
    nodes.get(id)?.kx.close();
    nodes.delete(id);
    for (const n of nodes.values()) n.kx.left(id);
  }
  return { add, settle, remove, nodes, wire };
}

const latest = (n: Node, from: string) => n.received.get(from)?.at(-1);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('key exchange', () => {
  it('gives everyone with the secret everyone\'s current sending key and the same safety code; rejects another secret', async () => {
    const secret = toBase64Url(randomBytes(16));
    const r = relay();
    const a = await r.add('A', secret);
    await r.settle();
    const b = await r.add('B', secret);
    await r.settle();
    const c = await r.add('C', secret);
    await r.settle();
    const w = await r.add('W', toBase64Url(randomBytes(16)));
    await r.settle();
    await wait(SWITCH_DELAY_MS + 100);

    for (const n of [a, b, c]) {
      for (const m of [a, b, c]) {
        if (m === n) continue;
        expect(latest(n, m.id)?.kid, `${n.id} has ${m.id}'s sending key`).toBe(m.sending?.kid);
        expect(toHex(latest(n, m.id)!.key)).toBe(toHex(m.sending!.key));
      }
      expect(n.kx.rejectedPeers()).toEqual(['W']);
      expect(n.received.has('W')).toBe(false);
    }
    expect(a.kx.safetyCode).toMatch(/\S+( \S+){5}/u);
    expect(b.kx.safetyCode).toBe(a.kx.safetyCode);
    expect(c.kx.safetyCode).toBe(a.kx.safetyCode);
    // The wrong-secret page learned no key and verified nobody.
    expect(w.received.size).toBe(0);
    expect(w.kx.verifiedPeers()).toEqual([]);
    expect(w.kx.rejectedPeers().sort()).toEqual(['A', 'B', 'C']);
    expect(w.kx.safetyCode).not.toBe(a.kx.safetyCode);
  });

  it('ratchets on join (the newcomer never gets an earlier key) and makes new keys on leave', async () => {
    const secret = toBase64Url(randomBytes(16));
    const r = relay();
    const a = await r.add('A', secret);
    const b = await r.add('B', secret);
    await r.settle();
    await wait(SWITCH_DELAY_MS + 100);
    const aBefore = a.sending!;
    const c = await r.add('C', secret);
    await r.settle();
    await wait(SWITCH_DELAY_MS + 100);
    expect(a.sending!.kid).not.toBe(aBefore.kid);
    expect((c.received.get('A') ?? []).some((k) => k.kid === aBefore.kid || toHex(k.key) === toHex(aBefore.key))).toBe(false);
    expect(latest(b, 'A')?.kid).toBe(a.sending!.kid);

    const codeBefore = a.kx.safetyCode;
    const aKid = a.sending!.kid;
    const bKid = b.sending!.kid;
    r.remove('C');
    await r.settle();
    await wait(SWITCH_DELAY_MS + 100);
    expect(a.sending!.kid).not.toBe(aKid);
    expect(b.sending!.kid).not.toBe(bKid);
    expect(latest(b, 'A')?.kid).toBe(a.sending!.kid);
    expect(latest(a, 'B')?.kid).toBe(b.sending!.kid);
    expect(a.kx.safetyCode).not.toBe(codeBefore);
    expect(a.kx.safetyCode).toBe(b.kx.safetyCode);
  });

  it('puts neither the secret nor any key on the wire', async () => {
    const secret = toBase64Url(randomBytes(16));
    const r = relay();
    const a = await r.add('A', secret);
    const b = await r.add('B', secret);
    await r.settle();
    await wait(SWITCH_DELAY_MS + 100);
    const wire = r.wire.map((d) => Buffer.from(d, 'base64url').toString('latin1') + d).join('\n');
    expect(wire).not.toContain(secret);
    for (const k of [a.sending!, b.sending!]) {
      expect(wire).not.toContain(toBase64Url(k.key));
      expect(wire).not.toContain(Buffer.from(k.key).toString('latin1'));
    }
  });
});
