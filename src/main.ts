import { mkdir } from 'node:fs/promises';
import { GatewayDispatchEvents } from '@discordjs/core';
import { loadConfig, ConfigError, type Config } from './config/Config.js';
import { createDiscordClient } from './gateway/createDiscordClient.js';
import { VoiceAdapterRegistry } from './gateway/VoiceAdapterRegistry.js';
import { CommandRouter } from './commands/CommandRouter.js';
import { createJoinCommand } from './commands/joinCommand.js';
import { createLeaveCommand } from './commands/leaveCommand.js';
import { createStatusCommand } from './commands/statusCommand.js';
import { createOptInCommand, createOptOutCommand } from './commands/optOutCommands.js';
import { createLanguageCommand, createPromptCommand } from './commands/guildSettingsCommands.js';
import { VoiceSessionManager } from './voice/VoiceSessionManager.js';
import { VoiceOccupancy } from './voice/VoiceOccupancy.js';
import { SessionAnnouncer } from './voice/SessionAnnouncer.js';
import { createTranscriptHandler } from './voice/SessionTranscripts.js';
import { settleUploads } from './voice/settleUploads.js';
import { createMessageWithFiles } from './voice/multipartMessage.js';
import { findLeftoverTranscripts } from './transcribe/TranscriptFile.js';
import { ChannelWebhooks } from './voice/ChannelWebhooks.js';
import { withNamePrefix } from './transcribe/formatLine.js';
import { SettingsStore } from './settings/SettingsStore.js';
import { PcmSlabPool } from './audio/PcmSlabPool.js';
import { DecoderPool } from './audio/DecoderPool.js';
import { SpeakerSegmenter } from './audio/SpeakerSegmenter.js';
import { TranscriptionClient } from './transcribe/TranscriptionClient.js';
import { TranscriptionPipeline } from './transcribe/TranscriptionPipeline.js';
import { Spool } from './transcribe/Spool.js';
import { SpoolDrainer } from './transcribe/SpoolDrainer.js';
import { ServiceFaultNotice } from './transcribe/ServiceFaultNotice.js';
import { HallucinationFilter } from './transcribe/HallucinationFilter.js';
import { ChannelPoster } from './transcribe/ChannelPoster.js';
import { HealthServer } from './health/HealthServer.js';
import { EventLoopMonitor } from './health/EventLoopMonitor.js';
import { GatewayReadiness } from './health/GatewayReadiness.js';
import { defineBotMetrics } from './health/botMetrics.js';
import { createLogger, type Logger } from './util/logger.js';
import { Metrics } from './util/Metrics.js';
import { systemClock } from './util/Clock.js';
import { installShutdown } from './util/shutdown.js';
import { installCrashHandlers } from './util/crashHandlers.js';
import { createDispatchGuard } from './gateway/guardDispatch.js';
import { describeStartupFailure } from './util/startupFailure.js';

