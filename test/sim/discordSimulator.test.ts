import { existsSync } from 'node:fs';
import tls from 'node:tls';
import { Client, GatewayDispatchEvents, GatewayIntentBits, type APIGuildMember, type GatewayGuildCreateDispatchData } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import {
  entersState,
  joinVoiceChannel,
  VoiceConnectionStatus,
  type DiscordGatewayAdapterCreator,
  type VoiceConnection,
} from '@discordjs/voice';
import { WebSocketManager, WebSocketShardEvents, type SessionInfo } from '@discordjs/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordSimulator, readRtpHeader, SILENCE_FRAME, type PacketShape, type VoiceEncryptionMode } from './discord/index.js';

// Proves the simulator against the UNMODIFIED @discordjs libraries, in-process: REST, gateway (identify, READY,
// GUILD_CREATE, resume), voice gateway over TLS, UDP discovery and byte-exact Opus through receiver.subscribe().

interface Bot {
  readonly rest: REST;
  readonly gateway: WebSocketManager;
  readonly client: Client;
  readonly guildCreates: GatewayGuildCreateDispatchData[];
  readonly interactions: { id: string; token: string; applicationId: string }[];
  readyUserId: string | undefined;
}

/** REST + one-shard gateway + core client pointed at the simulator. The session store is per bot, not module-global. */
function createBot(sim: DiscordSimulator): Bot {
  const rest = new REST({ api: sim.apiUrl, version: '10' }).setToken(sim.token);
  const sessions = new Map<number, SessionInfo>();
  const gateway = new WebSocketManager({
    token: sim.token,
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates,
    rest,
    retrieveSessionInfo: (shardId) => sessions.get(shardId) ?? null,
    updateSessionInfo: (shardId, info) => {
      if (info) sessions.set(shardId, info);
      else sessions.delete(shardId);
    },
  });
  const client = new Client({ rest, gateway });
  const bot: Bot = { rest, gateway, client, guildCreates: [], interactions: [], readyUserId: undefined };
  client.on(GatewayDispatchEvents.Ready, ({ data }) => {
    bot.readyUserId = data.user.id;
  });
  client.on(GatewayDispatchEvents.GuildCreate, ({ data }) => {
    bot.guildCreates.push(data);
  });
  client.on(GatewayDispatchEvents.InteractionCreate, ({ data }) => {
    bot.interactions.push({ id: data.id, token: data.token, applicationId: data.application_id });
  });
  return bot;
}

/** The smallest correct voice adapter for core: op 4 through the shard, our own two dispatches back in. */
function adapterFor(bot: Bot, guildId: string, botUserId: string): DiscordGatewayAdapterCreator {
  return (methods) => {
    const onState = ({ data }: { data: Parameters<typeof methods.onVoiceStateUpdate>[0] }) => {
      if (data.guild_id === guildId && data.user_id === botUserId) methods.onVoiceStateUpdate(data);
    };
    const onServer = ({ data }: { data: Parameters<typeof methods.onVoiceServerUpdate>[0] }) => {
      if (data.guild_id === guildId) methods.onVoiceServerUpdate(data);
    };
    bot.client.on(GatewayDispatchEvents.VoiceStateUpdate, onState);
    bot.client.on(GatewayDispatchEvents.VoiceServerUpdate, onServer);
    return {
      sendPayload: (payload) => {
        void bot.gateway.send(0, payload);
        return true;
      },
      destroy: () => {
        bot.client.off(GatewayDispatchEvents.VoiceStateUpdate, onState);
        bot.client.off(GatewayDispatchEvents.VoiceServerUpdate, onServer);
      },
    };
  };
}

/** 48 kHz stereo interleaved sine, `frames` × 20 ms. */
function tone(frames: number, hz: number): Int16Array {
  const samples = frames * 960;
  const pcm = new Int16Array(samples * 2);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * hz * i) / 48_000) * 8000);
    pcm[2 * i] = v;
    pcm[2 * i + 1] = v;
  }
  return pcm;
}

