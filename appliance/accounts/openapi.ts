// The OpenAPI 3.1 description of /api, served at GET /api/openapi.json. Request bodies are the very
// schemas the API validates with (api-schemas.ts). docs/api.md explains the flows in prose.
import { createAccountSchema, inviteSchema, passwordSchema, roomPatchSchema, roomSchema, signInSchema } from './api-schemas.js';

const json = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const ok = (description: string, schema?: unknown) => ({ description, ...(schema ? { content: { 'application/json': { schema } } } : {}) });
const errors = {
  '400': ok('invalid body', { $ref: '#/components/schemas/Error' }),
  '401': ok('not signed in', { $ref: '#/components/schemas/Error' }),
  '403': ok('the account may not do this, or a cross-origin request', { $ref: '#/components/schemas/Error' }),
  '404': ok('no such thing', { $ref: '#/components/schemas/Error' }),
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } }];

const account = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, role: { enum: ['admin', 'member'] }, createdAt: { type: 'integer' } },
};
const room = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    waitingRoom: { type: 'boolean' },
    guestsAllowed: { type: 'boolean' },
    maxParticipants: { type: 'integer' },
    lockedWithoutModerator: { type: 'boolean' },
    hasPassword: { type: 'boolean' },
    createdAt: { type: 'integer' },
  },
};
const invite = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    roomId: { type: 'string' },
    role: { enum: ['moderator', 'participant'] },
    expiresAt: { type: ['integer', 'null'] },
    revoked: { type: 'boolean' },
    createdAt: { type: 'integer' },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Stube box API',
    version: '1',
    description:
      'Accounts, rooms, invite links and live meetings of a Stube box. Sign in with POST /api/session; the ' +
      'session is an HttpOnly, SameSite=Strict cookie. State-changing requests must come from the box\'s own origin.',
  },
  servers: [{ url: '/api' }],
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'stube_session' } },
    schemas: { Error: { type: 'object', properties: { error: { type: 'string' } } }, Account: account, Room: room, Invite: invite },
  },
  security: [{ session: [] }],
  paths: {
    '/session': {
      get: { summary: 'The signed-in account', responses: { '200': ok('signed in', { type: 'object', properties: { account } }), '401': errors['401'] } },
      post: {
        summary: 'Sign in (rate-limited per address and per account)',
        security: [],
        requestBody: json(signInSchema),
        responses: { '200': ok('signed in; sets the session cookie'), '401': ok('wrong name or password'), '429': ok('too many failures; see Retry-After'), '503': ok('too many sign-ins at once') },
      },
      delete: { summary: 'Sign out', responses: { '204': ok('signed out') } },
    },
    '/accounts': {
      get: { summary: 'All accounts (admin)', responses: { '200': ok('accounts', { type: 'object', properties: { accounts: { type: 'array', items: account } } }), ...errors } },
      post: { summary: 'Add an account (admin)', requestBody: json(createAccountSchema), responses: { '201': ok('created'), '409': ok('name taken'), ...errors } },
    },
    '/accounts/{id}': { delete: { summary: 'Remove an account (admin; never the last admin)', parameters: idParam, responses: { '204': ok('removed'), '409': ok('last admin'), ...errors } } },
    '/accounts/{id}/password': {
      put: { summary: 'Set a new password (admin); ends the account\'s sessions', parameters: idParam, requestBody: json(passwordSchema), responses: { '204': ok('changed'), ...errors } },
    },
    '/rooms': {
      get: { summary: 'Rooms with their invite links (members)', responses: { '200': ok('rooms'), ...errors } },
      post: { summary: 'Create a room (members)', requestBody: json(roomSchema), responses: { '201': ok('created', { type: 'object', properties: { room } }), ...errors } },
    },
    '/rooms/{id}': {
      patch: { summary: 'Change a room (members); password null removes it', parameters: idParam, requestBody: json(roomPatchSchema), responses: { '200': ok('changed'), ...errors } },
      delete: { summary: 'Delete a room and its links (admin)', parameters: idParam, responses: { '204': ok('deleted'), ...errors } },
    },
    '/rooms/{id}/invites': {
      post: {
        summary: 'A new invite link (members). The token goes after "~" in the link fragment.',
        parameters: idParam,
        requestBody: json(inviteSchema),
        responses: { '201': ok('the invite and its token', { type: 'object', properties: { invite, token: { type: 'string' } } }), ...errors },
      },
    },
    '/invites/{id}/token': { post: { summary: 'The token of an existing link again (members)', parameters: idParam, responses: { '200': ok('token'), ...errors } } },
    '/invites/{id}': { delete: { summary: 'Revoke a link (members)', parameters: idParam, responses: { '204': ok('revoked'), ...errors } } },
    '/live': {
      get: {
        summary: 'Live meetings: participant and waiting counts only (members)',
        responses: { '200': ok('live meetings', { type: 'object', properties: { meetings: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, room: { type: ['string', 'null'] }, participants: { type: 'integer' }, waiting: { type: 'integer' } } } } } }), ...errors },
      },
    },
    '/live/{id}': { delete: { summary: 'End a meeting for everyone (admin)', parameters: idParam, responses: { '204': ok('ended'), ...errors } } },
    '/meetings': { post: { summary: 'Start an ad-hoc meeting (members; anyone in development)', responses: { '201': ok('the meeting ID'), ...errors } } },
  },
} as const;
