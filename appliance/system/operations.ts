// The privileged helper's allow-list: every operation the unprivileged service may ask root to do, each
// with a schema for its arguments and a function that re-validates, then acts through fixed paths and
// argument-array commands (never a shell string). A name not in OPERATIONS is refused.
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { renderChecked } from './render.js';
import { checkInstallRequest, type InstallHost } from '../install/host.js';

export interface SystemContext {
  /** Runs a command given as an argument array; rejects on a non-zero exit. */
  exec(argv: string[]): Promise<void>;
  /** Writes a file atomically with the given mode. */
  writeFile(path: string, data: string, mode: number): Promise<void>;
  paths: {
    /** Folder for the TLS certificate and key (on the data partition). */
    tlsDir: string;
    /** The live nftables configuration. */
    nftablesConf: string;
    templatesDir: string;
  };
  /** Facts of the image the firewall keeps (the TURN user's egress wall), never taken from a caller. */
  turnRelay: { user: string; first: number; last: number };
  /** Installing onto an internal disk (appliance/install/); absent where the helper cannot do it. */
  installer?: InstallHost;
}

export interface WriteCertificateArgs { certPem: string; keyPem: string }
export interface SetFirewallArgs { https: number; turn: number; rtpFirst: number; rtpLast: number; acmeHttp: number | null; mdnsName: string }
export interface RestartUnitArgs { unit: 'stube.service' | 'stube-janus.service' | 'stube-turn.service' }
export type RebootArgs = Record<string, never>;
/** The whole disk to install onto, and what the person typed or ticked to confirm: the disk's name or serial. */
export interface InstallToDiskArgs { disk: string; confirmation: string }

export interface OperationArgs {
  writeCertificate: WriteCertificateArgs;
  setFirewall: SetFirewallArgs;
  restartUnit: RestartUnitArgs;
  reboot: RebootArgs;
  installToDisk: InstallToDiskArgs;
}
export type OperationName = keyof OperationArgs;

const ajv = new Ajv({ allErrors: false, strict: true });
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;

const schemas: { [K in OperationName]: ValidateFunction<OperationArgs[K]> } = {
  writeCertificate: ajv.compile<WriteCertificateArgs>({
    type: 'object',
    properties: {
      certPem: { type: 'string', maxLength: 65_536, pattern: '^-----BEGIN CERTIFICATE-----\\n' },
      keyPem: { type: 'string', maxLength: 16_384, pattern: '^-----BEGIN (EC |RSA )?PRIVATE KEY-----\\n' },
    },
    required: ['certPem', 'keyPem'],
    additionalProperties: false,
  } satisfies JSONSchemaType<WriteCertificateArgs>),
  setFirewall: ajv.compile<SetFirewallArgs>({
    type: 'object',
    properties: {
      https: port,
      turn: port,
      rtpFirst: { type: 'integer', minimum: 1024, maximum: 65535 },
      rtpLast: { type: 'integer', minimum: 1024, maximum: 65535 },
      acmeHttp: { ...port, nullable: true },
      mdnsName: { type: 'string', pattern: '^[a-z0-9-]{1,63}\\.local$' },
    },
    required: ['https', 'turn', 'rtpFirst', 'rtpLast', 'acmeHttp', 'mdnsName'],
    additionalProperties: false,
  } as unknown as JSONSchemaType<SetFirewallArgs>),
  restartUnit: ajv.compile<RestartUnitArgs>({
    type: 'object',
    properties: { unit: { type: 'string', enum: ['stube.service', 'stube-janus.service', 'stube-turn.service'] } },
    required: ['unit'],
    additionalProperties: false,
  } satisfies JSONSchemaType<RestartUnitArgs>),
  reboot: ajv.compile<RebootArgs>({ type: 'object', properties: {}, required: [], additionalProperties: false } as unknown as JSONSchemaType<RebootArgs>),
  installToDisk: ajv.compile<InstallToDiskArgs>({
    type: 'object',
    properties: {
      // Whole disks only: no partitions, loop or device-mapper devices.
      disk: { type: 'string', pattern: '^/dev/(sd[a-z]{1,2}|vd[a-z]{1,2}|nvme[0-9]{1,2}n[0-9]{1,2}|mmcblk[0-9]{1,2})$' },
      confirmation: { type: 'string', minLength: 1, maxLength: 200 },
    },
    required: ['disk', 'confirmation'],
    additionalProperties: false,
  } satisfies JSONSchemaType<InstallToDiskArgs>),
};

