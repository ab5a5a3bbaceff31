// A running VM of the image, for `npm run vm`, the image test and the benchmark. It owns its qemu process
// and its files; close() (or powerOff()) always ends the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { ImageError } from '../errors.js';
import { chooseAccel, OVMF_CODE_CANDIDATES, OVMF_VARS_CANDIDATES, qemuArgs, type NvmeDisk } from '../plan/qemu.js';

export interface VmOptions {
  readonly disk: string;
  /** Folder for the VM's own files (OVMF variables, serial log). */
  readonly dir: string;
  readonly guestPort?: number;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  readonly interactive?: boolean;
  /** Port on 127.0.0.1 to forward; a free one when omitted. */
  readonly hostPort?: number;
  /** Attach the disk as a USB stick or an NVMe disk instead of a virtio disk. */
  readonly diskBus?: 'virtio' | 'usb' | 'nvme';
  readonly diskSerial?: string;
  /** Extra NVMe disks (raw files) with their serial numbers; one may fail writes (a faulty disk). */
  readonly nvme?: readonly NvmeDisk[];
  /** Extra USB sticks (raw files), e.g. an update stick. */
  readonly usbSticks?: readonly { readonly file: string }[];
}

export interface HealthAnswer {
  readonly status: number;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the box presented. */
  readonly fingerprint: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function kvmUsable(): boolean {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

function firstExisting(paths: readonly string[], what: string): string {
  const found = paths.find((p) => existsSync(p));
  if (!found) throw new ImageError('VM', `${what} not found (${paths.join(', ')}): apt-get install ovmf`);
  return found;
}

/** One HTTPS GET to the box, accepting its self-signed certificate. */
export async function httpsGet(port: number, path: string, timeoutMs = 5000): Promise<HealthAnswer> {
  return new Promise((resolveAnswer, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const cert: PeerCertificate = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body, fingerprint: cert.fingerprint256 ?? '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class Vm {
  readonly hostPort: number;
  readonly serialLog: string;
  readonly accel: 'kvm' | 'tcg';
  readonly startedAt: number;
  #proc: ChildProcess;
  #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  private constructor(proc: ChildProcess, hostPort: number, serialLog: string, accel: 'kvm' | 'tcg') {
    this.#proc = proc;
    this.hostPort = hostPort;
    this.serialLog = serialLog;
    this.accel = accel;
    this.startedAt = Date.now();
    this.#exited = new Promise((resolveExit) => {
      proc.once('exit', (code) => {
        this.#exitCode = code;
        resolveExit(code);
      });
    });
  }

  static async start(options: VmOptions): Promise<Vm> {
    const hostPort = options.hostPort ?? (await freePort());
    const vars = join(options.dir, 'OVMF_VARS.fd');
    if (!existsSync(vars)) copyFileSync(firstExisting(OVMF_VARS_CANDIDATES, 'OVMF variable store'), vars);
    const serialLog = join(options.dir, 'serial.log');
    const accel = chooseAccel(kvmUsable(), process.env['STUBE_VM_ACCEL']);
    const args = qemuArgs({
      disk: options.disk,
      ovmfCode: firstExisting(OVMF_CODE_CANDIDATES, 'OVMF firmware'),
      ovmfVars: vars,
      accel,
      hostPort,
      guestPort: options.guestPort ?? 443,
      serial: options.interactive ? 'stdio' : { file: serialLog },
      memoryMiB: options.memoryMiB ?? 2048,
      cpus: options.cpus ?? 2,
      ...(options.diskBus ? { diskBus: options.diskBus } : {}),
      ...(options.diskSerial ? { diskSerial: options.diskSerial } : {}),
      ...(options.nvme ? { nvme: options.nvme } : {}),
      ...(options.usbSticks ? { usbSticks: options.usbSticks } : {}),
    });
    const proc = spawn('qemu-system-x86_64', args, { stdio: options.interactive ? 'inherit' : ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const vm = new Vm(proc, hostPort, serialLog, accel);
    // qemu fails at once on a bad command line or a locked disk: report that instead of a later timeout.
    const early = await Promise.race([vm.#exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1500))]);
    if (early) throw new ImageError('VM', `qemu exited at start (${vm.#exitCode}): ${stderr.trim()}`);
    return vm;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  serial(): string {
    try {
      return readFileSync(this.serialLog, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last lines of the serial console, without terminal control sequences. */
  serialTail(lines: number): string {
    // eslint-disable-next-line no-control-regex
    return this.serial().replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07?/g, '').split('\n').slice(-lines).join('\n');
  }

  /** Polls GET path until it answers 200, the VM dies, or the deadline passes. */
  async waitForHttps(path: string, deadlineMs: number, intervalMs = 2000): Promise<HealthAnswer> {
    let last = 'no answer yet';
    while (Date.now() < deadlineMs) {
      if (!this.running) throw new ImageError('VM', `the VM stopped (exit ${this.#exitCode}) before ${path} answered; serial log: ${this.serialLog}`);
      try {
        const answer = await httpsGet(this.hostPort, path);
        if (answer.status === 200) return answer;
        last = `HTTP ${answer.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new ImageError('VM', `${path} did not answer 200 before the deadline (last: ${last}); end of the serial log:\n${this.serialTail(60)}`);
  }

  /** Pulls the plug: SIGKILL, no shutdown. */
  async powerOff(): Promise<void> {
    if (this.running) this.#proc.kill('SIGKILL');
    await this.#exited;
  }

  async waitForExit(): Promise<number | null> {
    return this.#exited;
  }

  async close(): Promise<void> {
    await this.powerOff();
  }
}
