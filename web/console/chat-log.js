//! One chat's transcript as the console has seen it: events by index, merged from the
//! stream and from fetches in any order, each kept once. `resumeFrom` is the first index
//! not yet seen without a gap before it, so a refetch from there fills every hole.

/** @import { ChatEvent } from './types.js' */

/** Most events a chat keeps in memory and on screen; older ones are dropped from view. */
export const MAX_EVENTS = 20000;

export class ChatLog {
  constructor() {
    /** @type {Map<number, ChatEvent>} */
    this.events = new Map();
    /** Every index below this has been seen (or was dropped as too old). */
    this.contiguous = 1;
    this.max = 0;
  }

  /** The index to fetch from after a drop or a reload. */
  get resumeFrom() {
    return this.contiguous;
  }

  /** True when an index above a hole has been seen (a fetch should fill it). */
  get hasGap() {
    return this.max >= this.contiguous;
  }

  /**
   * Takes events, answers the ones not seen before, in index order.
   * @param {ChatEvent[]} events
   * @returns {ChatEvent[]}
   */
  merge(events) {
    /** @type {ChatEvent[]} */
    const fresh = [];
    for (const e of events) {
      if (!e || !Number.isSafeInteger(e.index) || e.index < 1) continue;
      if (e.index < this.contiguous || this.events.has(e.index)) continue;
      this.events.set(e.index, e);
      fresh.push(e);
      if (e.index > this.max) this.max = e.index;
    }
    while (this.events.has(this.contiguous)) this.contiguous++;
    fresh.sort((a, b) => a.index - b.index);
    return fresh;
  }

  /**
   * Drops the oldest events beyond `MAX_EVENTS`; answers their indexes.
   * @returns {number[]}
   */
  trim() {
    /** @type {number[]} */
    const dropped = [];
    if (this.events.size <= MAX_EVENTS) return dropped;
    const keys = [...this.events.keys()].sort((a, b) => a - b);
    for (const k of keys.slice(0, keys.length - MAX_EVENTS)) {
      this.events.delete(k);
      dropped.push(k);
    }
    return dropped;
  }
}
