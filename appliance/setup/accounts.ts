// What the wizard needs from the account store. The store itself (hashing with a memory-hard function,
// SQLite) is built elsewhere; the service wires an implementation in.
export interface AdminAccounts {
  hasAdmin(): boolean;
  createAdmin(name: string, password: string): Promise<void>;
}
