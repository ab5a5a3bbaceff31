// `npm run bench`: the meeting figures (always) and the image figures (with --image, which builds and
// boots an image: tens of minutes). Prints a table naming the machine; writes the same to out/bench.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchE2ee } from './e2ee.js';
import { benchMeeting, median } from './meeting.js';
import { benchTurn } from './turn.js';

const ROOT = join(import.meta.dirname, '..');

function machine(): string {
  const cpu = cpus();
  const os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown OS';
  const janus = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'janus'], { encoding: 'utf8' }).trim();
  const chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
  return `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os}, Node ${process.version}, Janus ${janus}, ${chromium}; load average at start ${loadavg()[0]?.toFixed(1)}`;
}

const joins = Number(process.env.STUBE_BENCH_JOINS ?? 10);
console.log('building the service and the client…');
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
const where = machine();
const m = await benchMeeting(joins);
const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
const rows: [string, string][] = [
  [`join → first remote video frame, loopback, median of ${m.joinToFirstFrameMs.length}`, `${median(m.joinToFirstFrameMs).toFixed(0)} ms (all: ${fmt(m.joinToFirstFrameMs)})`],
  ['service RSS with 4 participants (node dist/appliance/main.js)', `${m.serviceRssMiB.toFixed(1)} MiB`],
  ['Janus RSS with 4 participants', `${m.janusRssMiB.toFixed(1)} MiB`],
  ['client JavaScript for a meeting page, gzip -9', `${m.clientJsGzipKiB.toFixed(1)} KiB`],
  ['all files of a meeting page (HTML, JS, CSS), gzip -9', `${m.clientAllGzipKiB.toFixed(1)} KiB`],
];
// TURN: the paths a participant can end on, and what relaying over TLS costs (STUBE_BENCH_TURN=0 skips).
if (process.env.STUBE_BENCH_TURN !== '0') {
  const t = await benchTurn(Number(process.env.STUBE_BENCH_TURN_RUNS ?? 5));
  for (const [p, xs] of Object.entries(t.firstFrameMs)) {
    rows.push([`join → first remote video frame over ${p} (hostile-network namespaces), median of ${xs.length}`, `${median(xs).toFixed(0)} ms (all: ${fmt(xs)})`]);
  }
  rows.push(['service + coturn CPU, 2 participants direct', `${t.cpuDirectPct.toFixed(1)} % of a core`]);
  rows.push(['service + coturn CPU, 2 participants over TURN/TLS (443 front)', `${t.cpuTurnTlsPct.toFixed(1)} % of a core`]);
  rows.push(['extra CPU per participant relayed over TURN/TLS', `${t.extraCpuPerTlsParticipantPct.toFixed(1)} % of a core`]);
  rows.push(['load average (1 min) during the TURN figures', Object.entries(t.load).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')]);
}
const e = await benchE2ee();
for (const c of e.crypto) {
  rows.push([`SFrame in the worker, ${c.browser}, ${c.frameBytes / 1000} kB frame (720p ${c.frameBytes > 20_000 ? 'keyframe' : 'delta frame'}), per frame`, `encrypt ${c.encryptMs.toFixed(3)} ms, decrypt ${c.decryptMs.toFixed(3)} ms`]);
}
for (const m of e.meeting) {
  rows.push([`encrypted meeting of 4 (3 Chromium + 1 Firefox, one machine): ${m.name} sends / decodes`, `${m.sentTop} / ${m.received}`]);
}
const table = [`Machine: ${where}`, '', '| figure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
console.log(`\n${table}\n`);
mkdirSync(join(ROOT, 'out'), { recursive: true });
writeFileSync(join(ROOT, 'out', 'bench.md'), table + '\n');
if (process.argv.includes('--image')) {
  execFileSync('npx', ['tsx', join(ROOT, 'bench/image.ts')], { cwd: ROOT, stdio: 'inherit' });
}
