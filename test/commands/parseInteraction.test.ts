import type { APIInteraction } from '@discordjs/core';
import { describe, expect, it } from 'vitest';
import { parseInteraction, type ParseResult } from '../../src/commands/parseInteraction.js';

const APP_ID = '1180000000000000001';
const GUILD_ID = '1180000000000000002';
const TEXT_CHANNEL_ID = '1180000000000000003';
const VOICE_CHANNEL_ID = '1180000000000000004';
const USER_ID = '1180000000000000005';
const INTERACTION_ID = '1180000000000000006';
const COMMAND_ID = '1180000000000000007';
// Permission bitfields outgrow 32 bits (bit 33 here) and can outgrow a double's 53 bits (2^53 + 1 would round
// to 2^53 as a number), which is why they must stay bigint.
const MEMBER_PERMISSIONS = '9007199254740993';
const APP_PERMISSIONS = '8589934592';

type Json = Record<string, unknown>;

/** A chat-command INTERACTION_CREATE as Discord sends it (discord-protocol.md §2.2), with overrides. */
function commandPayload(overrides: Json = {}, data: Json = {}): Json {
  return {
    id: INTERACTION_ID,
    application_id: APP_ID,
    type: 2,
    token: 'aW50ZXJhY3Rpb246MTE4MDAwMDAwMDAwMDAwMDAwNjpzZWNyZXQ',
    version: 1,
    guild_id: GUILD_ID,
    channel_id: TEXT_CHANNEL_ID,
    channel: { id: TEXT_CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: 'general' },
    member: {
      user: { id: USER_ID, username: 'alice', discriminator: '0', global_name: 'Alice', avatar: null },
      nick: 'Ali',
      roles: [],
      permissions: MEMBER_PERMISSIONS,
      joined_at: '2024-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
      flags: 0,
    },
    data: {
      id: COMMAND_ID,
      name: 'join',
      type: 1,
      options: [
        { name: 'channel', type: 7, value: VOICE_CHANNEL_ID },
        { name: 'language', type: 3, value: 'de' },
      ],
      resolved: {
        channels: { [VOICE_CHANNEL_ID]: { id: VOICE_CHANNEL_ID, type: 2, name: 'Voice', permissions: '0' } },
      },
      ...data,
    },
    app_permissions: APP_PERMISSIONS,
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
    attachment_size_limit: 10_485_760,
    ...overrides,
  };
}

/** Parses a payload the way it arrives: JSON off the wire. */
function parse(payload: unknown): ParseResult {
  return parseInteraction(JSON.parse(JSON.stringify(payload)) as APIInteraction);
}

function reasonOf(result: ParseResult): string {
  if (result.ok) throw new Error(`expected a rejection, got ${result.invocation.name}`);
  return result.reason;
}

