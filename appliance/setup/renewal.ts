// Keeps the certificate fresh after setup: checks twice a day and orders a new one when it is due
// (acme.ts needsRenewal), with the ACME account key kept on the data partition. The service starts one
// renewer once setup is done.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import type { PrivilegedClient } from '../system/client.js';
import { issueCertificate, needsRenewal, type AcmeOptions } from './acme.js';
import { writeFileDurable } from '../config/durable.js';

export interface RenewerDeps {
  dataDir: string;
  /** The certificate in use (written by the privileged helper). */
  certFile: string;
  name: string;
  email: string | null;
  acme: AcmeOptions;
  system: PrivilegedClient;
  /** Loads the new files into the running server. */
  onCertificate: () => Promise<void>;
  log: Logger;
  now?: () => Date;
}

export class CertificateRenewer {
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  constructor(readonly deps: RenewerDeps) {}

  /** Renews when due; 'fresh' when not. Failures are logged and retried at the next check. */
  async checkOnce(): Promise<'fresh' | 'renewed' | 'failed'> {
    if (this.#running) return 'fresh';
    this.#running = true;
    try {
      const current = await readFile(this.deps.certFile, 'utf8');
      if (!needsRenewal(current, (this.deps.now ?? (() => new Date()))())) return 'fresh';
      const accountFile = join(this.deps.dataDir, 'secrets', 'acme-account.pem');
      const accountKey = await readFile(accountFile, 'utf8').catch(() => null);
      const cert = await issueCertificate(this.deps.acme, this.deps.name, this.deps.email, accountKey);
      if (!accountKey) await writeFileDurable(accountFile, cert.accountKeyPem, 0o600);
      await this.deps.system.call('writeCertificate', { certPem: cert.certPem, keyPem: cert.keyPem });
      await this.deps.onCertificate();
      this.deps.log.info('certificate renewed');
      return 'renewed';
    } catch (err) {
      this.deps.log.warn('certificate renewal failed; will retry', { err: describeError(err) });
      return 'failed';
    } finally {
      this.#running = false;
    }
  }

  start(everyMs = 12 * 3600_000): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.checkOnce(), everyMs);
    this.#timer.unref();
    void this.checkOnce();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
