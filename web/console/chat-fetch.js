//! Fetching a chat's events from the first one not seen, page by page (`GET /chats/{id}
//! ?from=N`), asking for the next page while this one is drawn. Each page's view also
//! brings the chat's participants and state.

/** @import { ChatView } from './types.js' */
/** @import { ChatLog } from './chat-log.js' */
import { api, chatPath } from './api.js';

/** Pages fetched at most in one go (each up to the server's page size). */
const MAX_PAGES = 1000;

/**
 * Fetches every page from `log.resumeFrom` on; `take` draws each view (and merges its
 * events into `log`) before the next is awaited.
 * @param {string} chatId
 * @param {ChatLog} log
 * @param {(view: ChatView) => void} take
 */
export async function fetchPages(chatId, log, take) {
  /** @param {number} from @returns {Promise<ChatView>} */
  const get = (from) => {
    const p = api('GET', chatPath(chatId, `?from=${from}`));
    p.catch(() => {}); // a prefetch dropped unread must not be an unhandled rejection
    return p;
  };
  let pending = get(log.resumeFrom);
  for (let page = 0; page < MAX_PAGES; page++) {
    const from = log.resumeFrom;
    const view = await pending;
    const next = view.events?.length && Number.isSafeInteger(view.next_position) ? Number(view.next_position) : 0;
    if (next > from) pending = get(next);
    take(view);
    if (!(next > from) || log.resumeFrom === from) break;
    if (log.resumeFrom !== next) pending = get(log.resumeFrom);
  }
}
