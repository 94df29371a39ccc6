// PactV4's mock server type (V4MockServer) is this one, re-exported under its V3 name only.
import type { V3MockServer } from '@pact-foundation/pact';
// pact-core's own binding of pact_ffi: the same library instance PactV4 drives.
import { getFfiLib } from '@pact-foundation/pact-core/src/ffi';

/** How long to wait for the mock server to record what it answered before Pact checks it. */
const RECORDING_TIMEOUT_MS = 5_000;

/**
 * Runs a consumer test's body against Pact's mock server, then waits until the mock server has
 * recorded the requests it answered, so that Pact's check that follows sees them.
 *
 * Why: pact-core 19.2 (the last release for Node 20; 20.x needs Node 22) bundles pact_mock_server
 * 2.2.1, which answers a request first and records the match afterwards, on a task of its own.
 * Under CPU pressure that task runs late, and `executeTest` checks the mock server as soon as the
 * body resolves: it then reports an interaction that was received and answered as "expected but
 * not received" (a full `npm test`, 2 cores, two workers: about one run in ten). pact_mock_server
 * 2.2.4 records the match before it answers (pact-foundation/pact-core-mock-server#13); drop this
 * wait with the move to pact-core 20.
 *
 * The wait ends as soon as every expected request is recorded as matched. When one never is (a
 * real mismatch), it gives up after a few seconds and lets Pact report what it recorded: it never
 * turns a failing interaction into a passing one.
 */
export function recordedByMockServer<T>(body: (mock: V3MockServer) => Promise<T>): (mock: V3MockServer) => Promise<T> {
  return async (mock) => {
    const value = await body(mock);
    const ffi = getFfiLib();
    const deadline = Date.now() + RECORDING_TIMEOUT_MS;
    while (!ffi.pactffiMockServerMatched(mock.port) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return value;
  };
}
