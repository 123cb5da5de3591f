//! Every string the widget shows, in one table: English by default; a page translates any of
//! them with `Chinwag.configure({strings: {...}})` (or `window.ChinwagStrings` before load).

/** @typedef {typeof en} Strings */
export const en = {
  launcher: 'Chat with us',
  title: 'Chat',
  close: 'Close chat',
  minimize: 'Hide chat',
  intro: 'Tell us who you are and we will connect you with an agent.',
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  subject: 'Subject',
  nickname: 'Name',
  start: 'Start chat',
  required: 'Please fill in this field.',
  connecting: 'Connecting…',
  queued: 'Waiting for an agent…',
  joined: '{name} joined the chat',
  left: '{name} left the chat',
  agentTyping: '{name} is typing…',
  someone: 'An agent',
  you: 'You',
  system: 'System',
  transcript: 'Conversation',
  input: 'Type your message',
  send: 'Send',
  sending: 'Sending…',
  read: 'Read',
  end: 'End chat',
  endConfirm: 'End this chat?',
  ended: 'The chat has ended.',
  newChat: 'Start a new chat',
  offline: 'You are offline. We will reconnect and send your messages as soon as we can.',
  error: 'Something went wrong ({code}). Please try again.',
  attach: 'Attach a file',
  download: 'Download {name}',
  fileDeleted: '{name} was deleted',
  uploading: 'Sending {name}…',
  fileError: 'The file could not be sent ({code}).',
};

/**
 * `text` with `{key}` placeholders filled.
 * @param {string} text @param {Record<string, string>} [args]
 */
export function fill(text, args = {}) {
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in args ? args[k] : m));
}
