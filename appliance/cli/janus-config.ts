// Renders Janus's configuration for the appliance, where systemd runs Janus (ExecStartPre of its unit):
//   node dist/appliance/cli/janus-config.js --data /var/lib/stube --out /run/stube/janus --rtp-ports 20000-20199
// Secrets are created on first run in <data>/secrets/janus.json and kept.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePortRange } from '../config/settings.js';
import { loadOrCreateSecrets, writeJanusConfig } from '../media/janus-config.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      'rtp-ports': { type: 'string', default: '20000-20199' },
      'event-loops': { type: 'string', default: String(availableParallelism()) },
      'ice-ignore': { type: 'string', default: 'vmnet,docker' },
      'ice-enforce': { type: 'string', default: '' },
      'nat-mapping': { type: 'string', default: '' },
    },
    strict: true,
  });
  if (!values.data || !values.out) throw new Error('usage: janus-config --data DIR --out DIR [--rtp-ports MIN-MAX]');
  const out = resolve(values.out);
  const ports = parsePortRange(values['rtp-ports']);
  const secrets = await loadOrCreateSecrets(resolve(values.data));
  await writeJanusConfig({
    ...secrets,
    configDir: out,
    socketPath: join(out, 'api.sock'),
    rtpPortMin: ports.min,
    rtpPortMax: ports.max,
    eventLoops: Number(values['event-loops']),
    debugLevel: 3,
    iceIgnoreList: values['ice-ignore'],
    iceEnforceList: values['ice-enforce'],
    natMapping: values['nat-mapping'],
  });
}

main().catch((err: unknown) => {
  console.error(`janus-config: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
