// Renders Janus's configuration without starting Janus (for inspecting an image, or a Janus started by
// other means). The appliance's Janus unit uses janus-run, which renders and then runs Janus.
//   node dist/appliance/cli/janus-config.js --data /var/lib/stube --out /run/stube/janus --rtp-ports 20000-20199
// Secrets are created on first run in <data>/secrets/janus.json and kept.
import { writeJanusConfig } from '../media/janus-config.js';
import { janusConfigFromArgs, runCli } from './janus-args.js';

runCli('janus-config', async () => {
  await writeJanusConfig(await janusConfigFromArgs(process.argv.slice(2), 'janus-config'));
});
