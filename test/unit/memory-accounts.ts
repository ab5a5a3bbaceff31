// A tiny AdminAccounts for tests: keeps the one admin in memory. The real store (SQLite, memory-hard
// hashing) is wired in by the service; the wizard only sees this interface.
import { scryptSync, randomBytes } from 'node:crypto';
import type { AdminAccounts } from '../../appliance/setup/accounts.js';

export class MemoryAccounts implements AdminAccounts {
  admin: { name: string; salt: Buffer; hash: Buffer } | null = null;
  hasAdmin(): boolean {
    return this.admin !== null;
  }
  async createAdmin(name: string, password: string): Promise<void> {
    if (this.admin) throw new Error('admin exists');
    const salt = randomBytes(16);
    this.admin = { name, salt, hash: scryptSync(password, salt, 32) };
  }
  verify(name: string, password: string): boolean {
    return this.admin?.name === name && scryptSync(password, this.admin.salt, 32).equals(this.admin.hash);
  }
}