describe('parseInteraction', () => {
  it('accepts a guild chat command with its options and permission bitfields', () => {
    const result = parse(commandPayload());
    if (!result.ok) throw new Error(`rejected: ${result.reason}`);
    const inv = result.invocation;
    expect(inv.interactionId).toBe(INTERACTION_ID);
    expect(inv.token).toBe('aW50ZXJhY3Rpb246MTE4MDAwMDAwMDAwMDAwMDAwNjpzZWNyZXQ');
    expect(inv.applicationId).toBe(APP_ID);
    expect(inv.name).toBe('join');
    expect(inv.guildId).toBe(GUILD_ID);
    expect(inv.channelId).toBe(TEXT_CHANNEL_ID);
    expect(inv.userId).toBe(USER_ID);
    expect(inv.member.nick).toBe('Ali');
    expect(inv.member.user?.global_name).toBe('Alice');
    expect(typeof inv.memberPermissions).toBe('bigint');
    expect(inv.memberPermissions).toBe(2n ** 53n + 1n);
    expect(inv.appPermissions).toBe(8_589_934_592n);
    expect([...inv.options]).toEqual([
      ['channel', VOICE_CHANNEL_ID],
      ['language', 'de'],
    ]);
  });

  it('accepts a command without options, without nick and without app_permissions', () => {
    const payload = commandPayload({ app_permissions: undefined }, { name: 'leave', options: undefined, resolved: undefined });
    (payload.member as Json).nick = null;
    const result = parse(payload);
    if (!result.ok) throw new Error(`rejected: ${result.reason}`);
    expect(result.invocation.name).toBe('leave');
    expect(result.invocation.options.size).toBe(0);
    expect(result.invocation.member.nick).toBeNull();
    expect(result.invocation.appPermissions).toBeUndefined();
  });

  it('keeps integer and boolean option values with their types', () => {
    const result = parse(
      commandPayload({}, {
        options: [
          { name: 'minutes', type: 4, value: 15 },
          { name: 'public', type: 5, value: false },
          { name: 'who', type: 6, value: USER_ID },
        ],
      }),
    );
    if (!result.ok) throw new Error(`rejected: ${result.reason}`);
    expect(result.invocation.options.get('minutes')).toBe(15);
    expect(result.invocation.options.get('public')).toBe(false);
    expect(result.invocation.options.get('who')).toBe(USER_ID);
  });

  it('falls back to channel_id when the channel object is absent', () => {
    const result = parse(commandPayload({ channel: undefined }));
    expect(result.ok && result.invocation.channelId).toBe(TEXT_CHANNEL_ID);
  });

  it('treats missing or malformed permissions as none', () => {
    const payload = commandPayload({ app_permissions: 'lots' });
    (payload.member as Json).permissions = '-8';
    const result = parse(payload);
    if (!result.ok) throw new Error(`rejected: ${result.reason}`);
    expect(result.invocation.memberPermissions).toBe(0n);
    expect(result.invocation.appPermissions).toBeUndefined();
  });

  it('rejects a command used in a DM (no guild, user instead of member)', () => {
    const dm = commandPayload({
      guild_id: undefined,
      member: undefined,
      user: { id: USER_ID, username: 'alice', discriminator: '0', global_name: 'Alice', avatar: null },
      channel: { id: TEXT_CHANNEL_ID, type: 1, recipients: [] },
      context: 1,
      authorizing_integration_owners: { '1': USER_ID },
    });
    expect(reasonOf(parse(dm))).toBe('not in a guild');
  });

  it('rejects a guild payload without a member', () => {
    expect(reasonOf(parse(commandPayload({ member: undefined })))).toBe('not in a guild');
  });

  it.each([
    ['ping', 1],
    ['a button or select (message component)', 3],
    ['autocomplete', 4],
    ['a modal submit', 5],
  ])('rejects %s', (_name, type) => {
    const payload = commandPayload({ type });
    if (type === 3) payload.data = { custom_id: 'confirm', component_type: 2 };
    if (type === 5) payload.data = { custom_id: 'form', components: [] };
    if (type === 1) delete payload.data;
    expect(reasonOf(parse(payload))).toBe('not a command');
  });

  it.each([
    ['a user context-menu command', 2],
    ['a message context-menu command', 3],
    ['a primary entry point command', 4],
  ])('rejects %s', (_name, commandType) => {
    const payload = commandPayload({}, { type: commandType, name: 'Transcribe', options: undefined, target_id: USER_ID });
    expect(reasonOf(parse(payload))).toBe('not a chat command');
  });

  it.each(['token', 'id', 'application_id'])('rejects a payload without %s', (key) => {
    expect(reasonOf(parse(commandPayload({ [key]: undefined })))).toBe('missing id or token');
    expect(reasonOf(parse(commandPayload({ [key]: '' })))).toBe('missing id or token');
  });

  it('rejects a payload without any channel', () => {
    expect(reasonOf(parse(commandPayload({ channel: undefined, channel_id: undefined })))).toBe('no channel');
  });

  it.each([
    ['null', null],
    ['a string', 'INTERACTION_CREATE'],
    ['a command without data', { ...commandPayload(), data: undefined }],
  ])('rejects %s instead of throwing', (_name, payload) => {
    expect(() => parse(payload)).not.toThrow();
    expect(parse(payload).ok).toBe(false);
  });

  it.each([
    ['an options array holding null', { options: [null] }, 'malformed options'],
    ['options that are not an array', { options: { name: 'language' } }, 'malformed options'],
    ['an option without a string name', { options: [{ name: 7, type: 3, value: 'de' }] }, 'malformed options'],
    ['an option whose value is an object', { options: [{ name: 'language', type: 3, value: { de: true } }] }, 'malformed options'],
    ['a command name that is not a string', { name: null }, 'malformed command name'],
  ])('rejects %s with a reason and where to answer', (_name, data, reason) => {
    const result = parse(commandPayload({}, data));
    expect(result).toEqual({ ok: false, reason, answerTo: { interactionId: INTERACTION_ID, token: 'aW50ZXJhY3Rpb246MTE4MDAwMDAwMDAwMDAwMDAwNjpzZWNyZXQ' } });
  });

  it('rejects a member without a user object as malformed, and a channel object without an id falls back to channel_id', () => {
    expect(parse(commandPayload({ member: { user: null, permissions: '0' } }))).toMatchObject({ ok: false, reason: 'malformed member' });
    expect(parse(commandPayload({ member: 'alice' }))).toMatchObject({ ok: false, reason: 'malformed member' });
    const result = parse(commandPayload({ channel: { id: 42 } }));
    expect(result.ok && result.invocation.channelId).toBe(TEXT_CHANNEL_ID);
  });

  it('keeps only user fields of the documented types (a name is never an object)', () => {
    const payload = commandPayload();
    (payload.member as Json).nick = { evil: true };
    (payload.member as Json).user = { id: USER_ID, username: 'alice', global_name: 42, avatar: ['x'] };
    const result = parse(payload);
    if (!result.ok) throw new Error(`rejected: ${result.reason}`);
    expect(result.invocation.member).toEqual({ nick: null, user: { id: USER_ID, username: 'alice', discriminator: '0', global_name: null, avatar: null } });
  });

  it('does not offer an answer for payloads that are not ours to answer', () => {
    expect(parse(commandPayload({ type: 4 }))).toEqual({ ok: false, reason: 'not a command' });
    expect(parse(commandPayload({ token: undefined }, { options: [null] }))).toEqual({ ok: false, reason: 'missing id or token' });
  });
});
