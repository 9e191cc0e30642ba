import { describe, expect, it } from 'vitest';
import { SessionGuard, type GuardEndReason } from '../../src/voice/SessionGuard.js';
import { VoiceOccupancy } from '../../src/voice/VoiceOccupancy.js';
import { ManualClock } from '../util/ManualClock.js';

function guard(humans: { n: number }, clock: ManualClock) {
  const ends: GuardEndReason[] = [];
  const notices: number[] = [];
  const g = new SessionGuard({
    clock,
    humans: () => humans.n,
    autoLeaveMs: 5_000,
    maxSessionMs: 60_000,
    silenceNoticeMs: 20_000,
    onEnd: (r) => ends.push(r),
    onSilence: (ms) => notices.push(ms),
  });
  g.start();
  return { g, ends, notices };
}

describe('SessionGuard', () => {
  it('ends the session after the channel has had no human for autoLeaveMs, not before', () => {
    const clock = new ManualClock();
    const humans = { n: 1 };
    const { ends } = guard(humans, clock);
    clock.advance(10_000);
    humans.n = 0;
    clock.advance(4_000);
    expect(ends).toEqual([]);
    humans.n = 1; // someone came back: the count starts over
    clock.advance(2_000);
    humans.n = 0;
    clock.advance(4_000);
    expect(ends).toEqual([]);
    clock.advance(2_000);
    expect(ends).toEqual(['empty']);
    clock.advance(20_000);
    expect(ends).toEqual(['empty']);
  });

  it('ends at the maximum length, and notices silence once per quiet stretch', () => {
    const clock = new ManualClock();
    const { g, ends, notices } = guard({ n: 2 }, clock);
    clock.advance(19_000);
    expect(notices).toEqual([]);
    clock.advance(1_000);
    expect(notices).toEqual([20_000]);
    clock.advance(10_000);
    expect(notices).toHaveLength(1);
    g.heard();
    clock.advance(20_000);
    expect(notices).toHaveLength(2);
    clock.advance(10_000);
    expect(ends).toEqual(['max-length']);
  });
});

describe('VoiceOccupancy', () => {
  it('counts humans per channel from GUILD_CREATE and VOICE_STATE_UPDATE, never bots or us', () => {
    const o = new VoiceOccupancy();
    o.setBotUserId('99');
    o.onGuildCreate({
      id: 'g',
      members: [{ user: { id: '3', bot: true } }] as never,
      voice_states: [
        { user_id: '1', channel_id: 'v' },
        { user_id: '3', channel_id: 'v' },
        { user_id: '99', channel_id: 'v' },
      ] as never,
    });
    expect(o.humansIn('g', 'v')).toBe(1);
    expect(o.isBot('g', '3')).toBe(true);
    o.onVoiceStateUpdate({ guild_id: 'g', user_id: '2', channel_id: 'v', member: { user: { id: '2' } } as never });
    expect(o.humansIn('g', 'v')).toBe(2);
    o.onVoiceStateUpdate({ guild_id: 'g', user_id: '1', channel_id: 'w' });
    expect([o.humansIn('g', 'v'), o.humansIn('g', 'w'), o.channelOf('g', '1')]).toEqual([1, 1, 'w']);
    o.onVoiceStateUpdate({ guild_id: 'g', user_id: '2', channel_id: null });
    expect(o.humansIn('g', 'v')).toBe(0);
    expect(o.humansIn('other', 'v')).toBe(0);
  });
});
