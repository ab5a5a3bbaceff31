// Stage "configure": a copy of the cached root file system becomes the root slot: app bundle in
// /opt/stube, every system file rendered from templates/, users and units set up, default
// configurations with sample secrets removed. Also lays out the EFI system partition's files.
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BuildContext } from '../context.js';
import { ImageError } from '../errors.js';
import { applianceFacts, ENABLED_UNITS, MASKED_UNITS, systemFiles } from '../plan/files.js';
import { renderTemplate } from '../templates.js';
import { runLogged } from '../run.js';
import { espInitrdPath, espKernelPath, osReleaseLines, UPDATE_PATHS } from '../plan/update.js';
import { updatePublicKey } from './signing.js';
import type { AppResult } from './app.js';
import type { RootfsResult } from './rootfs.js';

export interface ConfigureResult {
  readonly root: string;
  readonly esp: string;
  /** Files that are in the root file system only as samples and must not reach the image. */
  readonly removed: readonly string[];
}

/** Sample configurations that ship with packages and carry well-known secrets. */
// Debian's coturn package also enables its own unit and ships a SysV script that would run coturn as an
// anonymous relay with its sample configuration: the unit is masked (MASKED_UNITS), its enablement link
// and the SysV script are removed, so no boot path can start it, not even once.
export const REMOVED_PATHS: readonly string[] = [
  '/etc/janus', '/etc/turnserver.conf', '/etc/default/coturn', '/etc/init.d/coturn',
  '/etc/systemd/system/multi-user.target.wants/coturn.service',
];

export async function configureStage(ctx: BuildContext, rootfs: RootfsResult, app: AppResult): Promise<ConfigureResult> {
  const work = join(ctx.paths.work, 'configure');
  const root = join(work, 'root');
  const esp = join(work, 'esp');
  await runLogged(ctx, 'configure', 'rm', ['-rf', work]);
  mkdirSync(esp, { recursive: true });
  await runLogged(ctx, 'configure', 'cp', ['-a', '--reflink=auto', rootfs.root, root]);

  // The service and its runtime.
  mkdirSync(join(root, 'opt/stube'), { recursive: true });
  await runLogged(ctx, 'configure', 'cp', ['-a', app.app, join(root, 'opt/stube/app')]);
  await runLogged(ctx, 'configure', 'cp', ['-a', app.node, join(root, 'opt/stube/node')]);
  await runLogged(ctx, 'configure', 'chown', ['-R', 'root:root', join(root, 'opt/stube')]);
  await runLogged(ctx, 'configure', 'chmod', ['-R', 'u=rwX,go=rX', join(root, 'opt/stube')]);

  for (const path of REMOVED_PATHS) rmSync(join(root, path), { recursive: true, force: true });

  // System files from templates.
  const facts = applianceFacts(ctx.config, ctx.version);
  const templatesDir = join(ctx.paths.repo, 'templates');
  for (const file of systemFiles(ctx.config, facts, ctx.plan)) {
    const dest = join(file.target === 'root' ? root : esp, file.path);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, renderTemplate(templatesDir, file.template, file.data));
    chmodSync(dest, file.mode);
  }

  // Identity, time zone and locale. An empty machine-id: systemd makes a transient one every boot
  // (the root is read-only) and never runs first-boot prompts.
  writeFileSync(join(root, 'etc/machine-id'), '');
  rmSync(join(root, 'var/lib/dbus/machine-id'), { force: true });
  rmSync(join(root, 'etc/localtime'), { force: true });
  symlinkSync(`/usr/share/zoneinfo/${ctx.config.timezone}`, join(root, 'etc/localtime'));
  writeFileSync(join(root, 'etc/timezone'), `${ctx.config.timezone}\n`);
  writeFileSync(join(root, 'etc/default/locale'), `LANG=${ctx.config.locale}\n`);
  writeFileSync(join(root, 'usr/lib/stube/version'), `${ctx.version}\n`);
  // systemd-sysupdate reads the running version from os-release; the clock epoch file makes systemd set
  // a clock that is behind (no RTC battery, no network yet) to at least the build date at boot.
  appendFileSync(join(root, 'usr/lib/os-release'), osReleaseLines(ctx.config.name, ctx.version));
  writeFileSync(join(root, 'usr/lib/clock-epoch'), '');
  // Only the public key: bundles are signed with the builder's key (docs/updates.md).
  writeFileSync(join(root, UPDATE_PATHS.keyring), await updatePublicKey(ctx));
  mkdirSync(join(root, 'efi'), { recursive: true, mode: 0o700 });
  // /etc is read-only on the box: mark it as up to date with /usr, or ldconfig.service and
  // systemd-update-done.service would try to write it on every boot (ConditionNeedsUpdate=/etc).
  writeFileSync(join(root, 'etc/.updated'), `# Written by the Stube image pipeline.\nTIMESTAMP_NSEC=${ctx.config.sourceDateEpoch}000000000\n`);

  await runLogged(ctx, 'configure', 'chroot', [root, 'systemd-sysusers']);
  await runLogged(ctx, 'configure', 'chroot', [root, 'systemctl', 'enable', ...ENABLED_UNITS]);
  await runLogged(ctx, 'configure', 'chroot', [root, 'systemctl', 'mask', ...MASKED_UNITS]);

  // EFI system partition: systemd-boot as the removable-media boot path, kernel and initrd of slot A.
  const bootEfi = join(root, 'usr/lib/systemd/boot/efi/systemd-bootx64.efi');
  if (!existsSync(bootEfi)) throw new ImageError('STAGE_FAILED', 'configure: systemd-bootx64.efi missing from the root file system');
  for (const dest of ['EFI/BOOT/BOOTX64.EFI', 'EFI/systemd/systemd-bootx64.efi']) {
    mkdirSync(dirname(join(esp, dest)), { recursive: true });
    cpSync(bootEfi, join(esp, dest));
  }
  const boot = readdirSync(join(root, 'boot'));
  const kernels = boot.filter((f) => f.startsWith('vmlinuz-'));
  const kernel = kernels[0];
  if (kernels.length !== 1 || !kernel) throw new ImageError('STAGE_FAILED', `configure: expected one kernel in /boot, found ${kernels.join(', ') || 'none'}`);
  const initrd = `initrd.img-${kernel.slice('vmlinuz-'.length)}`;
  if (!boot.includes(initrd)) throw new ImageError('STAGE_FAILED', `configure: /boot/${initrd} missing`);
  // Each version's kernel under its own name, so the other slot's entry keeps working whatever happens.
  mkdirSync(join(esp, UPDATE_PATHS.espKernels), { recursive: true });
  cpSync(join(root, 'boot', kernel), join(esp, espKernelPath(ctx.config.name, ctx.version)));
  cpSync(join(root, 'boot', initrd), join(esp, espInitrdPath(ctx.config.name, ctx.version)));

  // Same times everywhere: the build date of the configuration, not of the machine.
  const stamp = `@${ctx.config.sourceDateEpoch}`;
  await runLogged(ctx, 'configure', 'find', [root, esp, '-newermt', stamp, '-exec', 'touch', '--no-dereference', '--date', stamp, '{}', '+']);
  return { root, esp, removed: REMOVED_PATHS };
}
