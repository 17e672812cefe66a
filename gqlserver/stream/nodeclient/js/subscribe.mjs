// A real graphql-ws client (the library browsers and Node apps use) run by
// gqlserver/stream/nodeclient's Go test against a live Seliq server.
//
// Environment:
//   SELIQ_WS_URL         ws://host:port/graphql
//   SELIQ_TOKEN          sent as connection_init's Authorization; omitted when empty
//   SELIQ_EXPECT_TITLE   subscribe mode: exit 0 once an alert with this title arrives
//   SELIQ_EXPECT_CLOSE   refusal mode: exit 0 only if the server closes with this code
//   SELIQ_AFTER          optional cursor: receive every event after it
//
// stdout carries "READY" once the subscribe frame is on the wire, then one
// JSON line per event (or the close event in refusal mode); diagnostics go
// to stderr. Any other outcome, or no outcome within 15 s, exits non-zero.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const timeoutMs = 15_000;
const query = 'subscription($after: String) { alertEvents(after: $after) { kind cursor alert { id title } } }';

const url = process.env.SELIQ_WS_URL;
const token = process.env.SELIQ_TOKEN ?? '';
const expectTitle = process.env.SELIQ_EXPECT_TITLE ?? '';
const expectClose = Number(process.env.SELIQ_EXPECT_CLOSE ?? 0);
const after = process.env.SELIQ_AFTER || null;

// finish exits at once: stdout is a pipe, which Node writes synchronously
// on POSIX, so nothing printed before is lost.
function finish(code, message) {
  if (message) process.stderr.write(`subscribe.mjs: ${message}\n`);
  process.exit(code);
}

// describe turns what graphql-ws hands a sink's error (an Error, a
// socket's error or close event, or a GraphQL errors array) into text.
function describe(err) {
  if (typeof err?.code === 'number') return `socket closed with ${err.code} ${err.reason ?? ''}`.trim();
  if (err?.message) return err.message;
  return JSON.stringify(err);
}

function onConnected() {
  if (expectClose) finish(1, `connection acknowledged, want close ${expectClose}`);
  // graphql-ws emits "connected" before it sends the pending subscribe
  // frame (a few microtasks later); setImmediate runs after those.
  setImmediate(() => process.stdout.write('READY\n'));
}

function onClosed(event) {
  if (!expectClose) return; // subscribe mode: the sink's error reports it
  process.stdout.write(JSON.stringify({ closed: event.code, reason: event.reason }) + '\n');
  if (event.code === expectClose) finish(0);
  finish(1, `socket closed with ${event.code}, want ${expectClose}`);
}

function onResult(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  if (result.errors?.length) finish(1, `subscription error: ${JSON.stringify(result.errors)}`);
  if (expectTitle && result.data?.alertEvents?.alert?.title === expectTitle) finish(0);
}

function main() {
  if (!url) finish(2, 'SELIQ_WS_URL is not set');
  if (!expectTitle && !expectClose) finish(2, 'set SELIQ_EXPECT_TITLE or SELIQ_EXPECT_CLOSE');
  setTimeout(() => finish(3, `no outcome after ${timeoutMs} ms`), timeoutMs);

  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { Authorization: token } : {},
    retryAttempts: 0,
    on: { connected: onConnected, closed: onClosed },
  });
  client.subscribe(
    { query, variables: { after } },
    {
      next: onResult,
      error: (err) => finish(1, describe(err)),
      complete: () => finish(1, 'subscription completed before the expected event'),
    },
  );
}

main();
