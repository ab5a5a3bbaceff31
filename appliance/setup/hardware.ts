// Hardware check: what the box has (systeminformation reads it), and a plain verdict per item
// (green/amber/red with a reason code the UI translates). assessHardware is pure, for unit tests.
import si from 'systeminformation';

export interface HardwareReport {
  cpu: { cores: number; model: string; aes: boolean };
  memoryMiB: number;
  disks: { sizeGiB: number; kind: 'ssd' | 'hdd' | 'unknown' }[];
  /** Free space on the data partition. */
  dataFreeGiB: number | null;
  nics: { name: string; speedMbps: number | null; up: boolean }[];
  temperatureC: number | null;
}

export type Level = 'green' | 'amber' | 'red';
export interface Finding {
  item: 'cpu' | 'aes' | 'memory' | 'disk' | 'network' | 'temperature';
  level: Level;
  /** i18n key under `hw.`, with values to fill in. */
  reason: string;
  values: Record<string, string | number>;
}

export async function readHardware(dataDir: string): Promise<HardwareReport> {
  const [cpu, flags, mem, disks, fs, nics, temp] = await Promise.all([
    si.cpu(),
    si.cpuFlags(),
    si.mem(),
    si.diskLayout(),
    si.fsSize(),
    si.networkInterfaces(),
    si.cpuTemperature(),
  ]);
  // The mount holding the data folder is the longest mount point that prefixes it.
  const dataFs = fs.filter((f) => dataDir === f.mount || dataDir.startsWith(f.mount.endsWith('/') ? f.mount : f.mount + '/')).sort((a, b) => b.mount.length - a.mount.length)[0];
  const list = Array.isArray(nics) ? nics : [nics];
  return {
    cpu: { cores: cpu.cores, model: `${cpu.manufacturer} ${cpu.brand}`.trim(), aes: /\baes\b/.test(flags) },
    memoryMiB: Math.round(mem.total / 2 ** 20),
    disks: disks.map((d) => ({
      sizeGiB: Math.round(d.size / 2 ** 30),
      kind: d.type === 'SSD' || d.type === 'NVMe' ? 'ssd' : d.type === 'HD' ? 'hdd' : 'unknown',
    })),
    dataFreeGiB: dataFs ? Math.round((dataFs.available / 2 ** 30) * 10) / 10 : null,
    nics: list.filter((n) => !n.internal && !n.virtual).map((n) => ({ name: n.iface, speedMbps: n.speed ?? null, up: n.operstate === 'up' })),
    temperatureC: typeof temp.main === 'number' && temp.main > 0 ? temp.main : null,
  };
}

export function assessHardware(r: HardwareReport): Finding[] {
  const out: Finding[] = [];
  const cores = r.cpu.cores;
  out.push({ item: 'cpu', level: cores >= 4 ? 'green' : cores >= 2 ? 'amber' : 'red', reason: cores >= 4 ? 'cpuOk' : 'cpuFew', values: { cores, model: r.cpu.model } });
  out.push({ item: 'aes', level: r.cpu.aes ? 'green' : 'amber', reason: r.cpu.aes ? 'aesOk' : 'aesMissing', values: {} });
  const gib = Math.round((r.memoryMiB / 1024) * 10) / 10;
  out.push({ item: 'memory', level: r.memoryMiB >= 3800 ? 'green' : r.memoryMiB >= 1900 ? 'amber' : 'red', reason: r.memoryMiB >= 3800 ? 'memOk' : 'memLow', values: { gib } });
  const free = r.dataFreeGiB;
  const hdd = r.disks.some((d) => d.kind === 'hdd');
  if (free === null) out.push({ item: 'disk', level: 'amber', reason: 'diskUnknown', values: {} });
  else out.push({ item: 'disk', level: free < 1 ? 'red' : free < 4 || hdd ? 'amber' : 'green', reason: free < 4 ? 'diskLow' : hdd ? 'diskHdd' : 'diskOk', values: { free } });
  const up = r.nics.filter((n) => n.up);
  const best = Math.max(0, ...up.map((n) => n.speedMbps ?? 0));
  if (up.length === 0) out.push({ item: 'network', level: 'red', reason: 'netDown', values: {} });
  else if (best === 0) out.push({ item: 'network', level: 'green', reason: 'netUp', values: {} });
  else out.push({ item: 'network', level: best >= 1000 ? 'green' : best >= 100 ? 'amber' : 'red', reason: best >= 1000 ? 'netOk' : 'netSlow', values: { mbps: best } });
  const t = r.temperatureC;
  if (t !== null) out.push({ item: 'temperature', level: t >= 90 ? 'red' : t >= 80 ? 'amber' : 'green', reason: t >= 80 ? 'tempHigh' : 'tempOk', values: { c: Math.round(t) } });
  return out;
}

export function overall(findings: Finding[]): Level {
  if (findings.some((f) => f.level === 'red')) return 'red';
  return findings.some((f) => f.level === 'amber') ? 'amber' : 'green';
}
