import { describe, expect, it } from 'vitest';
import { VoiceOccupancy } from '../../src/voice/VoiceOccupancy.js';
import { Metrics } from '../../src/util/Metrics.js';

/** GUILD_CREATE payloads as they come off the wire: JSON, whatever the types promise. */
const wire = (payload: unknown): unknown => JSON.parse(JSON.stringify(payload));

describe('VoiceOccupancy with malformed gateway payloads', () => {
  it('skips and counts member and voice-state entries without the fields used, keeping the good ones', () => {
    const metrics = new Metrics();
    const o = new VoiceOccupancy({ metrics });
    o.onGuildCreate(
      wire({
        id: 'g',
        members: [null, 7, { user: null }, { user: { id: 42, bot: true } }, { user: { id: 'b', bot: true } }],
        voice_states: [null, 'x', { channel_id: 'v' }, { user_id: 'a', channel_id: 5 }, { user_id: 'a', channel_id: 'v' }, { user_id: 'b', channel_id: 'v' }],
      }),
    );
    expect(o.humansIn('g', 'v')).toBe(1);
    expect(o.channelOf('g', 'a')).toBe('v');
    expect(o.isBot('g', 'b')).toBe(true);
    expect(metrics.get('gateway_entries_skipped_total')).toBe(8);
  });

  it('takes a GUILD_CREATE that is not an object, has no id, or has non-array lists without throwing', () => {
    const metrics = new Metrics();
    const o = new VoiceOccupancy({ metrics });
    for (const payload of [null, 'guild', { members: [] }, { id: 'g', members: { 0: null }, voice_states: 'none' }]) {
      expect(() => o.onGuildCreate(wire(payload))).not.toThrow();
    }
    expect(o.humansIn('g', 'v')).toBe(0);
    expect(metrics.get('gateway_entries_skipped_total')).toBe(3);
  });

  it('skips a VOICE_STATE_UPDATE without a usable user or channel id, and ignores a member that is not an object', () => {
    const metrics = new Metrics();
    const o = new VoiceOccupancy({ metrics });
    o.onVoiceStateUpdate(wire({ guild_id: 'g', user_id: null, channel_id: 'v' }) as never);
    o.onVoiceStateUpdate(wire({ guild_id: 'g', user_id: 'a', channel_id: { id: 'v' } }) as never);
    expect(metrics.get('gateway_entries_skipped_total')).toBe(2);
    o.onVoiceStateUpdate(wire({ guild_id: 'g', user_id: 'a', channel_id: 'v', member: 'not a member' }) as never);
    expect(o.humansIn('g', 'v')).toBe(1);
  });
});
