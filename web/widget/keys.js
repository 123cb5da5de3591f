//! Names shared by the launcher and the chat: where a chat is saved (localStorage, this page's
//! origin, no cookie) and whether the panel was open (sessionStorage, this tab).

/** @param {string} server @param {string} service */
export const storageKey = (server, service) => `chinwag:${server}|${service}`;

export const OPEN_KEY = 'chinwag:open';
