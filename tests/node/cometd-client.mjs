// The official CometD JavaScript client under Node (cometd-nodejs-client provides XHR and
// WebSocket), with promise helpers.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { CHANNEL } from "./harness.mjs";

adapt();

/** A client on `url` using `transport` ("websocket" or "long-polling"). */
export function client(url, transport, extensions = {}) {
  const c = new CometD();
  c.configure({ url, maxNetworkDelay: 5000, logLevel: "warn" });
  if (transport === "long-polling") c.unregisterTransport("websocket");
  for (const [name, ext] of Object.entries(extensions)) c.registerExtension(name, ext);
  return c;
}

export const handshake = (c) =>
  new Promise((resolve, reject) => c.handshake((h) => (h.successful ? resolve(h) : reject(new Error(JSON.stringify(h))))));

export const publish = (c, channel, data) =>
  new Promise((resolve, reject) => c.publish(channel, data, (r) => (r.successful ? resolve(r) : reject(new Error(JSON.stringify(r))))));

export const subscribe = (c, channel, onMessage) =>
  new Promise((resolve, reject) =>
    c.subscribe(channel, onMessage, (r) => (r.successful ? resolve(r) : reject(new Error(JSON.stringify(r))))),
  );

export const disconnect = (c) => new Promise((resolve) => c.disconnect(() => resolve()));

/** Listens to GMS notifications on the chat channel; returns the array they land in. */
export function notifications(c, channel = CHANNEL) {
  const notes = [];
  c.addListener(channel, (m) => notes.push(m.data));
  return notes;
}
