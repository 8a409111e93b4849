import type { Actor } from 'xstate';
import type { serverMachine } from '../actors/server.js';

/**
 * The supervisor actor's type, on its own so that what reads the actor tree (the admin dump)
 * need not import the module that starts it, which imports them back.
 */
export type ServerActor = Actor<typeof serverMachine>;
