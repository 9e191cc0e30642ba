// The usual discord.js transcription bot: the memory benchmark's reference, NOT part of tinyscribe.
//
// Written the way most guides and bots do it, on purpose: a discord.js Client with its default caches,
// @discordjs/voice's receiver with an AfterSilence end, prism-media's Opus decoder at 48 kHz stereo,
// each utterance collected with Buffer.concat, and the upload built with FormData and a Blob on the
// global fetch. No retry and no spool: an upload that fails is logged and the words are gone.
//
// Same contract as tinyscribe so the benchmark (bench/lib/launchBot.ts) can swap it in: env DISCORD_TOKEN,
// DISCORD_API_URL, TRANSCRIBE_BASE_URL, TRANSCRIBE_API_KEY, NODE_EXTRA_CA_CERTS, HEALTH_PORT, SILENCE_GAP_MS;
// /join from a member in voice → joins that channel and answers; `**Name**: text` lines in the channel where
// /join was used; JSON log lines on stdout (`gateway ready`, `health listening` {port}); GET /metrics with
// the same process gauges as tinyscribe's.
import { createServer } from 'node:http';
import { Client, GatewayIntentBits, Events } from 'discord.js';
import { joinVoiceChannel, EndBehaviorType, VoiceConnectionStatus, entersState } from '@discordjs/voice';
import prism from 'prism-media';

const env = process.env;
for (const name of ['DISCORD_TOKEN', 'TRANSCRIBE_BASE_URL', 'TRANSCRIBE_API_KEY']) {
  if (!env[name]) {
    process.stderr.write(`${name} is missing\n`);
    process.exit(2);
  }
}
const silenceMs = Number(env.SILENCE_GAP_MS ?? 800);
const baseUrl = env.TRANSCRIBE_BASE_URL.replace(/\/+$/, '');

const log = (level, msg, fields = {}) => process.stdout.write(`${JSON.stringify({ level, msg, ...fields })}\n`);

const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildVoiceStates],
  rest: env.DISCORD_API_URL ? { api: env.DISCORD_API_URL } : {},
});

let segmentsUploaded = 0;
let segmentsFailed = 0;

/** A 44-byte RIFF header for 16-bit PCM. */
function wavHeader(dataBytes, sampleRate, channels) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

async function transcribe(pcm) {
  const wav = Buffer.concat([wavHeader(pcm.length, 48000, 2), pcm]);
  const form = new FormData();
  form.append('file', new Blob([wav], { type: 'audio/wav' }), 'audio.wav');
  form.append('model', 'whisper-1');
  const res = await fetch(`${baseUrl}/audio/transcriptions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.TRANSCRIBE_API_KEY}` },
    body: form,
  });
  if (!res.ok) throw new Error(`transcription ${res.status}: ${await res.text()}`);
  const body = await res.json();
  return String(body.text ?? '').trim();
}

function listen(connection, guild, textChannel) {
  const receiver = connection.receiver;
  receiver.speaking.on('start', (userId) => {
    if (receiver.subscriptions.has(userId)) return;
    const opus = receiver.subscribe(userId, { end: { behavior: EndBehaviorType.AfterSilence, duration: silenceMs } });
    const decoder = new prism.opus.Decoder({ rate: 48000, channels: 2, frameSize: 960 });
    const chunks = [];
    opus.pipe(decoder);
    decoder.on('data', (chunk) => chunks.push(chunk));
    decoder.on('error', (error) => log('warn', 'decode error', { error: String(error) }));
    opus.once('end', async () => {
      const pcm = Buffer.concat(chunks);
      if (pcm.length < 48000 * 2 * 2 * 0.2) return;
      try {
        const text = await transcribe(pcm);
        segmentsUploaded++;
        if (!text) return;
        const member = guild.members.cache.get(userId) ?? (await guild.members.fetch(userId));
        await textChannel.send({ content: `**${member.displayName}**: ${text}`, allowedMentions: { parse: [] } });
      } catch (error) {
        segmentsFailed++;
        log('error', 'segment lost', { error: String(error) });
      }
    });
  });
}

client.on(Events.InteractionCreate, async (interaction) => {
  if (!interaction.isChatInputCommand() || interaction.commandName !== 'join') return;
  const voice = interaction.member?.voice?.channel;
  if (!voice) {
    await interaction.reply({ content: 'Join a voice channel first.', ephemeral: true });
    return;
  }
  await interaction.reply({ content: `🔴 Recording and transcribing ${voice.name}.` });
  const connection = joinVoiceChannel({ channelId: voice.id, guildId: voice.guild.id, adapterCreator: voice.guild.voiceAdapterCreator, selfDeaf: false });
  try {
    await entersState(connection, VoiceConnectionStatus.Ready, 20_000);
  } catch (error) {
    log('error', 'voice not ready', { error: String(error) });
    connection.destroy();
    return;
  }
  log('info', 'voice ready', { guildId: voice.guild.id });
  listen(connection, voice.guild, interaction.channel);
});

client.once(Events.ClientReady, (c) => log('info', 'gateway ready', { user: c.user.username, guilds: c.guilds.cache.size }));

if (env.HEALTH_PORT !== undefined) {
  const server = createServer((req, res) => {
    const m = process.memoryUsage();
    const gauges = {
      process_resident_memory_bytes: m.rss,
      nodejs_heap_size_used_bytes: m.heapUsed,
      nodejs_heap_size_total_bytes: m.heapTotal,
      nodejs_external_memory_bytes: m.external,
      nodejs_array_buffers_bytes: m.arrayBuffers,
      segments_uploaded_total: segmentsUploaded,
      segments_failed_total: segmentsFailed,
    };
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(Object.entries(gauges).map(([k, v]) => `${k} ${v}`).join('\n') + '\n');
  });
  server.listen(Number(env.HEALTH_PORT), () => log('info', 'health listening', { port: server.address().port }));
}

process.once('SIGTERM', () => {
  client.destroy().finally(() => process.exit(0));
});

await client.login(env.DISCORD_TOKEN);
