// `npm run image`: build the appliance disk image. Thin: arguments in, buildImage() out.
//   npm run image -- [--config image/configs/debian-13-amd64.json] [--out out] [--skip-service-build] [--refresh-packages]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv } from 'zx';
import { ImageError } from './errors.js';
import { buildImage } from './pipeline.js';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const configFile = resolve(String(argv['config'] ?? `${repo}/image/configs/debian-13-amd64.json`));
const started = Date.now();
try {
  const report = await buildImage({
    repo,
    configFile,
    ...(argv['out'] ? { outDir: resolve(String(argv['out'])) } : {}),
    skipServiceBuild: Boolean(argv['skip-service-build']),
    refreshPackages: Boolean(argv['refresh-packages']),
  });
  const o = report.outputs;
  console.log([
    '',
    `${report.reused ? 'Image up to date' : 'Image built'} in ${Math.round((Date.now() - started) / 1000)} s (stages: ${JSON.stringify(report.seconds)})`,
    `  ${o.image}`,
    `  ${o.compressed}`,
    `  ${o.sums}`,
    `  ${o.manifest}`,
    `  ${report.bundle.bundle}`,
    'Try it: npm run vm    Flash it: see docs/operations.md',
  ].join('\n'));
} catch (error) {
  if (error instanceof ImageError) {
    console.error(`\nnpm run image: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
