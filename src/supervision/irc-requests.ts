/**
 * The supervisor's answers to what an IRC client actor asks: a nick, what is known of nicks and
 * channels, a private message. On one server they come from the nick registry and the rooms'
 * own state, at once; in a cluster from Redis as well (every node's members, nicks held anywhere,
 * private messages to users on other nodes), later, through `sendWhenSettled`.
 */
import { CapSet } from '../irc/caps.js';
import type { AnyActorRef } from 'xstate';
import type { ChannelInfo, ClientActorRef, ClientEvent, IrcQuery, NickInfo, ServerEvent, UserCounts } from '../../actors/events.js';
import { sendWhenSettled } from '../answer.js';
import type { ClusterLink } from '../cluster/link.js';
import type { DirectMessage } from '../cluster/nicks.js';
import { channelOfRoom, foldCase, roomOfChannel } from '../irc/names.js';
import { personSource, type IrcPerson, type MemberView } from '../rooms/door.js';
import { LAB_DOOR } from '../rooms/lab-door.js';
import type { RoomIssuer } from '../rooms/issuing.js';
import { channelInfo, lookUpChannels, lookUpNicks, roomOfChannelName, type IrcDoorState, type Rooms } from './irc-door.js';
import type { SupervisionEvent } from './registry.js';

export type IrcRequest = Extract<ServerEvent, { type: 'irc.claimNick' | 'irc.lookupNicks' | 'irc.lookupChannels' | 'irc.sendDirect' | 'irc.countUsers' | 'irc.releaseNick' }>;

