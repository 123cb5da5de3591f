//! Shapes of the agent API's JSON as the console reads them (JSDoc only; no code).

/**
 * @typedef {{ nickname?: string, participant_id?: number, party_type?: string }} Party
 * @typedef {{
 *   index: number, kind: string, from?: Party, text?: string, message_type?: string,
 *   utc_time_ms?: number, user_data?: Record<string, string>, event_attributes?: unknown
 * }} ChatEvent
 * @typedef {{ chat_id: string, service: string, expires_ms: number }} Offer
 * @typedef {{
 *   id: string, name: string, logged_in: boolean, ready: boolean, capacity: number,
 *   chats: string[], offers: Offer[], reason?: string | null, load?: number
 * }} Status
 * @typedef {{
 *   id: number, party_type: string, nickname?: string, agent_id?: string,
 *   joined_ms?: number, left_ms?: number
 * }} Participant
 * @typedef {{
 *   chat_id: string, service: string, subject?: string | null, email?: string | null,
 *   user_data?: Record<string, string>, ended: boolean, participants?: Participant[],
 *   queue?: string,
 *   events: ChatEvent[], next_position?: number
 * }} ChatView
 * @typedef {{
 *   id: string, name: string, size: number, type: string, description?: string,
 *   uploaded_by?: Party, index?: number
 * }} FileInfo
 * @typedef {{ type: 'status', status: Status }
 *   | { type: 'offer', chat_id: string, service: string, expires_ms: number }
 *   | { type: 'offer_withdrawn', chat_id: string, reason: string }
 *   | { type: 'state', ready: boolean, reason?: string | null }
 *   | { type: 'event', chat_id: string, event: ChatEvent }
 *   | { type: 'read_receipt', chat_id: string, participant_id: number, index: number }
 *   | { type: 'typing_preview', chat_id: string, text: string }
 *   | { type: 'chat_ended', chat_id: string }
 *   | { type: 'resync' }} Frame
 * @typedef {{ label: string, text: string }} Canned
 * @typedef {{ queue: string, responses: Canned[] }} CannedGroup
 * @typedef {{ queue: string, waiting: number, offered: number, longest_wait_ms: number | null }} QueueStat
 * @typedef {{
 *   chat_id: string, service: string, queue: string, state: string, since_ms: number,
 *   agents: { id: string, name: string }[], monitored: boolean,
 *   customer: string | null, subject: string | null
 * }} LiveChat
 * @typedef {{ queues: QueueStat[], agents: Status[], chats: LiveChat[], truncated: boolean }} Overview
 */

export {};