describe('DiscordSimulator with the real @discordjs libraries', () => {
  let sim: DiscordSimulator;
  let bot: Bot;

  beforeAll(async () => {
    sim = await DiscordSimulator.start();
    // Trust the throwaway certificate for this process only; verification stays on.
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), sim.caCert]);
    bot = createBot(sim);
    await bot.gateway.connect();
    await sim.waitFor(() => bot.guildCreates.length > 0, 5_000, 'GUILD_CREATE at the client');
  });

  afterAll(async () => {
    await bot?.gateway.destroy();
    await sim?.close();
  });

  it('serves /gateway/bot, takes IDENTIFY with intents 129, and delivers READY and GUILD_CREATE', () => {
    expect(sim.records.rest.some((r) => r.route === '/gateway/bot' && r.status === 200)).toBe(true);
    expect(sim.records.identifies).toHaveLength(1);
    const identify = sim.records.identifies[0]!;
    expect(identify).toMatchObject({ intents: 129, tokenValid: true, shard: [0, 1], rejectedWith: undefined });
    // the token never reaches the records
    expect(JSON.stringify(sim.records.gatewayOps)).not.toContain(sim.token);
    expect(bot.readyUserId).toBe(sim.botUserId);

    const guild = bot.guildCreates[0]!;
    expect(guild.id).toBe(sim.guild.id);
    expect(guild.channels.map((c) => c.id)).toEqual(expect.arrayContaining([sim.guild.textChannelId, sim.guild.voiceChannelId]));
    const byId = new Map<string, APIGuildMember>(guild.members.map((m) => [m.user.id, m]));
    expect(byId.get(sim.members.alice)).toMatchObject({ nick: 'Ally', user: { username: 'alice', global_name: 'Alice Liddell' } });
    expect(byId.get(sim.members.bob)).toMatchObject({ nick: null, user: { username: 'bob', global_name: 'Bobby Tables' } });
    expect(byId.get(sim.members.carol)).toMatchObject({ nick: null, user: { username: 'carol', global_name: null } });
    for (const id of [sim.guild.id, sim.members.alice, sim.members.carol, sim.botUserId]) expect(id).toMatch(/^\d{17,19}$/);
    expect(sim.records.dispatches.slice(0, 2).map((d) => [d.t, d.s])).toEqual([['READY', 1], ['GUILD_CREATE', 2]]);
  });

  it('records channel messages sent as JSON and as multipart with files', async () => {
    const json = await bot.client.api.channels.createMessage(sim.guild.textChannelId, { content: 'hello', allowed_mentions: { parse: [] } });
    expect(json.content).toBe('hello');
    const file = Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n');
    await bot.client.api.channels.createMessage(sim.guild.textChannelId, {
      content: 'transcript attached',
      files: [{ name: 'transcript.vtt', data: file }],
    });
    const [first, second] = sim.records.messages.slice(-2);
    expect(first).toMatchObject({ channelId: sim.guild.textChannelId, content: 'hello', allowedMentions: { parse: [] }, multipart: false });
    expect(second).toMatchObject({ content: 'transcript attached', multipart: true });
    expect(second!.files.map((f) => [f.field, f.name])).toEqual([['files[0]', 'transcript.vtt']]);
    expect(second!.files[0]!.data.equals(file)).toBe(true);
  });

  it('answers 429 with Retry-After, and @discordjs/rest waits before the retry succeeds', async () => {
    sim.rateLimitNext(/^\/channels\/\d+\/messages$/, 1);
    const before = sim.records.rest.length;
    await bot.client.api.channels.createMessage(sim.guild.textChannelId, { content: 'after the limit' });
    const attempts = sim.records.rest.slice(before).filter((r) => r.route === '/channels/:channelId/messages');
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(sim.records.messages.at(-1)!.content).toBe('after the limit');
  });

  it('answers like Discord on errors and injected faults (404, 401, failNext, delayNext, validation)', async () => {
    await expect(bot.rest.get('/nowhere/at/all')).rejects.toMatchObject({ status: 404, code: 0 });
    expect(sim.records.rest.at(-1)).toMatchObject({ route: 'unknown', status: 404, injected: 'notFound' });

    const stranger = new REST({ api: sim.apiUrl, version: '10' }).setToken('wrong-token');
    await expect(stranger.get('/users/@me')).rejects.toMatchObject({ status: 401 });
    expect(sim.records.rest.at(-1)).toMatchObject({ route: '/users/@me', status: 401, injected: 'auth' });

    sim.failNext(/POST \/channels\/\d+\/messages/, 403, { code: 50001, message: 'Missing Access' });
    await expect(bot.client.api.channels.createMessage(sim.guild.textChannelId, { content: 'x' })).rejects.toMatchObject({ status: 403, code: 50001 });

    sim.delayNext(/^\/channels\/\d+$/, 150);
    const started = performance.now();
    const channel = await bot.client.api.channels.get(sim.guild.voiceChannelId);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(channel).toMatchObject({ id: sim.guild.voiceChannelId, type: 2 });

    await expect(bot.client.api.channels.createMessage(sim.guild.textChannelId, { content: 'a'.repeat(2001) })).rejects.toMatchObject({ code: 50035 });
    await expect(bot.client.api.channels.createMessage(sim.guild.textChannelId, {})).rejects.toMatchObject({ code: 50006 });
    const carol = await bot.client.api.guilds.getMember(sim.guild.id, sim.members.carol);
    expect(carol).toMatchObject({ nick: null, user: { username: 'carol', global_name: null } });
    await expect(bot.client.api.guilds.getMember(sim.guild.id, '123456789012345678')).rejects.toMatchObject({ code: 10007 });
  });

  it('dispatches VOICE_STATE_UPDATE with member for setVoiceState', async () => {
    const seen: { userId: string; channelId: string | null; nick: string | null | undefined }[] = [];
    const listener = ({ data }: { data: { user_id: string; channel_id: string | null; member?: { nick?: string | null } } }) => {
      seen.push({ userId: data.user_id, channelId: data.channel_id, nick: data.member?.nick });
    };
    bot.client.on(GatewayDispatchEvents.VoiceStateUpdate, listener);
    try {
      sim.setVoiceState(sim.guild.id, sim.members.alice, sim.guild.voiceChannelId, { selfMute: true });
      sim.setVoiceState(sim.guild.id, sim.members.alice, null);
      await sim.waitFor(() => seen.length >= 2, 2_000, 'two VOICE_STATE_UPDATEs');
      expect(seen).toEqual([
        { userId: sim.members.alice, channelId: sim.guild.voiceChannelId, nick: 'Ally' },
        { userId: sim.members.alice, channelId: null, nick: 'Ally' },
      ]);
    } finally {
      bot.client.off(GatewayDispatchEvents.VoiceStateUpdate, listener);
    }
  });

  it('delivers INTERACTION_CREATE that core can defer and edit', async () => {
    const { id, token } = sim.injectInteraction({ userId: sim.members.bob, name: 'transcribe', options: [{ name: 'action', type: 3, value: 'start' }] });
    const received = await sim.waitFor(() => bot.interactions.find((i) => i.id === id), 3_000, 'INTERACTION_CREATE');
    expect(received).toEqual({ id, token, applicationId: sim.applicationId });
    await bot.client.api.interactions.defer(id, token);
    await bot.client.api.interactions.editReply(sim.applicationId, token, { content: 'Transcribing.' });
    expect(sim.records.interactionCallbacks.at(-1)).toMatchObject({ interactionId: id, type: 5 });
    expect(sim.records.webhookMessages.at(-1)).toMatchObject({ kind: 'editOriginal', interactionId: id, content: 'Transcribing.' });
    // a second acknowledgement is refused like on Discord
    await expect(bot.client.api.interactions.defer(id, token)).rejects.toThrow(/already been acknowledged/);
  });

  /** Joins voice, plays each shape from alice and checks the subscription gets the exact Opus frames. */
  async function voiceRoundTrip(expectedMode: VoiceEncryptionMode): Promise<void> {
    const connection: VoiceConnection = joinVoiceChannel({
      guildId: sim.guild.id,
      channelId: sim.guild.voiceChannelId,
      adapterCreator: adapterFor(bot, sim.guild.id, sim.botUserId),
      selfDeaf: false,
    });
    try {
      await entersState(connection, VoiceConnectionStatus.Ready, 10_000);
      expect(sim.records.voiceReady.at(-1)).toMatchObject({ guildId: sim.guild.id, mode: expectedMode });
      const identify = sim.records.voiceOps.filter((o) => o.op === 0).at(-1)!;
      expect((identify.d as { max_dave_protocol_version: number }).max_dave_protocol_version).toBeGreaterThanOrEqual(1);
      expect(sim.records.voiceOps.filter((o) => o.op === 1).at(-1)!.d).toMatchObject({ protocol: 'udp', data: { mode: expectedMode } });

      const received: Buffer[] = [];
      const stream = connection.receiver.subscribe(sim.members.alice);
      stream.on('data', (chunk: Buffer) => received.push(chunk));
      const streamErrors: Error[] = [];
      stream.on('error', (error) => streamErrors.push(error));
      const speaking: string[] = [];
      connection.receiver.speaking.on('start', (userId) => speaking.push(userId));

      const alice = sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice });
      for (const shape of ['plain', 'extension', 'padding'] satisfies PacketShape[]) {
        received.length = 0;
        const result = await alice.play(tone(8, 440), { shape });
        expect(result.counts.sent).toBe(13);
        expect(result.sent.every((p) => p.layout.extension === (shape === 'extension'))).toBe(true);
        expect(result.sent.every((p) => (p.layout.paddingLength > 0) === (shape === 'padding'))).toBe(true);
        await sim.waitFor(() => received.length >= result.sentOpus.length, 2_000, `${shape} frames at the subscriber`);
        expect(received.map((b) => b.toString('hex'))).toEqual(result.sentOpus.map((b) => b.toString('hex')));
        expect(received.slice(-5).every((b) => b.equals(SILENCE_FRAME))).toBe(true);
        // real-time pacing: 13 packets span 12 × 20 ms
        expect(result.endedAt - result.startedAt).toBeGreaterThanOrEqual(235);
      }
      expect(streamErrors).toEqual([]);
      expect(speaking).toContain(sim.members.alice);
      stream.destroy();
    } finally {
      connection.destroy();
    }
    await sim.waitFor(() => sim.records.voiceStateRequests.at(-1)?.channelId === null, 3_000, 'op 4 leave');
  }

  it('reaches voice Ready with aead_aes256_gcm_rtpsize offered first and receives exact Opus frames', async () => {
    sim.setVoiceModes(['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize']);
    await voiceRoundTrip('aead_aes256_gcm_rtpsize');
    expect(sim.records.voiceStateRequests[0]).toMatchObject({ guildId: sim.guild.id, channelId: sim.guild.voiceChannelId, selfDeaf: false });
    expect(sim.records.discoveries.length).toBeGreaterThanOrEqual(1);
  });

  it('reaches voice Ready with aead_xchacha20_poly1305_rtpsize offered first (strict DAVE on) and receives exact Opus frames', async () => {
    sim.setVoiceModes(['aead_xchacha20_poly1305_rtpsize', 'aead_aes256_gcm_rtpsize']);
    sim.setStrictDave(true); // the default client advertises DAVE, so strict mode lets it in
    try {
      await voiceRoundTrip('aead_xchacha20_poly1305_rtpsize');
    } finally {
      sim.setStrictDave(false);
    }
  });

  it('delivers speaker faults to the real receiver as designed (mapping, SSRC change, gaps, loss, jitter, corrupt, bad tag, wraps)', async () => {
    sim.setVoiceModes(['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize']);
    const connection = joinVoiceChannel({
      guildId: sim.guild.id,
      channelId: sim.guild.voiceChannelId,
      adapterCreator: adapterFor(bot, sim.guild.id, sim.botUserId),
      selfDeaf: false,
    });
    try {
      await entersState(connection, VoiceConnectionStatus.Ready, 10_000);
      // Tap the client's UDP socket to see the RTP headers that arrive (the header is not encrypted).
      const headers: ReturnType<typeof readRtpHeader>[] = [];
      const state = connection.state;
      if (state.status !== VoiceConnectionStatus.Ready || !('udp' in state.networking.state)) throw new Error('no UDP socket');
      state.networking.state.udp.prependListener('message', (message: Buffer) => headers.push(readRtpHeader(message)));

      const received: Buffer[] = [];
      const errors: Error[] = [];
      const subscribe = () => {
        received.length = 0;
        const stream = connection.receiver.subscribe(sim.members.bob);
        stream.on('data', (chunk: Buffer) => received.push(chunk));
        stream.on('error', (error) => errors.push(error));
        return stream;
      };
      let stream = subscribe();
      const bob = sim.speaker({ guildId: sim.guild.id, userId: sim.members.bob, announce: 'manual', ssrc: 0x01020304 });

      // 1. packets before the op 5 mapping never reach the subscriber
      const unmapped = await bob.play(tone(3, 300), { shape: 'plain', silenceFrames: 0 });
      expect(unmapped.counts.sent).toBe(3);
      await sim.waitFor(() => headers.filter((h) => h.ssrc === 0x01020304).length === 3, 1_000, 'unmapped datagrams at the client');
      expect(received).toHaveLength(0);

      // 2. after announce() they do; sequence and timestamp wrap on the wire
      await bob.announce();
      expect(connection.receiver.ssrcMap.get(0x01020304)?.userId).toBe(sim.members.bob);
      headers.length = 0;
      const wrapped = await bob.play(tone(4, 300), { shape: 'mixed', seqStart: 0xfffe, timestampStart: 0xffffffff - 959 });
      await sim.waitFor(() => received.length >= wrapped.sentOpus.length && headers.length >= 4, 2_000, 'frames after announce');
      expect(received.map((b) => b.toString('hex'))).toEqual(wrapped.sentOpus.map((b) => b.toString('hex')));
      expect(headers.slice(0, 4).map((h) => h.sequence)).toEqual([0xfffe, 0xffff, 0, 1]);
      expect(headers.slice(0, 3).map((h) => h.timestamp)).toEqual([0xffffffff - 959, 0, 960]);

      // 3. SSRC change: op 13 removes the old mapping, op 5 adds the new one
      const newSsrc = await bob.rejoin(0x0a0b0c0d);
      expect(connection.receiver.ssrcMap.get(0x01020304)).toBeUndefined();
      expect(connection.receiver.ssrcMap.get(newSsrc)?.userId).toBe(sim.members.bob);

      // 4. sender gaps, loss, a timestamp jump, a corrupt payload and jitter: exactly the sent packets arrive, in send order
      received.length = 0;
      headers.length = 0;
      const faulty = await bob.play(tone(12, 500), {
        shape: 'extension',
        dropFrames: new Set([2, 3]),
        lossPercent: 20,
        seed: 7,
        jitterMs: 80,
        corruptAt: new Set([5]),
        timestampJumpAt: { frame: 8, jumpSamples: 48_000 },
      });
      expect(faulty.counts.dropped).toBe(2);
      expect(faulty.counts.lost).toBeGreaterThan(0);
      await sim.waitFor(() => received.length >= faulty.sentOpus.length, 2_000, 'faulty frames');
      await new Promise((resolve) => setTimeout(resolve, 60)); // nothing extra may arrive
      expect(received.map((b) => b.toString('hex'))).toEqual(faulty.sentOpus.map((b) => b.toString('hex')));
      expect(faulty.sent.map((p) => p.index)).not.toEqual([...faulty.sent.map((p) => p.index)].sort((a, b) => a - b));
      expect(faulty.packets[5]!.opus).toHaveLength(40);
      const sequences = faulty.packets.filter((p) => p.sequence !== null).map((p) => p.sequence!);
      expect(sequences.every((seq, i) => i === 0 || seq === ((sequences[i - 1]! + 1) & 0xffff))).toBe(true);
      expect(faulty.packets[8]!.timestamp - faulty.packets[7]!.timestamp).toBe(960 + 48_000);
      expect(faulty.packets[4]!.timestamp - faulty.packets[1]!.timestamp).toBe(3 * 960);

      // 5. a bad tag destroys the subscription with the decryption error
      const headersBefore = headers.length;
      const bad = await bob.play(tone(4, 300), { shape: 'plain', badTagAt: new Set([2]), silenceFrames: 0 });
      await sim.waitFor(() => errors.length > 0 && headers.length >= headersBefore + 4, 2_000, 'stream error');
      expect(received.slice(-2).map((b) => b.toString('hex'))).toEqual(bad.sentOpus.slice(0, 2).map((b) => b.toString('hex')));
      expect(stream.destroyed).toBe(true);

      // 6. voice socket closed with 4015: the client resumes (op 7 → op 9), keeps key and mapping, audio flows again
      stream = subscribe();
      const opsBefore = sim.records.voiceOps.length;
      sim.closeVoice(sim.guild.id, 4015, 'simulated crash');
      await sim.waitFor(() => sim.records.voiceOps.slice(opsBefore).some((o) => o.op === 7), 3_000, 'voice RESUME');
      expect(sim.records.voiceOps.slice(opsBefore).find((o) => o.op === 7)!.d).toMatchObject({ server_id: sim.guild.id, token: '[redacted]' });
      await sim.waitFor(
        () => connection.state.status === VoiceConnectionStatus.Ready && connection.state.networking.state.code === 4,
        3_000,
        'networking Ready after resume',
      );
      const afterResume = await bob.play(tone(3, 300), { shape: 'plain' });
      await sim.waitFor(() => received.length >= afterResume.sentOpus.length, 2_000, 'frames after voice resume');
      expect(received.map((b) => b.toString('hex'))).toEqual(afterResume.sentOpus.map((b) => b.toString('hex')));
      expect(sim.records.voiceOps.slice(opsBefore).some((o) => o.op === 0)).toBe(false);
      stream.destroy();
    } finally {
      connection.destroy();
    }
    await sim.waitFor(() => sim.records.voiceStateRequests.at(-1)?.channelId === null, 3_000, 'op 4 leave');
  });

  it('closes a client created with daveEncryption: false with 4017 in strict mode', async () => {
    sim.setStrictDave(true);
    const closesBefore = sim.records.voiceCloses.length;
    const connection = joinVoiceChannel({
      guildId: sim.guild.id,
      channelId: sim.guild.voiceChannelId,
      adapterCreator: adapterFor(bot, sim.guild.id, sim.botUserId),
      selfDeaf: false,
      daveEncryption: false,
    });
    try {
      const close = await sim.waitFor(() => sim.records.voiceCloses.slice(closesBefore).find((c) => c.code === 4017), 5_000, 'close 4017');
      expect(close).toMatchObject({ guildId: sim.guild.id, initiatedBy: 'server' });
      const identify = sim.records.voiceOps.filter((o) => o.op === 0).at(-1)!;
      expect(identify.d).toMatchObject({ max_dave_protocol_version: 0, token: '[redacted]' });
    } finally {
      connection.destroy();
      sim.setStrictDave(false);
    }
    await sim.waitFor(() => sim.records.voiceStateRequests.at(-1)?.channelId === null, 3_000, 'op 4 leave');
  });

  it('resumes after a gateway drop and replays what was dispatched meanwhile', async () => {
    const resumed = new Promise<void>((resolve) => bot.gateway.once(WebSocketShardEvents.Resumed, () => resolve()));
    const seqBefore = sim.records.dispatches.at(-1)!.s;
    sim.dropGateway();
    await sim.waitFor(() => sim.records.gatewayCloses.at(-1)?.code === 4000, 2_000, 'the drop');
    // dispatched while the bot is disconnected: must arrive through the replay
    const { id } = sim.injectInteraction({ userId: sim.members.carol, name: 'transcribe' });
    await resumed;
    expect(sim.records.gatewayOps.some((o) => o.op === 6)).toBe(true);
    const resume = sim.records.resumes.at(-1)!;
    expect(resume).toMatchObject({ accepted: true, seq: seqBefore });
    const missed = sim.records.dispatches.filter((d) => d.s > seqBefore && d.t !== 'RESUMED');
    expect(missed.map((d) => d.t)).toContain('INTERACTION_CREATE');
    expect(resume.replayed).toBe(missed.length);
    expect(sim.records.dispatches.at(-1)!.t).toBe('RESUMED');
    await sim.waitFor(() => bot.interactions.some((i) => i.id === id), 2_000, 'replayed INTERACTION_CREATE');
    expect(sim.records.identifies).toHaveLength(1);

    // op 7 RECONNECT: the client closes with 4200 and resumes too
    const resumes = sim.records.resumes.length;
    const resumedAgain = new Promise<void>((resolve) => bot.gateway.once(WebSocketShardEvents.Resumed, () => resolve()));
    sim.sendReconnect();
    await resumedAgain;
    expect(sim.records.gatewayCloses.at(-1)).toMatchObject({ code: 4200, initiatedBy: 'client' });
    expect(sim.records.resumes.slice(resumes)).toMatchObject([{ accepted: true, replayed: 0 }]);
    expect(sim.records.identifies).toHaveLength(1);
  });
});

