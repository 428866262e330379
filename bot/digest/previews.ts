/** The weekly digest as the chat's commands see it: service.ts implements it with the configured admin rooms. */
import type { RichMessage } from '../chat/rich-message.ts';

export interface DigestPreviews {
  preview(): Promise<RichMessage>;
  isAdminRoom(platform: string, roomId: string): boolean;
}
