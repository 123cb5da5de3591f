//! What each keyboard shortcut does on the work screen (the keys themselves are in
//! `shortcuts.js`). Chat actions apply to the chat in front, and only while the agent is in
//! it as an agent (not over, not only monitoring).

/** @import { Status } from './types.js' */
/** @import { Action } from './shortcuts.js' */
/** @import { Workspace } from './workspace.js' */
/** @import { ChatPanel } from './chat-panel.js' */

/**
 * @typedef {{
 *   help: HTMLDialogElement,
 *   me: () => Status | null,
 *   workspace: Workspace,
 *   firstOffer: () => string | undefined,
 *   accept: (chatId: string) => Promise<void>,
 *   reject: (chatId: string) => Promise<void>,
 *   setReady: (ready: boolean) => Promise<void>,
 *   transfer: (chat: ChatPanel) => void,
 * }} KeyContext
 */

/**
 * @param {KeyContext} ctx
 * @returns {(action: Action) => void}
 */
export function shortcutRunner(ctx) {
  return (action) => {
    if (action === 'help') {
      if (ctx.help.open) ctx.help.close();
      else ctx.help.showModal();
      return;
    }
    const me = ctx.me();
    if (!me) return;
    const chat = ctx.workspace.current();
    const working = chat && !chat.closed && chat.mode === 'agent' ? chat : null;
    const first = ctx.firstOffer();
    switch (action) {
      case 'accept':
        if (first) void ctx.accept(first);
        break;
      case 'reject':
        if (first) void ctx.reject(first);
        break;
      case 'ready':
        if (me.logged_in) void ctx.setReady(!me.ready);
        break;
      case 'next':
      case 'prev':
        ctx.workspace.cycle(action === 'next' ? 1 : -1);
        break;
      case 'message':
        working?.text.focus();
        break;
      case 'canned':
        working?.canned.focus();
        break;
      case 'url':
        working?.url.focus();
        break;
      case 'file':
        working?.files.input.focus();
        break;
      case 'end':
      case 'leave':
        if (working) void working.finish(action);
        break;
      case 'transfer':
        if (working) ctx.transfer(working);
        break;
      case 'close':
        if (chat?.closed) ctx.workspace.close(chat.id);
        break;
    }
  };
}
