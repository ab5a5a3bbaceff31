// Every file the configure stage writes into the root slot or the EFI system partition, with the
// template it comes from and that template's input. Pure, so the golden-file test renders the same list.
import type { ImageConfig } from '../config/schema.js';
import { partitionOf, PARTITION_LABELS, type PartitionPlan } from './partitions.js';
import { coturnLimits } from '../../appliance/turn/coturn-config.js';
import { entryFileName, espInitrdPath, espKernelPath, transferFiles, UPDATE_PATHS } from './update.js';

/** Names and places on the box; the service's environment contract is built from these. */
export interface ApplianceFacts {
  readonly version: string;
  readonly hostname: string;
  readonly mdnsName: string;
  readonly users: { readonly service: string; readonly turn: string };
  readonly ids: { readonly service: number; readonly turn: number };
  readonly paths: {
    readonly app: string;
    readonly node: string;
    readonly data: string;
    readonly tls: string;
    readonly secrets: string;
    readonly janus: string;
    readonly turnRuntime: string;
    readonly libexec: string;
    /** The setup wizard's per-boot files (the setup code the console shows). */
    readonly setupRuntime: string;
    /** The privileged helper's socket; its folder is open to the service's group only. */
    readonly helperSocket: string;
  };
  /** http: plain HTTP for ACME challenges and the redirect to HTTPS. */
  readonly ports: { readonly https: number; readonly http: number; readonly turn: number; readonly rtp: string; readonly turnRelay: string };
}

export function applianceFacts(config: ImageConfig, version: string): ApplianceFacts {
  return {
    version,
    hostname: config.hostname,
    mdnsName: `${config.hostname}.local`,
    users: { service: 'stube', turn: 'stube-turn' },
    ids: { service: 800, turn: 802 },
    paths: {
      app: '/opt/stube/app',
      node: '/opt/stube/node/bin/node',
      data: '/var/lib/stube',
      tls: '/var/lib/stube/tls',
      secrets: '/var/lib/stube/secrets',
      janus: '/run/stube/janus',
      turnRuntime: 'stube/coturn',
      libexec: '/usr/lib/stube',
      setupRuntime: '/run/stube/setup',
      helperSocket: '/run/stube-system/system.sock',
    },
    ports: { http: 80, ...config.ports },
  };
}

/** The service's environment on the box (the contract with appliance/'s configuration module). */
export function serviceEnvironment(f: ApplianceFacts): Record<string, string> {
  return {
    NODE_ENV: 'production',
    STUBE_DATA_DIR: f.paths.data,
    STUBE_HTTPS: `0.0.0.0:${f.ports.https}`,
    STUBE_TLS_CERT: `${f.paths.tls}/cert.pem`,
    STUBE_TLS_KEY: `${f.paths.tls}/key.pem`,
    STUBE_RTP_PORTS: f.ports.rtp,
    STUBE_JANUS: 'external',
    STUBE_JANUS_DIR: f.paths.janus,
    STUBE_TURN_PORT: String(f.ports.turn),
    STUBE_TURN_SECRET_FILE: `${f.paths.secrets}/turn-static-auth-secret`,
    STUBE_UPDATE_RUN: UPDATE_PATHS.run,
    STUBE_VERSION_FILE: `${f.paths.libexec}/version`,
    // The setup wizard stays mounted; it answers only until setup.json exists on the data partition.
    STUBE_SETUP: '1',
    STUBE_RUNTIME_DIR: f.paths.setupRuntime,
    STUBE_ACME_HTTP: `0.0.0.0:${f.ports.http}`,
    STUBE_HELPER_SOCKET: f.paths.helperSocket,
  };
}

/** Where udev links the boot disk's ESP and data partition (under /dev). */
export const BOOT_DISK_LINKS = 'disk/stube';

