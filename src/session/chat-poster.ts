import type { ChatEvent, ClientActorRef, RoomActorRef } from '../../actors/events.js';

/**
 * Posts a run of chats to their rooms in arrival order, consecutive chats to one room as one
 * `chats` event: the room takes them in one step. A chat to another room, or anything the
 * connection is answered meanwhile, ends the group first (`flush`), so no room and no reply
 * sees a chat out of its place.
 */
export class ChatPoster {
  private room: RoomActorRef | null = null;
  private chats: ChatEvent[] = [];

  constructor(private readonly client: ClientActorRef) {}

  post(room: RoomActorRef, chat: ChatEvent): void {
    if (room !== this.room) {
      this.flush();
      this.room = room;
    }
    this.chats.push(chat);
  }

  flush(): void {
    const room = this.room;
    if (room === null) return;
    const chats = this.chats;
    this.room = null;
    this.chats = [];
    room.send(chats.length === 1 ? chats[0]! : { type: 'chats', chats, client: this.client });
  }
}
