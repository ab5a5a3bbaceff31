// Throughput and latency measured by the browser against the box's own endpoints (the wizard's on the
// LAN, the outside check's from the internet). No third party is contacted.
export interface Measurement {
  latencyMs: number;
  downMbps: number;
  upMbps: number;
}

async function ok(res: Response): Promise<Response> {
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res;
}

export async function measure(base: string, headers: Record<string, string> = {}, downBytes = 8_000_000, upBytes = 4_000_000): Promise<Measurement> {
  const pings: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await ok(await fetch(`${base}/ping`, { headers, cache: 'no-store' }));
    pings.push(performance.now() - t);
  }
  pings.sort((a, b) => a - b);
  let t = performance.now();
  const body = await (await ok(await fetch(`${base}/down?bytes=${downBytes}`, { headers, cache: 'no-store' }))).arrayBuffer();
  const downS = (performance.now() - t) / 1000;
  const payload = new Uint8Array(upBytes);
  crypto.getRandomValues(payload.subarray(0, 65536));
  t = performance.now();
  await ok(await fetch(`${base}/up`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: payload }));
  const upS = (performance.now() - t) / 1000;
  const mbps = (bytes: number, s: number): number => Math.round(((bytes * 8) / s / 1e6) * 10) / 10;
  return { latencyMs: Math.round(pings[2] ?? 0), downMbps: mbps(body.byteLength, downS), upMbps: mbps(upBytes, upS) };
}
