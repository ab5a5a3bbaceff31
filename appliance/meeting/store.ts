// Meetings that exist, kept on disk so that invite links survive a restart. Only IDs and creation
// times are stored — no names, no participants, no history (docs/privacy.md).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileDurable } from '../config/durable.js';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Ajv, type JSONSchemaType } from 'ajv';
import { MEETING_ID_PATTERN } from './protocol.js';

export interface StoredMeeting {
  id: string;
  createdAt: number;
}
interface StoreFile {
  version: 1;
  meetings: StoredMeeting[];
}

const schema: JSONSchemaType<StoreFile> = {
  type: 'object',
  required: ['version', 'meetings'],
  additionalProperties: false,
  properties: {
    version: { type: 'integer', const: 1 },
    meetings: {
      type: 'array',
      maxItems: 100_000,
      items: {
        type: 'object',
        required: ['id', 'createdAt'],
        additionalProperties: false,
        properties: { id: { type: 'string', pattern: MEETING_ID_PATTERN }, createdAt: { type: 'integer' } },
      },
    },
  },
};
const validate = new Ajv().compile(schema);

/** 16 random bytes = 128 bits, base64url: 22 characters. */
export function newMeetingId(): string {
  return randomBytes(16).toString('base64url');
}

export class MeetingStore {
  readonly #file: string;
  #meetings = new Map<string, StoredMeeting>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.#file = file;
  }

  static async open(dataDir: string): Promise<MeetingStore> {
    const store = new MeetingStore(join(dataDir, 'meetings.json'));
    if (existsSync(store.#file)) {
      const data: unknown = JSON.parse(await readFile(store.#file, 'utf8'));
      if (!validate(data)) throw new Error(`${store.#file} is damaged: ${new Ajv().errorsText(validate.errors)}`);
      for (const m of data.meetings) store.#meetings.set(m.id, m);
    }
    return store;
  }

  has(id: string): boolean {
    return this.#meetings.has(id);
  }

  get size(): number {
    return this.#meetings.size;
  }

  async create(): Promise<StoredMeeting> {
    const meeting = { id: newMeetingId(), createdAt: Math.floor(Date.now() / 1000) };
    this.#meetings.set(meeting.id, meeting);
    await this.#save();
    return meeting;
  }

  /** Writes are serialised and durable (see durable.ts), so a crash or power cut never leaves half a file. */
  #save(): Promise<void> {
    const body: StoreFile = { version: 1, meetings: [...this.#meetings.values()] };
    const write = async (): Promise<void> => {
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFileDurable(this.#file, JSON.stringify(body), 0o600);
    };
    // The previous write's failure was reported to its caller; this write runs either way.
    const next = this.#writing.then(write, write);
    this.#writing = next;
    return next;
  }
}
