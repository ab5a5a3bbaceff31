// ajv schemas of the JSON API's request bodies, compiled once. The OpenAPI description (openapi.ts)
// embeds the same objects, so the documentation and the checks cannot drift apart.
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { PASSWORD_LIMITS } from './passwords.js';
import { ROOM_LIMITS } from './rooms.js';

export interface SignInBody {
  name: string;
  password: string;
}
export interface CreateAccountBody {
  name: string;
  password: string;
  role: 'admin' | 'member';
}
export interface PasswordBody {
  password: string;
}
export interface RoomBody {
  name: string;
  waitingRoom: boolean;
  guestsAllowed: boolean;
  maxParticipants: number;
  lockedWithoutModerator: boolean;
  password?: string | null;
}
export type RoomPatch = Partial<RoomBody>;
export interface InviteBody {
  role: 'moderator' | 'participant';
  /** Seconds until the link expires; null: never. */
  ttlSeconds: number | null;
}

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const PASSWORD = { type: 'string', minLength: 1, maxLength: PASSWORD_LIMITS.maxChars } as const;
const ROOM_FIELDS = {
  name: { type: 'string', minLength: 1, maxLength: ROOM_LIMITS.maxNameChars * 4 },
  waitingRoom: { type: 'boolean' },
  guestsAllowed: { type: 'boolean' },
  maxParticipants: { type: 'integer', minimum: ROOM_LIMITS.minParticipants, maximum: ROOM_LIMITS.maxParticipants },
  lockedWithoutModerator: { type: 'boolean' },
  password: { type: 'string', nullable: true, minLength: 1, maxLength: ROOM_LIMITS.maxPasswordChars },
} as const;

export const signInSchema: JSONSchemaType<SignInBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'password'],
  properties: { name: NAME, password: PASSWORD },
};
export const createAccountSchema: JSONSchemaType<CreateAccountBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'password', 'role'],
  properties: { name: NAME, password: PASSWORD, role: { type: 'string', enum: ['admin', 'member'] } },
};
export const passwordSchema: JSONSchemaType<PasswordBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password: PASSWORD },
};
export const roomSchema: JSONSchemaType<RoomBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'waitingRoom', 'guestsAllowed', 'maxParticipants', 'lockedWithoutModerator'],
  properties: ROOM_FIELDS,
};
export const roomPatchSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: ROOM_FIELDS,
} as const;
export const inviteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'ttlSeconds'],
  properties: {
    role: { type: 'string', enum: ['moderator', 'participant'] },
    ttlSeconds: { type: ['integer', 'null'], minimum: 60, maximum: 366 * 24 * 3600 },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
export const validators = {
  signIn: ajv.compile(signInSchema) as ValidateFunction<SignInBody>,
  createAccount: ajv.compile(createAccountSchema) as ValidateFunction<CreateAccountBody>,
  password: ajv.compile(passwordSchema) as ValidateFunction<PasswordBody>,
  room: ajv.compile(roomSchema) as ValidateFunction<RoomBody>,
  roomPatch: ajv.compile<RoomPatch>(roomPatchSchema),
  invite: ajv.compile<InviteBody>(inviteSchema),
};