export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

type Runner<K extends OperationName> = (args: OperationArgs[K], ctx: SystemContext) => Promise<void>;

const runners: { [K in OperationName]: Runner<K> } = {
  async writeCertificate(args, ctx) {
    // Parse both: a malformed or mismatched pair must not replace a working one.
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(args.certPem);
    } catch {
      throw new RefusedError('writeCertificate: the certificate does not parse');
    }
    let key;
    try {
      key = createPrivateKey(args.keyPem);
    } catch {
      throw new RefusedError('writeCertificate: the key does not parse');
    }
    if (!cert.checkPrivateKey(key)) throw new RefusedError('writeCertificate: the key does not belong to the certificate');
    await ctx.writeFile(join(ctx.paths.tlsDir, 'key.pem'), args.keyPem, 0o640);
    await ctx.writeFile(join(ctx.paths.tlsDir, 'cert.pem'), args.certPem, 0o644);
  },
  async setFirewall(args, ctx) {
    if (args.rtpLast <= args.rtpFirst) throw new RefusedError('setFirewall: rtpLast must be above rtpFirst');
    const { acmeHttp, ...rest } = args;
    const relay = { turnUser: ctx.turnRelay.user, relayFirst: ctx.turnRelay.first, relayLast: ctx.turnRelay.last };
    const text = renderChecked(ctx.paths.templatesDir, 'nftables/nftables.conf', { ...rest, ...relay, ...(acmeHttp === null ? {} : { acmeHttp }) });
    const tmp = `${ctx.paths.nftablesConf}.new`;
    await ctx.writeFile(tmp, text, 0o644);
    // Check first, then load: a rule set nft refuses never replaces the working one.
    await ctx.exec(['nft', '-c', '-f', tmp]);
    await ctx.writeFile(ctx.paths.nftablesConf, text, 0o644);
    await ctx.exec(['nft', '-f', ctx.paths.nftablesConf]);
  },
  async restartUnit(args, ctx) {
    await ctx.exec(['systemctl', 'restart', '--no-block', args.unit]);
  },
  async reboot(_args, ctx) {
    await ctx.exec(['systemctl', 'reboot']);
  },
  async installToDisk(args, ctx) {
    if (!ctx.installer) throw new RefusedError('installToDisk: not available on this system');
    // Re-read the disks now: the wizard's list may be minutes old and a disk may have gone.
    const check = checkInstallRequest(await ctx.installer.survey(), args.disk, args.confirmation, ctx.installer.running());
    if (!check.ok) throw new RefusedError(`installToDisk: ${check.reason}`);
    await ctx.installer.begin(check.disk);
  },
};

export function isOperation(name: unknown): name is OperationName {
  return typeof name === 'string' && Object.hasOwn(schemas, name);
}

/** Checks and runs one request. Anything not on the list, or with arguments outside its schema, is refused. */
export async function runOperation(name: unknown, args: unknown, ctx: SystemContext): Promise<void> {
  if (!isOperation(name)) throw new RefusedError(`operation not allowed: ${typeof name === 'string' ? name.slice(0, 40) : typeof name}`);
  const validate = schemas[name] as ValidateFunction;
  if (!validate(args)) throw new RefusedError(`${name}: ${ajv.errorsText(validate.errors, { dataVar: 'args' })}`);
  await (runners[name] as Runner<OperationName>)(args as never, ctx);
}
