import { afterEach, describe, expect, it } from 'vitest';
import { DiscordSimulator } from './index.js';

let sim: DiscordSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const get = async (s: DiscordSimulator, path: string) => {
  const res = await fetch(`${s.apiUrl}/v10${path}`, { headers: { authorization: `Bot ${s.token}` } });
  return { status: res.status, json: (await res.json()) as unknown };
};

describe('simulator: extra guilds, roles, overwrites, attachment limit', () => {
  it('serves extra guilds with the default members, roles, and channel overwrites', async () => {
    sim = await DiscordSimulator.start({ extraGuilds: 1 });
    const second = sim.extraGuilds[0]!;
    expect(second.id).not.toBe(sim.guild.id);
    const member = await get(sim, `/guilds/${second.id}/members/${sim.members.alice}`);
    expect(member.json).toMatchObject({ nick: 'Ally' });
    const roles = await get(sim, `/guilds/${second.id}/roles`);
    expect(roles.json).toEqual([expect.objectContaining({ id: second.id, name: '@everyone' })]);

    sim.setPermissionOverwrite(second.voiceChannelId, { id: sim.botUserId, type: 1, allow: '0', deny: String(1 << 20) });
    const channel = await get(sim, `/channels/${second.voiceChannelId}`);
    expect(channel.json).toMatchObject({ permission_overwrites: [{ id: sim.botUserId, type: 1, allow: '0', deny: String(1 << 20) }] });
  });

  it('refuses a file over attachmentSizeLimit with 413/40005 ', async () => {
    sim = await DiscordSimulator.start({ attachmentSizeLimit: 100 });
    const send = async (bytes: number) => {
      const form = new FormData();
      form.append('payload_json', JSON.stringify({ content: 'file' }));
      form.append('files[0]', new Blob([new Uint8Array(bytes)]), 'a.txt');
      const res = await fetch(`${sim!.apiUrl}/v10/channels/${sim!.guild.textChannelId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bot ${sim!.token}` },
        body: form,
      });
      return { status: res.status, json: (await res.json()) as { code?: number } };
    };
    expect((await send(100)).status).toBe(200);
    const refused = await send(101);
    expect(refused.status).toBe(413);
    expect(refused.json.code).toBe(40005);
  });

  it('creates channel webhooks only with Manage Webhooks and records executions with username and avatar', async () => {
    sim = await DiscordSimulator.start();
    const s = sim;
    const post = async (path: string, body: unknown, auth = true) => {
      const res = await fetch(`${s.apiUrl}/v10${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bot ${s.token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (res.status === 204 ? {} : await res.json()) as Record<string, unknown> };
    };
    const channel = s.guild.textChannelId;
    expect((await post(`/channels/${channel}/webhooks`, { name: 'tinyscribe' })).json).toMatchObject({ code: 50013 });
    s.setPermissionOverwrite(channel, { id: s.botUserId, type: 1, allow: String(1n << 29n), deny: '0' });
    const created = await post(`/channels/${channel}/webhooks`, { name: 'tinyscribe' });
    expect(created.status).toBe(200);
    const { id, token } = created.json as { id: string; token: string };
    const executed = await post(`/webhooks/${id}/${token}`, { content: 'hi', username: 'Ally', avatar_url: 'https://cdn.example/a.png' }, false);
    expect(executed.status).toBe(204);
    expect(s.records.messages.at(-1)).toMatchObject({ channelId: channel, content: 'hi', webhook: { id, username: 'Ally', avatarUrl: 'https://cdn.example/a.png' } });
    expect((await post(`/webhooks/${id}/wrong`, { content: 'x' }, false)).status).toBe(404);
    expect((await get(s, `/channels/${channel}/webhooks`)).json).toEqual([expect.objectContaining({ id, token })]);
  });
});
