#!/usr/bin/env node
import { OptionError } from '../config.js';
import { client } from './terminal-client.js';
import { dump, DUMP_USAGE } from './dump.js';
import { serve, serveUsage } from './serve.js';

const usage = (): string => `Usage: chat-server <command> [options]

Commands:
  serve [PORT]     run the chat server (the default command)
  client           the interactive chat client (client --help for its options)
  dump             print what a running daemon's actors are doing

${serveUsage()}

${DUMP_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return serve([]);
    case 'serve':
      return serve(rest);
    case 'client':
      return client(rest);
    case 'dump':
      return dump(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(usage());
      return 0;
    default:
      if (/^\d+$/.test(command) || command.startsWith('--')) return serve(argv);
      console.error(`chat-server: unknown command "${command}" (try --help)`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof OptionError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`chat-server: ${error.message}`);
      process.exit(2);
    }
    console.error('chat-server: unexpected failure', error);
    process.exit(1);
  },
);
