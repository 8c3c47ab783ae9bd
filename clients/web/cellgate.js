// cellgate browser client: the client protocol (docs/PROTOCOL.md) over WebSocket, one ClientFrame or
// ServerFrame per binary message, with a minimal hand-written protobuf codec (the messages are small
// and fixed; the protocol doc is the contract). Integers that may pass 2^53 (uid, seq, push_id,
// nonce) are BigInt.
"use strict";

const CODES = ["OK", "BAD_FRAME", "UNAUTHENTICATED", "UNKNOWN_COMMAND", "RATE_LIMITED", "SHED_OVERLOAD", "NO_ROUTE",
  "UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "UPSTREAM_ERROR", "WRITE_FORBIDDEN", "TOO_MANY_IN_FLIGHT", "DROPPED_OVERLOAD",
  "SHUTTING_DOWN", "INVALID_REQUEST", "INTERNAL", "CONNECTION_RATE_LIMITED", "SESSION_REPLACED", "TOO_MANY_SESSIONS"];

function codeName(n) {
  return CODES[n] || "CODE_" + n;
}

// ---- writing ----
class Writer {
  constructor() { this.bytes = []; }
  varint(v) {
    let n = BigInt(v);
    if (n < 0n) { throw new Error("negative varint"); }
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      this.bytes.push(n > 0n ? b | 0x80 : b);
    } while (n > 0n);
    return this;
  }
  tag(field, wire) { return this.varint((field << 3) | wire); }
  uint(field, v) { return BigInt(v) === 0n ? this : this.tag(field, 0).varint(v); }
  bytesField(field, data) {
    if (data.length === 0) { return this; }
    this.tag(field, 2).varint(data.length);
    for (const b of data) { this.bytes.push(b); }
    return this;
  }
  string(field, s) { return this.bytesField(field, new TextEncoder().encode(s || "")); }
  message(field, writer) { this.tag(field, 2).varint(writer.bytes.length); this.bytes.push(...writer.bytes); return this; }
  done() { return new Uint8Array(this.bytes); }
}

const ClientFrames = {
  login(uid, token, device, deviceId, appVersion) {
    const m = new Writer().uint(1, uid).string(2, token).string(3, device).string(4, deviceId).string(5, appVersion);
    return new Writer().message(1, m).done();
  },
  request(seq, cmd, body, timeoutMs) {
    const m = new Writer().uint(1, seq).uint(2, cmd).bytesField(3, body || new Uint8Array(0)).uint(5, timeoutMs || 0);
    return new Writer().message(2, m).done();
  },
  ping(nonce) { return new Writer().message(3, new Writer().uint(1, nonce)).done(); },
  pushAck(pushId) { return new Writer().message(4, new Writer().uint(1, pushId)).done(); },
};