describe('DiscordSimulator bulk login', () => {
  it('delivers 1,000 realistic GUILD_CREATEs to @discordjs/ws, then closes every server', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'UDPWrap').length;
    const serversBefore = servers();
    const sim = await DiscordSimulator.start({ bulkGuilds: 1000 });
    expect(servers()).toBe(serversBefore + 4); // REST, gateway, voice (TLS), UDP
    const bot = createBot(sim);
    try {
      const started = performance.now();
      await bot.gateway.connect();
      await sim.waitFor(() => bot.guildCreates.length === 1001, 20_000, '1,001 GUILD_CREATEs');
      const elapsed = performance.now() - started;
      const sample = bot.guildCreates[500]!;
      expect(sample.channels).toHaveLength(50);
      expect(sample.roles).toHaveLength(31);
      expect(sample.emojis).toHaveLength(20);
      expect(sample.voice_states).toHaveLength(3);
      // large guild (250 > large_threshold 50): only the bot and the members in voice are listed
      expect(sample).toMatchObject({ large: true, member_count: 250 });
      expect(sample.members).toHaveLength(4);
      const bytes = bot.guildCreates.reduce((sum, g) => sum + JSON.stringify(g).length, 0);
      expect(bytes / 1001).toBeGreaterThan(15_000);
      expect(elapsed).toBeLessThan(15_000);
    } finally {
      await bot.gateway.destroy();
      await sim.close();
    }
    expect(servers()).toBe(serversBefore);
    expect(existsSync(sim.caCertPath)).toBe(false);
  });
});
