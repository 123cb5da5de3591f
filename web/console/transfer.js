//! The transfer dialog: a queue (suggested: the queues `GET /canned` lists, or a
//! supervisor's overview's) or an agent's id (a supervisor gets the agents suggested), then
//! `POST /chats/{id}/transfer`. A modal `<dialog>`: labelled, focus kept inside only while
//! it is open, Esc closes it, and focus goes back to what opened it (or, once the chat is
//! transferred, to its "Close tab" button). Only one opening runs at a time (a second
//! click while the suggestions load does nothing). Errors are shown in the dialog in words.

/** @import { ChatPanel } from './chat-panel.js' */
import { api, chatPath, ApiError } from './api.js';
import { byId, h, clear } from './dom.js';

/** @typedef {{ queues: string[], agents: { id: string, name: string }[] }} Targets */

/**
 * A transfer failure as the agent should read it.
 * @param {unknown} e
 */
export function transferError(e) {
  if (!(e instanceof ApiError)) return 'The transfer failed.';
  switch (e.code) {
    case 'no_such_queue':
      return 'There is no such queue.';
    case 'no_such_agent':
      return 'There is no agent with that id.';
    case 'agent_unavailable':
      return 'That agent is not available: not working, or with no room for another chat.';
    case 'chat_ended':
      return 'The chat has ended.';
    case 'not_logged_in':
      return 'Start work first.';
    case 'not_in_chat':
      return 'You are no longer in this chat.';
    case 'network':
      return 'The server cannot be reached. Try again.';
    default:
      return `The transfer failed: ${e.message}`;
  }
}

export class TransferDialog {
  /**
   * @param {() => Promise<Targets>} targets where a chat may go
   * @param {(msg: string) => void} announce
   */
  constructor(targets, announce) {
    this.targets = targets;
    this.announce = announce;
    this.dialog = byId('transfer', HTMLDialogElement);
    this.form = byId('transfer-form', HTMLFormElement);
    this.desc = byId('transfer-desc', HTMLParagraphElement);
    this.toQueue = byId('transfer-to-queue', HTMLInputElement);
    this.toAgent = byId('transfer-to-agent', HTMLInputElement);
    this.queueBox = byId('transfer-queue-box', HTMLDivElement);
    this.agentBox = byId('transfer-agent-box', HTMLDivElement);
    this.queue = byId('transfer-queue', HTMLInputElement);
    this.queueList = byId('transfer-queues', HTMLDataListElement);
    this.queueHint = byId('transfer-queue-hint', HTMLParagraphElement);
    this.agent = byId('transfer-agent', HTMLInputElement);
    this.agentList = byId('transfer-agents', HTMLDataListElement);
    this.error = byId('transfer-error', HTMLParagraphElement);
    this.submit = byId('transfer-submit', HTMLButtonElement);
    /** @type {ChatPanel | null} */
    this.chat = null;
    /** @type {HTMLElement | null} */
    this.opener = null;
    /** Set while `open` waits for the suggestions: another open is ignored meanwhile. */
    this.opening = false;
    this.toQueue.addEventListener('change', () => this.paintChoice());
    this.toAgent.addEventListener('change', () => this.paintChoice());
    byId('transfer-cancel', HTMLButtonElement).addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (e) => void this.send(e));
    // A dialog's close event is queued: it can arrive after the dialog was opened again (Esc,
    // then Alt+T at once), when it must not undo the new opening.
    this.dialog.addEventListener('close', () => {
      if (!this.dialog.open) this.restoreFocus();
    });
  }

  /**
   * Opens the dialog for a chat.
   * @param {ChatPanel} chat
   */
  async open(chat) {
    if (chat.closed || this.dialog.open || this.opening) return;
    this.opening = true;
    try {
      await this.prepare(chat);
    } finally {
      this.opening = false;
    }
  }

  /**
   * Fills the dialog for a chat (awaiting the suggestions) and shows it, unless the chat
   * ended or left the page meanwhile.
   * @param {ChatPanel} chat
   */
  async prepare(chat) {
    this.chat = chat;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.desc.textContent = `Send the chat with ${chat.name()} to a queue or to another agent. You leave the chat.`;
    this.error.textContent = '';
    this.agent.value = '';
    this.queue.value = '';
    /** @type {Targets} */
    let t = { queues: [], agents: [] };
    try {
      t = await this.targets();
    } catch {
      // Offer the agent field alone.
    }
    if (chat.closed || !chat.panel.isConnected) {
      this.chat = null;
      this.opener = null;
      return;
    }
    clear(this.queueList);
    for (const q of t.queues) this.queueList.append(h('option', { value: q }, q === chat.view?.queue ? "this chat's queue" : ''));
    this.queueHint.textContent = t.queues.length ? `Queues: ${t.queues.join(', ')}.` : '';
    clear(this.agentList);
    for (const a of t.agents) this.agentList.append(h('option', { value: a.id }, a.name && a.name !== a.id ? a.name : ''));
    this.toQueue.checked = true;
    this.paintChoice();
    this.dialog.showModal();
    (this.toQueue.checked ? this.queue : this.agent).focus();
  }

  paintChoice() {
    const byQueue = this.toQueue.checked;
    this.queueBox.hidden = !byQueue;
    this.agentBox.hidden = byQueue;
    this.error.textContent = '';
  }

  /** @param {Event} e */
  async send(e) {
    e.preventDefault();
    const chat = this.chat;
    if (!chat) return;
    const byQueue = this.toQueue.checked;
    const target = byQueue ? this.queue.value : this.agent.value.trim();
    if (!target) {
      this.error.textContent = byQueue ? "Enter the queue's name." : "Enter the agent's id.";
      (byQueue ? this.queue : this.agent).focus();
      return;
    }
    this.submit.disabled = true;
    this.error.textContent = '';
    chat.leaving = true;
    try {
      const res = await api('POST', chatPath(chat.id, '/transfer'), byQueue ? { queue: target } : { agent: target });
      if (Array.isArray(res?.events)) chat.add(res.events, false);
      const where = byQueue ? `the queue ${target}` : `agent ${target}`;
      chat.markClosed(`You transferred the chat to ${where}.`, 'transferred');
      this.dialog.close();
      this.announce(`The chat with ${chat.name()} was transferred to ${where}.`);
    } catch (err) {
      chat.leaving = false;
      this.error.textContent = transferError(err);
      if (err instanceof ApiError && (err.code === 'chat_ended' || err.code === 'not_in_chat')) {
        chat.markClosed(err.code === 'chat_ended' ? 'The chat has ended.' : 'You are no longer in this chat.', 'ended');
      }
      (byQueue ? this.queue : this.agent).focus();
    } finally {
      this.submit.disabled = false;
    }
  }

  /** Focus goes back to what opened the dialog, or to the chat's "Close tab" once it is over. */
  restoreFocus() {
    const chat = this.chat;
    const back = this.opener;
    this.chat = null;
    this.opener = null;
    if (back && back.isConnected && !back.hidden && !(back instanceof HTMLButtonElement && back.disabled)) back.focus();
    else if (chat?.closed) chat.head.closeBtn.focus();
    else chat?.tab.focus();
  }
}