/** Composition root: builds every object once, wires them, connects. No logic of its own. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tinyscribe cannot start.\n${error.message}\nSee README.md ("Run the bot") for every setting.\n`);
    process.exit(2);
  }
  try {
    await start(config);
  } catch (error) {
    // A rejected token or an unreachable Discord is a person's to fix: say what to do, without a stack.
    process.stderr.write(`${describeStartupFailure(error, config.discord.apiUrl)}\n`);
    process.exit(1);
  }
}

/** Builds and connects everything for a valid configuration. */
async function start(config: Config): Promise<void> {
  const clock = systemClock;
  const metrics = new Metrics();
  defineBotMetrics(metrics);
  const logger = createLogger({ level: config.logLevel, secrets: [config.discord.token, config.transcribe.apiKey ?? ''] });
  await mkdir(config.storage.spoolDir, { recursive: true });
  const processStartedAt = clock.now();
  const settings = await SettingsStore.open({ file: config.storage.settingsFile, logger });
  const occupancy = new VoiceOccupancy({ metrics });
  let botUserId: string | undefined;
  let applicationId: string | undefined;

  const discord = createDiscordClient({ token: config.discord.token, apiUrl: config.discord.apiUrl, logger });
  const api = discord.client.api;
  const adapters = new VoiceAdapterRegistry((_guildId, payload) => {
    Promise.resolve(discord.gateway.send(0, payload as Parameters<typeof discord.gateway.send>[1])).catch((error: unknown) =>
      logger.warn('op 4 failed', { error }),
    );
    return true;
  });
  const fetchMember = (guildId: string, userId: string) => api.guilds.getMember(guildId, userId);

  // Transcription: client → pipeline → (spool on failure, drained later) → poster.
  const transcriber = new TranscriptionClient({
    baseUrl: config.transcribe.baseUrl,
    apiKey: config.transcribe.apiKey,
    model: config.transcribe.model,
    responseFormat: config.transcribe.responseFormat,
    maxConnections: config.transcribe.maxConcurrentUploads,
    clock,
    metrics,
    logger: logger.child({ component: 'transcribe' }),
  });
  const filter = new HallucinationFilter();
  const isHallucination = (text: string, info: Parameters<HallucinationFilter['isHallucination']>[1]) => filter.isHallucination(text, info);
  const webhooks = new ChannelWebhooks(api, () => applicationId, logger);
  const poster = new ChannelPoster({
    send: async (channelId, content, author) => {
      if (author && (await webhooks.send(channelId, author, content))) return;
      const plain = author ? withNamePrefix(author.name, content) : content;
      await api.channels.createMessage(channelId, { content: plain, allowed_mentions: { parse: [] } });
    },
    clock,
    logger,
    metrics,
  });
  let sessions: VoiceSessionManager | undefined;
  const onTranscript = createTranscriptHandler({
    sessionOf: (sessionId) => sessions?.bySessionId(sessionId),
    isOptedOut: (userId) => settings.isOptedOut(userId),
    postLine: (channelId, line, author) => poster.post(channelId, line, author),
    fetchMember,
    logger,
  });
  // Messages are written for people and never carry a response body (failureText.ts); the details are in the logs.
  const onWarning = (message: string, warning: { code: string; segment?: { textChannelId: string } }): void => {
    logger.warn(message, { code: warning.code });
    if (warning.segment) void poster.post(warning.segment.textChannelId, `⚠️ ${message}`);
  };
  const spool = await Spool.open({ dir: config.storage.spoolDir, maxBytes: config.storage.spoolMaxBytes, metrics, logger, onWarning, clock });
  // One notice for drainer and pipeline: a rejected key is one episode, announced once per channel.
  const serviceNotice = new ServiceFaultNotice({ onWarning, logger: logger.child({ component: 'transcribe' }) });
  const drainer = new SpoolDrainer({ spool, transcriber, onTranscript, isHallucination, onWarning, serviceNotice, metrics, logger, clock });
  const pipeline = new TranscriptionPipeline({
    transcriber,
    spool,
    onTranscript,
    isHallucination,
    onWarning,
    serviceNotice,
    drainer,
    maxConcurrentUploads: config.transcribe.maxConcurrentUploads,
    metrics,
    logger,
    clock,
  });

  // Audio: one preallocated PCM pool and a bounded set of decoders for the whole process.
  const audioOptions = { poolBytes: config.audio.poolBytes, silenceGapMs: config.audio.silenceGapMs, maxSegmentMs: config.audio.maxSegmentMs };
  const pool = new PcmSlabPool(audioOptions, {
    metrics,
    onPressure: () => void pipeline.onPoolPressure((pool.lowWater - pool.freeCount + 1) * pool.slabBytes),
  });
  const decoders = new DecoderPool(undefined, audioOptions);
  let segmentIds = 0;
  const nextSegmentId = () => ++segmentIds;
  // Opted-out users are never subscribed; a segment sealed just as someone opted out is released unsent.
  const onSegment = (segment: Parameters<TranscriptionPipeline['submit']>[0]): void =>
    settings.isOptedOut(segment.meta.userId) ? segment.release() : pipeline.submit(segment);
  const shouldReceive = (userId: string, target: { guildId: string }): boolean =>
    !settings.isOptedOut(userId) && !(config.bot.ignoreBots && occupancy.isBot(target.guildId, userId));

  const announcer = new SessionAnnouncer({
    send: async (channelId, message) => {
      if (message.files?.length) await createMessageWithFiles(discord.rest, channelId, message.content, message.files);
      else await api.channels.createMessage(channelId, { content: message.content, allowed_mentions: { parse: [] } });
    },
    postLine: (channelId, line) => poster.post(channelId, line),
    ownNickname: async (guildId) => (botUserId ? ((await api.guilds.getMember(guildId, botUserId)).nick ?? null) : null),
    setNickname: async (guildId, nick) => void (await api.users.editCurrentGuildMember(guildId, { nick })),
    settle: () => settleUploads({ pending: () => pipeline.queued + pipeline.inFlight, postsIdle: () => poster.idle(), clock, maxMs: 30_000 }),
    clock,
    logger,
  });

  sessions = new VoiceSessionManager({
    adapterFor: (guildId) => adapters.creatorFor(guildId),
    fetchMember,
    clock,
    logger,
    metrics,
    transcriptDir: config.storage.transcriptDir,
    limits: {
      autoLeaveMs: config.bot.autoLeaveSeconds * 1000,
      maxSessionMs: config.bot.maxSessionMinutes * 60_000,
      silenceNoticeMs: config.bot.silenceNoticeSeconds * 1000,
    },
    humansIn: (guildId, channelId) => occupancy.humansIn(guildId, channelId),
    onSilence: (active, quietMs) => announcer.onSilence(active, quietMs),
    onClosed: async (active) => {
      await announcer.finish(active);
      webhooks.forget(active.session.target.textChannelId);
    },
    sessionDeps: {
      clock,
      logger,
      metrics,
      shouldReceive,
      createSink: (userId, target) =>
        new SpeakerSegmenter(
          {
            guildId: target.guildId,
            voiceChannelId: target.voiceChannelId,
            textChannelId: target.textChannelId,
            userId,
            sessionId: target.sessionId,
            ...(target.language ? { language: target.language } : {}),
            ...(target.prompt ? { prompt: target.prompt } : {}),
          },
          { pool, decoders, clock, metrics, logger, nextSegmentId, onSegment },
          audioOptions,
        ),
    },
  });

  const router = new CommandRouter({ api, clock, logger, metrics })
    .register(
      'join',
      createJoinCommand({
        api,
        sessions,
        settings,
        voiceChannelOf: (guildId, userId) => occupancy.channelOf(guildId, userId),
        sawInVoice: (guildId, userId, channelId) => occupancy.onVoiceStateUpdate({ guild_id: guildId, user_id: userId, channel_id: channelId }),
        botUserId: () => botUserId,
        transcriptionHost: new URL(config.transcribe.baseUrl).host,
        defaultLanguage: config.transcribe.language,
        defaultPrompt: config.transcribe.prompt,
        defaultPostMode: config.bot.postMode,
        postNotice: async (channelId, content) => void (await api.channels.createMessage(channelId, { content, allowed_mentions: { parse: [] } })),
        ...(config.bot.recordingNickname ? { markRecording: (guildId: string) => announcer.markRecording(guildId, 'tinyscribe') } : {}),
      }),
    )
    .register('leave', createLeaveCommand(sessions))
    .register(
      'status',
      createStatusCommand({
        sessions,
        clock,
        processStartedAt,
        segmentsPending: () => pipeline.queued + pipeline.inFlight,
        spoolDepth: () => spool.count,
        rssBytes: () => process.memoryUsage.rss(),
      }),
    )
    .register('optout', createOptOutCommand(settings, sessions))
    .register('optin', createOptInCommand(settings))
    .register('language', createLanguageCommand(settings))
    .register('prompt', createPromptCommand(settings));

  const readiness = new GatewayReadiness({ gateway: discord.gateway, metrics, clock, logger });
  // One odd gateway payload must cost a log line, not the process: every dispatch listener is guarded.
  const guarded = createDispatchGuard({ logger, metrics });
  discord.client.on(GatewayDispatchEvents.Ready, guarded(GatewayDispatchEvents.Ready, ({ data }) => {
    adapters.setBotUserId(data.user.id);
    occupancy.setBotUserId(data.user.id);
    botUserId = data.user.id;
    applicationId = data.application.id;
    logger.info('gateway ready', { user: data.user.username, guilds: data.guilds.length });
  }));
  discord.client.on(GatewayDispatchEvents.GuildCreate, guarded(GatewayDispatchEvents.GuildCreate, ({ data }) => occupancy.onGuildCreate(data)));
  discord.client.on(GatewayDispatchEvents.VoiceStateUpdate, guarded(GatewayDispatchEvents.VoiceStateUpdate, ({ data }) => {
    adapters.onVoiceStateUpdate(data);
    occupancy.onVoiceStateUpdate(data);
    sessions?.onVoiceStateUpdate(data.guild_id, data.user_id, data.channel_id);
    if (data.guild_id && data.member) sessions?.get(data.guild_id)?.names.remember(data.user_id, data.member);
  }));
  discord.client.on(GatewayDispatchEvents.VoiceServerUpdate, guarded(GatewayDispatchEvents.VoiceServerUpdate, ({ data }) => adapters.onVoiceServerUpdate(data)));
  discord.client.on(GatewayDispatchEvents.InteractionCreate, guarded(GatewayDispatchEvents.InteractionCreate, ({ data }) => router.handle(data)));

  const loopMonitor = new EventLoopMonitor({ onStall: (gapMs) => (metrics.inc('event_loop_stalls_total'), logger.warn('event loop stalled', { gapMs })) });
  const health =
    config.healthPort === undefined
      ? undefined
      : new HealthServer({
          port: config.healthPort,
          metrics,
          logger,
          isHealthy: () => (loopMonitor.isStalled() ? { healthy: false, reason: 'event loop stalled' } : readiness.verdict()),
        });
  if (health) logger.info('health listening', { port: await health.listen() });

  const shutdown = installShutdown({
    logger,
    deadlineMs: 30_000,
    steps: [
      ['stop commands', async () => (readiness.stop(), router.stopAccepting())],
      ['leave voice', async () => sessions?.stopAll('shutdown')],
      ['finish uploads', () => pipeline.close(20_000)],
      ['stop drainer', () => drainer.close(3_000)],
      ['post remaining lines', () => poster.idle()],
      ['post transcript files', async () => { await sessions?.finished(); await settings.close(); }],
      ['close spool', () => spool.close()],
      ['disconnect', async () => { adapters.destroyAll(); await discord.gateway.destroy(); }],
      ['close client', () => transcriber.close()],
      ['close health', async () => { loopMonitor.close(); await health?.close(); }],
    ],
  });
  // After an uncaught error: log it, then the same orderly shutdown (segments in flight are spooled), exit 1.
  installCrashHandlers({ logger, shutdown });

  // Transcripts a crash left behind are posted now (REST needs no gateway), before new sessions write theirs.
  const leftovers = await findLeftoverTranscripts(config.storage.transcriptDir, logger);
  await discord.gateway.connect();
  drainer.start();
  void announcer.postLeftovers(leftovers, 'tinyscribe');
  logger.info('tinyscribe started', { spooled: spool.count, poolSlabs: pool.slabCount });
}

void main().catch((error: unknown) => {
  process.stderr.write(`${describeStartupFailure(error, undefined)}\n`);
  process.exit(1);
});

export type { Logger };