/** The privileged helper's environment (read by appliance/system/main.ts). */
export function systemHelperEnvironment(f: ApplianceFacts): Record<string, string> {
  return {
    STUBE_DATA_DIR: f.paths.data,
    STUBE_INSTALL_PROGRESS: `${f.paths.setupRuntime}/install-progress.json`,
    NODE_ENV: 'production',
    STUBE_HELPER_SOCKET: f.paths.helperSocket,
    STUBE_HELPER_GID: String(f.ids.service),
    STUBE_TLS_DIR: f.paths.tls,
    STUBE_TEMPLATES_DIR: `${f.paths.app}/templates`,
    STUBE_TURN_USER: f.users.turn,
    STUBE_TURN_RELAY_PORTS: f.ports.turnRelay,
  };
}

/** Every IPv4 and IPv6 address; coturn then allows only the box's own. */
export const ALL_PEERS = ['0.0.0.0-255.255.255.255', '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];

export type FileTarget = 'root' | 'esp';

export interface SystemFile {
  readonly target: FileTarget;
  /** Absolute path inside the target file system. */
  readonly path: string;
  /** Template id: templates/<id>.ejs with templates/<id>.schema.json. */
  readonly template: string;
  readonly data: Record<string, unknown>;
  readonly mode: number;
}

/**
 * Boot entry file name with systemd-boot's boot counter ("+3" = three tries left). Named after the
 * version (systemd-sysupdate's pattern), so every installed version has its own entry and kernel.
 */
export function bootEntryName(name: string, version: string, tries: number): string {
  return entryFileName(name, version, tries);
}

/** The boot entry of one version: its kernel and initrd on the ESP, its root slot by partition UUID. */
export function bootEntryData(name: string, version: string, rootPartUuid: string): Record<string, unknown> {
  return {
    title: `Stube ${version}`, sortKey: name, version,
    kernel: espKernelPath(name, version), initrd: espInitrdPath(name, version), rootPartUuid: rootPartUuid.toLowerCase(), options: kernelOptions(),
  };
}

/** The update helper's environment (read by appliance/update/helper-main.ts). */
export function updateHelperEnvironment(f: ApplianceFacts): Record<string, string> {
  return {
    STUBE_UPDATE_PRIVATE: UPDATE_PATHS.private,
    STUBE_UPDATE_RUN: UPDATE_PATHS.run,
    STUBE_UPDATE_KEYRING: UPDATE_PATHS.keyring,
    STUBE_UPDATE_DEFINITIONS: UPDATE_PATHS.definitions,
    STUBE_UPDATE_SETTINGS: `${f.paths.data}/update-settings.json`,
    STUBE_VERSION_FILE: `${f.paths.libexec}/version`,
  };
}

export function kernelOptions(): string[] {
  return ['console=tty0', 'console=ttyS0,115200n8', 'panic=10', 'systemd.show_status=auto'];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function range(r: string): [number, number] {
  const [a, b] = r.split('-').map(Number);
  return [a ?? 0, b ?? 0];
}

export function systemFiles(config: ImageConfig, f: ApplianceFacts, plan: PartitionPlan): SystemFile[] {
  const u = f.users;
  const p = f.paths;
  const portSuffix = f.ports.https === 443 ? '' : `:${f.ports.https}`;
  const [rtpFirst, rtpLast] = range(f.ports.rtp);
  const [relayFirst, relayLast] = range(f.ports.turnRelay);
  const unit = (name: string, data: Record<string, unknown>): SystemFile => ({
    target: 'root', path: `/etc/systemd/system/${name}`, template: `systemd/${name}`, data, mode: 0o644,
  });
  const script = (name: string, data: Record<string, unknown>): SystemFile => ({
    target: 'root', path: `${p.libexec}/${name}`, template: `scripts/${name}`, data, mode: 0o755,
  });
  const rootA = partitionOf(plan, 'root-a');
  const repart = plan.partitions.map((part): SystemFile => ({
    target: 'root',
    path: `/usr/lib/repart.d/${String(part.number * 10).padStart(2, '0')}-${part.role}.conf`,
    template: 'boot/repart.conf',
    data: {
      type: part.role === 'esp' ? 'esp' : part.role === 'data' ? 'linux-generic' : 'root',
      // Root slots: no label, their GPT names carry systemd-sysupdate's versions.
      label: part.role === 'root-a' || part.role === 'root-b' ? '' : part.label,
      grow: part.role === 'data',
      sizeBytes: part.sizeBytes,
    },
    mode: 0o644,
  }));
  return [
    { target: 'root', path: '/etc/hostname', template: 'console/hostname', data: { hostname: f.hostname }, mode: 0o644 },
    { target: 'root', path: '/etc/hosts', template: 'console/hosts', data: { hostname: f.hostname }, mode: 0o644 },
    { target: 'root', path: '/etc/issue', template: 'console/issue', data: { version: f.version, mdnsName: f.mdnsName, portSuffix }, mode: 0o644 },
    {
      target: 'root', path: '/etc/fstab', template: 'boot/fstab',
      data: { linkDir: `/dev/${BOOT_DISK_LINKS}`, dataMount: p.data, varTmpfsPercent: 20 },
      mode: 0o644,
    },
    // ESP and data are mounted from the disk the root is on, never from a USB stick with the same names.
    { target: 'root', path: '/usr/lib/udev/rules.d/61-stube-boot-disk.rules', template: 'udev/stube-boot-disk.rules', data: {
      espLabel: PARTITION_LABELS.esp, dataLabel: PARTITION_LABELS.data, script: `${p.libexec}/stube-on-boot-disk`, linkDir: BOOT_DISK_LINKS,
    }, mode: 0o644 },
    script('stube-on-boot-disk', {}),
    ...repart,
    { target: 'root', path: '/usr/lib/sysusers.d/stube.conf', template: 'systemd/stube.sysusers', data: {
      serviceUser: u.service, turnUser: u.turn, dataDir: p.data, ids: { ...f.ids },
    }, mode: 0o644 },
    { target: 'root', path: '/usr/lib/tmpfiles.d/stube.conf', template: 'systemd/stube.tmpfiles', data: {
      dataDir: p.data, janusDir: p.janus, serviceUser: u.service, setupRuntime: p.setupRuntime, helperDir: dirOf(p.helperSocket),
    }, mode: 0o644 },
    unit('stube.service', {
      user: u.service, group: u.service, appDir: p.app, node: p.node, dataDir: p.data,
      janusDir: p.janus, httpsPort: f.ports.https, environment: serviceEnvironment(f), updateRunDir: UPDATE_PATHS.run,
    }),
    unit('stube-janus.service', {
      user: u.service, group: u.service, node: p.node, appDir: p.app, dataDir: p.data, secretsDir: p.secrets,
      janusDir: p.janus, rtpPorts: f.ports.rtp,
    }),
    unit('stube-system.service', { node: p.node, appDir: p.app, dataDir: p.data, environment: systemHelperEnvironment(f) }),
    unit('stube-tls-selfsigned.service', {
      user: u.service, group: u.service, dataDir: p.data, tlsDir: p.tls, script: `${p.libexec}/stube-selfsigned-cert`,
    }),
    unit('stube-turn.service', {
      user: u.turn, group: u.turn, dataDir: p.data, runtimeDirectory: p.turnRuntime, configScript: `${p.libexec}/stube-turn-config`,
    }),
    unit('stube-healthy.service', { bootTries: config.bootTries, retries: 1000, timeoutSeconds: config.healthTimeoutSeconds, httpsPort: f.ports.https, healthPath: '/healthz/join' }),
    unit('stube-boot-failed.service', {}),
    unit('stube-console.service', { script: `${p.libexec}/stube-console-banner` }),
    unit('stube-update.path', { requestFile: `${UPDATE_PATHS.run}/request.json` }),
    unit('stube-update-apply.service', {
      node: p.node, appDir: p.app, stateDir: UPDATE_PATHS.state, privateDir: UPDATE_PATHS.private, environment: updateHelperEnvironment(f),
    }),
    ...transferFiles(config.name, config.bootTries),
    script('stube-selfsigned-cert', { tlsDir: p.tls, mdnsName: f.mdnsName, hostname: f.hostname, days: 825 }),
    script('stube-turn-config', {
      secretFile: serviceEnvironment(f)['STUBE_TURN_SECRET_FILE'], runtimeDirectory: p.turnRuntime,
      staticConfig: '/etc/stube/turnserver.conf', serviceUser: u.service, turnGroup: u.turn,
    }),
    script('stube-console-banner', {
      version: f.version, mdnsName: f.mdnsName, portSuffix, waitSeconds: 120,
      codeFile: `${p.setupRuntime}/setup-code`, setupDoneFile: `${p.data}/setup.json`, installedFile: `${p.setupRuntime}/installed-from-stick`,
    }),
    { target: 'root', path: '/etc/stube/turnserver.conf', template: 'coturn/turnserver.conf', data: {
      ...coturnLimits(), listeningIps: [], turnPort: f.ports.turn, realm: f.mdnsName, hostname: f.hostname, relayFirst, relayLast,
      runtimeDir: `/run/${p.turnRuntime}`, deniedPeerRanges: ALL_PEERS, allowedPeerIps: [],
    }, mode: 0o644 },
    { target: 'root', path: '/etc/nftables.conf', template: 'nftables/nftables.conf', data: {
      https: f.ports.https, acmeHttp: f.ports.http, turn: f.ports.turn, rtpFirst, rtpLast, mdnsName: f.mdnsName, turnUser: u.turn, relayFirst, relayLast,
    }, mode: 0o755 },
    { target: 'root', path: '/etc/systemd/network/20-wired.network', template: 'networkd/wired.network', data: { mdnsName: f.mdnsName }, mode: 0o644 },
    { target: 'root', path: '/etc/systemd/resolved.conf.d/stube.conf', template: 'networkd/resolved.conf', data: {}, mode: 0o644 },
    {
      target: 'root', path: '/etc/systemd/system/systemd-networkd-wait-online.service.d/stube.conf',
      template: 'networkd/wait-online.conf', data: { timeoutSeconds: 30 }, mode: 0o644,
    },
    { target: 'root', path: '/etc/systemd/journald.conf.d/stube.conf', template: 'journald/journald.conf', data: { runtimeMaxMiB: 64, maxRetentionDays: 2 }, mode: 0o644 },
    { target: 'root', path: '/etc/avahi/avahi-daemon.conf', template: 'avahi/avahi-daemon.conf', data: { hostname: f.hostname }, mode: 0o644 },
    { target: 'root', path: '/etc/avahi/services/stube.service', template: 'avahi/stube.service', data: { serviceName: 'Stube', https: f.ports.https }, mode: 0o644 },
    { target: 'esp', path: '/loader/loader.conf', template: 'boot/loader.conf', data: { timeoutSeconds: 2, bootTries: config.bootTries }, mode: 0o644 },
    {
      target: 'esp', path: `${UPDATE_PATHS.espEntries}/${bootEntryName(config.name, f.version, config.bootTries)}`, template: 'boot/entry.conf',
      data: bootEntryData(config.name, f.version, rootA.partUuid),
      mode: 0o644,
    },
  ];
}

/** Units enabled in the image (systemctl enable in the root slot). */
export const ENABLED_UNITS: readonly string[] = [
  'systemd-networkd.service', 'systemd-resolved.service', 'systemd-timesyncd.service', 'nftables.service',
  'avahi-daemon.service', 'stube.service', 'stube-system.service', 'stube-janus.service', 'stube-turn.service',
  'stube-tls-selfsigned.service', 'stube-healthy.service', 'stube-console.service', 'stube-update.path',
];

/** Units masked: Debian's own janus and coturn units (ours replace them), first-boot prompts. */
export const MASKED_UNITS: readonly string[] = ['janus.service', 'coturn.service', 'systemd-firstboot.service'];