// ---- reading ----
// Fields of one message: number -> list of values (BigInt for varints, Uint8Array for length-delimited).
function fields(bytes) {
  const out = new Map();
  let i = 0;
  const varint = () => {
    let result = 0n, shift = 0n, b;
    do {
      if (i >= bytes.length) { throw new Error("truncated varint"); }
      b = bytes[i++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    return result;
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    let value;
    if (wire === 0) { value = varint(); }
    else if (wire === 2) { const n = Number(varint()); value = bytes.subarray(i, i + n); i += n; }
    else if (wire === 1) { i += 8; continue; }
    else if (wire === 5) { i += 4; continue; }
    else { throw new Error("unsupported wire type " + wire); }
    if (!out.has(field)) { out.set(field, []); }
    out.get(field).push(value);
  }
  return out;
}

const num = (f, n) => (f.has(n) ? f.get(n)[f.get(n).length - 1] : 0n);
const str = (f, n) => (f.has(n) ? new TextDecoder().decode(f.get(n)[f.get(n).length - 1]) : "");
const raw = (f, n) => (f.has(n) ? f.get(n)[f.get(n).length - 1] : new Uint8Array(0));

function decodeServerFrame(bytes) {
  const frame = fields(bytes);
  if (frame.has(1)) {
    const m = fields(raw(frame, 1));
    return { kind: "login_ack", code: codeName(Number(num(m, 1))), heartbeatIntervalMs: Number(num(m, 2)), sessionId: str(m, 3),
      message: str(m, 4) };
  }
  if (frame.has(2)) {
    const m = fields(raw(frame, 2));
    return { kind: "response", seq: num(m, 1), code: codeName(Number(num(m, 2))), body: raw(m, 3), message: str(m, 4) };
  }
  if (frame.has(3)) { return { kind: "pong", nonce: num(fields(raw(frame, 3)), 1) }; }
  if (frame.has(4)) {
    const m = fields(raw(frame, 4));
    return { kind: "go_away", reason: str(m, 1), reconnectAfterMs: Number(num(m, 2)),
      alternates: (m.get(3) || []).map((b) => new TextDecoder().decode(b)), code: codeName(Number(num(m, 4))) };
  }
  if (frame.has(5)) {
    const m = fields(raw(frame, 5));
    return { kind: "push", pushId: num(m, 1), cmd: Number(num(m, 2)), body: raw(m, 3), priority: Number(num(m, 4)),
      ackRequested: num(m, 5) !== 0n, topic: str(m, 6) };
  }
  return { kind: "unknown" };
}

// ---- the client ----
class CellgateClient {
  constructor(url) {
    this.url = url;
    this.nextSeq = 1n;
    this.pending = new Map(); // seq -> {resolve, timer}
    this.onPush = () => {};
    this.onGoAway = () => {};
    this.onClose = () => {};
  }

  // Connects and logs in; resolves with the LoginAck, rejects when refused or closed.
  login(uid, token, device, deviceId, appVersion) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      let loggedIn = false;
      ws.onopen = () => ws.send(ClientFrames.login(uid, token, device || "web", deviceId || "", appVersion || "1"));
      ws.onmessage = (event) => {
        const frame = decodeServerFrame(new Uint8Array(event.data));
        if (frame.kind === "login_ack") {
          if (frame.code !== "OK") { reject(new Error(frame.code + ": " + frame.message)); return; }
          loggedIn = true;
          this.heartbeat = setInterval(() => ws.send(ClientFrames.ping(BigInt(Date.now()))), frame.heartbeatIntervalMs);
          resolve(frame);
        } else if (frame.kind === "response") {
          const p = this.pending.get(frame.seq);
          if (p) { this.pending.delete(frame.seq); clearTimeout(p.timer); p.resolve(frame); }
        } else if (frame.kind === "push") {
          if (frame.ackRequested) { ws.send(ClientFrames.pushAck(frame.pushId)); }
          this.onPush(frame);
        } else if (frame.kind === "go_away") {
          this.onGoAway(frame);
        }
      };
      ws.onclose = (event) => {
        clearInterval(this.heartbeat);
        for (const [, p] of this.pending) { clearTimeout(p.timer); p.resolve({ kind: "response", code: "CLOSED", message: event.reason }); }
        this.pending.clear();
        if (!loggedIn) { reject(new Error("closed " + event.code + " " + event.reason)); }
        this.onClose(event.code, event.reason);
      };
    });
  }

  // Sends one request; resolves with its response (or code "TIMEOUT" after timeoutMs on this side).
  request(cmd, body, timeoutMs) {
    const seq = this.nextSeq++;
    const wait = timeoutMs || 10000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.pending.delete(seq); resolve({ kind: "response", seq, code: "TIMEOUT" }); }, wait);
      this.pending.set(seq, { resolve, timer });
      this.ws.send(ClientFrames.request(seq, cmd, body, timeoutMs));
    });
  }

  close() { this.ws.close(1000, "bye"); }
}

if (typeof module !== "undefined") {
  module.exports = { CellgateClient, ClientFrames, decodeServerFrame, codeName };
}
