import { Session } from 'node:inspector/promises';
import { spawn } from 'node:child_process';
import { startChatServer } from './dist/src/index.js';
const server = await startChatServer({ port: 0, ircPort: 0, host: '127.0.0.1', logLevel: 'info', logger: undefined });
const session = new Session(); session.connect();
const proto = process.argv[2] ?? 'irc';
const port = proto === 'irc' ? server.ircPort : server.port;
const child = spawn('/tmp/chatload', ['--proto', proto, '--rooms', '10', '--members', '50', '--senders', '2', '--window', '16', '--ports', String(port), '--duration', '4', '--warmup', '1.5']);
await new Promise((r) => setTimeout(r, 2000));
await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await new Promise((r) => setTimeout(r, 2500));
const { profile } = await session.post('HeapProfiler.stopSampling');
await new Promise((r) => child.on('exit', r));
const self = new Map(); let total = 0;
const walk = (n, stack) => {
  const cf = n.callFrame; const name = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(dist|node_modules)\//, '$1/').replace('file://', '')}:${cf.lineNumber}`;
  total += n.selfSize;
  if (n.selfSize > 0) { const key = `${name}  <- ${stack.slice(-3).join(' <- ')}`; self.set(key, (self.get(key) ?? 0) + n.selfSize); }
  for (const c of n.children) walk(c, [...stack, `${cf.functionName || '(anon)'}:${cf.lineNumber}`]);
};
walk(profile.head, []);
console.log('total sampled MB', (total / 1e6).toFixed(1));
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((v / total * 100).toFixed(1).padStart(5), k);
await server.stop();
