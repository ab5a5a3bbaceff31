// Command-line options shared by janus-config (render only) and janus-run (render, then run Janus).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ICE_IGNORE, JANUS_DEBUG_LEVEL, defaultEventLoops, parsePortRange } from '../config/settings.js';
import { janusConfigFor, loadOrCreateSecrets, type JanusConfigInput } from '../media/janus-config.js';
import { natMappingFromSetup, readSetupConfig } from '../setup/config.js';

/**
 * The public address Janus announces next to its private one (nat_1_1_mapping): the one given
 * (--nat-mapping, or STUBE_NAT_MAPPING through the caller), else the router's public address the setup
 * wizard stored in <data>/setup.json, else none. A damaged setup.json does not keep Janus from starting:
 * without the mapping people outside still reach media through TURN.
 */
export async function natMappingFor(given: string, dataDir: string, warn: (message: string) => void = () => undefined): Promise<string> {
  if (given) return given;
  try {
    return natMappingFromSetup(await readSetupConfig(dataDir)) ?? '';
  } catch (err) {
    warn(`setup.json unreadable, no NAT mapping: ${err instanceof Error ? err.name : 'unknown'}`);
    return '';
  }
}

export async function janusConfigFromArgs(argv: string[], usage: string, env: { STUBE_NAT_MAPPING?: string | undefined } = {}): Promise<JanusConfigInput> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      'rtp-ports': { type: 'string', default: '20000-20199' },
      'event-loops': { type: 'string', default: String(defaultEventLoops()) },
      'ice-ignore': { type: 'string', default: DEFAULT_ICE_IGNORE },
      'ice-enforce': { type: 'string', default: '' },
      'nat-mapping': { type: 'string', default: '' },
    },
    strict: true,
  });
  if (!values.data || !values.out) throw new Error(`usage: ${usage} --data DIR --out DIR [--rtp-ports MIN-MAX]`);
  const out = resolve(values.out);
  const ports = parsePortRange(values['rtp-ports']);
  const secrets = await loadOrCreateSecrets(resolve(values.data));
  const natMapping = await natMappingFor(values['nat-mapping'] || (env.STUBE_NAT_MAPPING ?? ''), resolve(values.data), (m) => console.error(`${usage}: ${m}`));
  return janusConfigFor(secrets, out, {
    rtpPortMin: ports.min,
    rtpPortMax: ports.max,
    eventLoops: Number(values['event-loops']),
    debugLevel: JANUS_DEBUG_LEVEL,
    iceIgnoreList: values['ice-ignore'],
    iceEnforceList: values['ice-enforce'],
    natMapping,
  });
}

export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
