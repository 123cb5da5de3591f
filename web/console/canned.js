//! Canned responses: a small list kept in the console itself for now (the agent API has no
//! per-queue responses yet). Choosing one inserts its text into the composer; it is never
//! sent without the agent pressing Send.

/** @type {ReadonlyArray<{ label: string, text: string }>} */
export const CANNED = [
  { label: 'Greeting', text: 'Hello, thank you for contacting us. How can I help you today?' },
  { label: 'One moment', text: 'Thank you. Please give me a moment while I look into this.' },
  { label: 'Anything else', text: 'Is there anything else I can help you with?' },
  { label: 'Closing', text: 'Thank you for chatting with us. Have a nice day!' },
];
