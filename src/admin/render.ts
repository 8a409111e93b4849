import { printable } from '../log.js';
import type { ClientDump, ClusterDump, DumpDocument, ProcessDump, RoomDump, ServerDump } from './dump.js';

/** The dump as an indented tree a person reads at a glance. Names are escaped: they come from peers. */
export function renderDump(dump: DumpDocument): string {
  const takenAt = Date.parse(dump.takenAt);
  const lines = [...serverLines(dump.server)];
  lines.push(`├─ rooms (${dump.rooms.length})`);
  dump.rooms.forEach((room, i) => lines.push(...roomLines(room, takenAt, i === dump.rooms.length - 1)));
  lines.push(`├─ clients (${dump.clients.length})`);
  dump.clients.forEach((client, i) => lines.push(clientLine(client, i === dump.clients.length - 1)));
  if (dump.cluster) lines.push(...clusterLines(dump.cluster));
  lines.push(`└─ ${processLine(dump.process)}`);
  lines.push(`   taken ${dump.takenAt} in ${dump.tookMs} ms`);
  return `${lines.join('\n')}\n`;
}

function clusterLines(cluster: ClusterDump): string[] {
  const lines = [`├─ cluster: this node ${cluster.node}, Redis ${cluster.redis}${cluster.error ? `  (not read: ${cluster.error})` : ''}`];
  lines.push(`│  ├─ nodes (${cluster.nodes.length})`);
  cluster.nodes.forEach((node, i) => {
    const lease = node.leaseExpiresInMs === null ? 'lease gone' : `lease ${duration(node.leaseExpiresInMs)} left`;
    lines.push(`│  │  ${i === cluster.nodes.length - 1 ? '└─' : '├─'} node ${node.id}${node.id === cluster.node ? ' (this one)' : ''}  ${lease}  ${printable(node.description ?? '')}`);
  });
  lines.push(`│  └─ rooms with members (${cluster.rooms.length})`);
  cluster.rooms.forEach((room, i) => {
    const members = room.members.map((member) => `${member.joinId} ${printable(member.name)}@node ${member.node}`).join(', ');
    lines.push(`│     ${i === cluster.rooms.length - 1 ? '└─' : '├─'} ref ${room.ref} "${printable(room.name)}": ${members}`);
  });
  return lines;
}

function serverLines(server: ServerDump): string[] {
  const address = server.address ? hostPort(server.address.host, server.address.port) : 'not listening';
  const { counts, policy } = server;
  return [
    `${server.id}  ${server.state}  up ${duration(server.uptimeMs)}  ${address}${server.status === 'active' ? '' : `  (${server.status})`}`,
    `│  connections ${counts.connections} (${counts.acceptedTotal} accepted)  rooms ${counts.rooms} (${counts.roomNames} names)  join ids ${counts.joinIdsIssued}`,
    `│  policy: kill-service ${policy.killService}, rooms ≤ ${policy.maxRooms} (≤ ${policy.maxRoomsPerConnection} per connection), line ${bytes(policy.maxLineBytes)}, request ${bytes(policy.maxRequestBytes)}, quiet ${policy.quietMs} ms`,
  ];
}

function roomLines(room: RoomDump, takenAt: number, last: boolean): string[] {
  const idle = duration(Math.max(0, takenAt - Date.parse(room.lastActivity)));
  const head = `│  ${last ? '└─' : '├─'} ${room.id}  ref ${room.ref} "${printable(room.name)}"  ${room.state}  ${room.members.length} members  routed ${room.messagesRouted}  deliveries ${room.deliveries}  last activity ${idle} ago`;
  const indent = `│  ${last ? '   ' : '│  '}`;
  return [head, ...room.members.map((member, i) => `${indent}${i === room.members.length - 1 ? '└─' : '├─'} ${member.joinId} ${printable(member.name)}`)];
}

function clientLine(client: ClientDump, last: boolean): string {
  const rooms = client.rooms.length === 0 ? '-' : client.rooms.map((room) => `${room.ref} "${printable(room.name)}" as ${printable(room.as)}`).join(', ');
  const waiting = client.deferredRequests > 0 ? `  deferred ${client.deferredRequests}` : '';
  const door = client.door !== 'lab' ? `  ${client.door} ${printable(client.nick ?? '*')}${client.caps && client.caps.length > 0 ? ` [${client.caps.join(' ')}]` : ''}` : '';
  return (
    `│  ${last ? '└─' : '├─'} ${client.id}  ${hostPort(client.peer.address, client.peer.port)}${client.tls ? '  tls' : ''}${door}  ${client.state}  join id ${client.joinId ?? '-'}  rooms ${rooms}` +
    `  in ${bytes(client.bytesIn)}  out ${bytes(client.bytesOut)}  queued ${bytes(client.queuedBytes)}  requests ${client.requests}  errors ${client.errors}${waiting}`
  );
}

function processLine(figures: ProcessDump): string {
  const delay = figures.eventLoopDelayMs;
  return (
    `process ${figures.pid}  up ${duration(figures.uptimeMs)}  rss ${bytes(figures.rssBytes)}  heap ${bytes(figures.heapUsedBytes)} / ${bytes(figures.heapTotalBytes)}` +
    `  event-loop delay mean ${delay.mean} ms, p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms`
  );
}

/** `127.0.0.1:5000`, `[::]:5000`. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / (1024 * 1024)).toFixed(1)} MiB`;
}

export function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}
