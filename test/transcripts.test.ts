import { describe, it } from 'vitest';
import { startServer } from './helpers.js';
import { heloJoinChatLeaveDisconnect, labTesterSequence, singleServer, unknownRoomError } from './transcript-scenarios.js';

/** The example transcripts of protocol.md, byte for byte (cluster.test.ts runs them over nodes). */
describe('protocol.md transcripts', () => {
  it('A says HELO and joins; B joins; both chat; B leaves; A disconnects', async () => {
    await heloJoinChatLeaveDisconnect(singleServer(await startServer({ studentId: 'S123' })), 'S123');
  });

  it("runs the lab's automated tester sequence", async () => {
    await labTesterSequence(singleServer(await startServer()));
  });

  it('gets one error reply with the documented code', async () => {
    await unknownRoomError(singleServer(await startServer()));
  });
});
