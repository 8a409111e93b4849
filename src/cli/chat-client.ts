#!/usr/bin/env node
// The `chat-client` command: `chat-server client` under a short name of its own.
import { client } from './client.js';

client(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error('chat-client: unexpected failure', error);
    process.exit(1);
  },
);