export interface IrcEnv {
  readonly irc: IrcDoorState;
  readonly issuer: RoomIssuer;
  readonly rooms: Rooms;
  readonly cluster: ClusterLink | null;
  /** The supervisor's client registry: whether a nick's holder is still connected. */
  readonly clients: ReadonlyMap<number, { readonly connection: { peerGone(): boolean } }>;
  /** The supervisor, for answers that come later. */
  readonly self: AnyActorRef;
  /** The supervisor's step's sendTo. */
  send(to: ClientActorRef, message: ClientEvent): void;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function answerIrc(env: IrcEnv, event: IrcRequest): void {
  const { irc, cluster, send } = env;
  switch (event.type) {
    case 'irc.claimNick': {
      const { client, connectionId, person, nick } = event;
      freeIfGone(env, nick);
      if (!irc.nicks.freeFor(nick, person)) {
        send(client, { type: 'server.nickRefused', nick, reason: 'taken' });
      } else if (!cluster) {
        decideNick(env, event, 'claimed');
      } else {
        const source = `${nick}!${person.user || '~'}@${person.host}`;
        const claim = cluster.nicks.claim(foldCase(nick), `c${connectionId}`, source, irc.nicks.keyOfConnection(connectionId));
        sendWhenSettled<boolean, SupervisionEvent>(env.self, claim, (ok) => ({ type: 'irc.nickDecided', request: event, outcome: ok ? 'claimed' : 'taken' }), () => ({ type: 'irc.nickDecided', request: event, outcome: 'unavailable' }));
      }
      return;
    }
    case 'irc.lookupNicks': {
      const local = lookUpNicks(irc, env.rooms, event.query, event.asker);
      if (!cluster || local.every((found) => found !== null)) {
        send(event.client, { type: 'server.nicks', query: event.query, found: local });
        return;
      }
      const found = Promise.all(local.map((info, i) => info ?? remoteNick(cluster, event.query.targets[i]!)));
      sendWhenSettled(event.client, found, (all): ClientEvent => ({ type: 'server.nicks', query: event.query, found: all }), (): ClientEvent => ({ type: 'server.nicks', query: event.query, found: local }));
      return;
    }
    case 'irc.lookupChannels': {
      if (!cluster) {
        send(event.client, { type: 'server.channels', query: event.query, found: lookUpChannels(irc, env.issuer, env.rooms, event.query) });
        return;
      }
      const local = lookUpChannels(irc, env.issuer, env.rooms, event.query);
      const found = clusterChannels(env, cluster, event.query);
      sendWhenSettled(event.client, found, (all): ClientEvent => ({ type: 'server.channels', query: event.query, found: all }), (): ClientEvent => ({ type: 'server.channels', query: event.query, found: local }));
      return;
    }
    case 'irc.sendDirect':
      sendDirect(env, event);
      return;
    case 'irc.countUsers':
      send(event.client, { type: 'server.counts', counts: countUsers(env) });
      return;
    case 'irc.releaseNick': {
      const nick = irc.nicks.releaseConnection(event.connectionId);
      if (nick) cluster?.nicks.release(nick, `c${event.connectionId}`).catch(() => {});
      return;
    }
  }
}

function countUsers(env: IrcEnv): UserCounts {
  let visible = 0;
  let invisible = 0;
  for (const holder of env.irc.nicks.holders()) {
    if (holder.person.user === '') continue;
    if (holder.person.invisible) invisible++;
    else visible++;
  }
  let channels = 0;
  for (const room of env.rooms.values()) if (room.getSnapshot().context.members.size > 0) channels++;
  env.irc.maxUsers = Math.max(env.irc.maxUsers, visible + invisible);
  return { visible, invisible, unregistered: env.irc.unregistered(), channels, max: env.irc.maxUsers };
}

/**
 * A nick held by an IRC connection whose peer has already gone (its end not handled yet: ends are
 * told a turn later) is free now: a client that reconnects at once gets its nick back.
 */
function freeIfGone(env: IrcEnv, nick: string): void {
  const holder = env.irc.nicks.find(nick);
  if (!holder?.client || !env.clients.get(holder.connectionId)?.connection.peerGone()) return;
  const key = env.irc.nicks.releaseConnection(holder.connectionId);
  if (key) env.cluster?.nicks.release(key, `c${holder.connectionId}`).catch(() => {});
}

/** The registry's answer to a claim (Redis's first, in a cluster): the nick is the connection's, or not. */
export function decideNick(env: Pick<IrcEnv, 'irc' | 'send'>, request: Extract<IrcRequest, { type: 'irc.claimNick' }>, outcome: 'claimed' | 'taken' | 'unavailable'): void {
  const { client, connectionId, person, outbound, nick } = request;
  const claimed = outcome === 'claimed' && env.irc.nicks.claim(nick, { person, client, outbound, connectionId, signedOnAt: now() });
  env.send(client, claimed ? { type: 'server.nickClaimed', nick } : { type: 'server.nickRefused', nick, reason: outcome === 'unavailable' ? 'unavailable' : 'taken' });
}

function sendDirect(env: IrcEnv, event: Extract<IrcRequest, { type: 'irc.sendDirect' }>): void {
  const { irc, cluster, send } = env;
  const target = event.query.targets[0]!;
  const command = event.query.command === 'NOTICE' ? 'NOTICE' : 'PRIVMSG';
  const text = event.query.rest[0] ?? '';
  const from = personSource(event.from);
  const owner = irc.nicks.find(target);
  const answer = (outcome: 'sent' | 'noSuchNick' | 'lab'): ClientEvent => ({ type: 'server.directSent', query: event.query, outcome });
  if (owner && owner.person.user !== '') {
    if (owner.client) send(owner.client, { type: 'irc.direct', from, command, text });
    const away = owner.client && owner.person.away !== null ? { away: owner.person.away } : {};
    send(event.client, { ...answer(owner.client ? 'sent' : 'lab'), ...away });
    return;
  }
  if (!cluster) {
    send(event.client, answer('noSuchNick'));
    return;
  }
  const delivered = cluster.nicks.find(foldCase(target)).then(async (holder) => {
    if (!holder) return 'noSuchNick' as const;
    if (holder.owner.startsWith('l')) return 'lab' as const;
    await cluster.nicks.sendDirect(holder.instance, { to: Number(holder.owner.slice(1)), from, command, text });
    return 'sent' as const;
  });
  sendWhenSettled(event.client, delivered, answer, () => answer('noSuchNick'));
}

/** A private message from another node for one of this node's IRC users. */
export function deliverRemoteDirect(env: Pick<IrcEnv, 'irc' | 'send'>, message: DirectMessage): void {
  const owner = env.irc.nicks.ownerOfConnection(message.to);
  if (owner?.client) env.send(owner.client, { type: 'irc.direct', from: message.from, command: message.command === 'NOTICE' ? 'NOTICE' : 'PRIVMSG', text: message.text });
}

/** A person as another node's record of it says: `nick!user@host`. */
function personOf(source: string, realname: string): IrcPerson {
  const bang = source.indexOf('!');
  const at = source.indexOf('@', bang);
  const host = source.slice(at + 1);
  return { nick: source.slice(0, bang), user: source.slice(bang + 1, at), host, realname, away: null, invisible: false, caps: new CapSet(), family: host.startsWith('lab/') ? 'lab' : 'irc' };
}

async function remoteNick(cluster: ClusterLink, nick: string): Promise<NickInfo | null> {
  const holder = await cluster.nicks.find(foldCase(nick));
  return holder ? { person: personOf(holder.source, holder.source.slice(0, holder.source.indexOf('!'))), channels: [], signedOnAt: 0 } : null;
}

/** Channels as the whole cluster has them: every node's members (Redis), this node's topic. */
async function clusterChannels(env: IrcEnv, cluster: ClusterLink, query: IrcQuery): Promise<(ChannelInfo | null)[]> {
  const listAll = query.command === 'LIST' && query.targets.length === 0;
  const targets = listAll ? (await cluster.nicks.roomNames(1_000)).map((name) => `#${name}`) : query.targets;
  const found = await Promise.all(targets.map(async (channel): Promise<ChannelInfo | null> => {
    const name = roomOfChannel(channel);
    if (name === null) return null;
    const local = roomOfChannelName(env.irc, env.issuer, env.rooms, channel);
    const localInfo = local ? channelInfo(local) : null;
    const ref = local ? local.getSnapshot().context.ref : await cluster.nicks.refOf(name);
    if (ref === null) return null;
    const members = await cluster.nicks.roomMembers(ref);
    if (members.length === 0) return null;
    const here = new Map(localInfo?.members.map((member) => [member.joinId, member]));
    const views: MemberView[] = members.map((member) => here.get(member.joinId) ?? { joinId: member.joinId, clientName: member.name, door: LAB_DOOR, person: member.source ? personOf(member.source, member.name) : null });
    return { name: localInfo?.name ?? name, members: views, topic: localInfo?.topic ?? null };
  }));
  return listAll ? found.filter((info) => info !== null && channelOfRoom(info.name) !== null) : found;
}
