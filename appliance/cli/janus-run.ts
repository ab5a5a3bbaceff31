// Janus in the appliance: the ExecStart of its systemd unit. Renders the configuration, runs Janus in
// the foreground and passes its output through the address filter to the journal. When Janus exits we
// exit with its status and systemd restarts the unit.
//   node dist/appliance/cli/janus-run.js --data /var/lib/stube --out /run/stube/janus --rtp-ports 20000-20199
import { createLogger } from '../log.js';
import { JanusProcess } from '../media/janus-process.js';
import { janusConfigFromArgs, runCli } from './janus-args.js';

runCli('janus-run', async () => {
  // The public address for Janus: --nat-mapping, STUBE_NAT_MAPPING, or what the setup wizard stored.
  const config = await janusConfigFromArgs(process.argv.slice(2), 'janus-run', { STUBE_NAT_MAPPING: process.env.STUBE_NAT_MAPPING });
  const log = createLogger({ level: 'info', write: (line) => process.stdout.write(line + '\n') });
  const janus = new JanusProcess({ config, wrapper: [], log, restart: false });
  janus.once('exited', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void janus.stop());
  await janus.start(60_000);
});
