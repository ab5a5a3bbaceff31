// Command-line options shared by janus-config (render only) and janus-run (render, then run Janus).
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultEventLoops, parsePortRange } from '../config/settings.js';
import { loadOrCreateSecrets, type JanusConfigInput } from '../media/janus-config.js';

export async function janusConfigFromArgs(argv: string[], usage: string): Promise<JanusConfigInput> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      'rtp-ports': { type: 'string', default: '20000-20199' },
      'event-loops': { type: 'string', default: String(defaultEventLoops()) },
      'ice-ignore': { type: 'string', default: 'vmnet,docker' },
      'ice-enforce': { type: 'string', default: '' },
      'nat-mapping': { type: 'string', default: '' },
    },
    strict: true,
  });
  if (!values.data || !values.out) throw new Error(`usage: ${usage} --data DIR --out DIR [--rtp-ports MIN-MAX]`);
  const out = resolve(values.out);
  const ports = parsePortRange(values['rtp-ports']);
  const secrets = await loadOrCreateSecrets(resolve(values.data));
  return {
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
  };
}

export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
