/**
 * PutRecords goes out once per call: a connection reset after the server
 * has read a call reaches the target as a failed call (which it then looks
 * up in the stream), never as a resend behind its back. Deno's node:http
 * resends a request on a reused keep-alive connection that is reset before
 * its answer; the put client's fresh connections leave it nothing to reuse.
 * An in-process HTTP server stands in for the endpoint; it counts calls.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { CallFailure } from "../../src/kinesis/errors.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";

Deno.test("a PutRecords whose connection is reset after it was read is sent once and fails", async () => {
  let calls = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      calls++;
      // The second call is taken, then its connection cut before the answer.
      if (calls === 2) return request.socket.destroy();
      response.setHeader("content-type", "application/x-amz-json-1.1");
      response.end(JSON.stringify({
        FailedRecordCount: 0,
        Records: [{ SequenceNumber: String(calls), ShardId: "shardId-000000000000" }],
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const transport = new SdkTransport({ region: "us-east-1", endpoint: `http://127.0.0.1:${port}` });
  const entry = { data: new TextEncoder().encode("{}"), partitionKey: "k", label: "pin row 1" };
  try {
    assert.deepEqual(await transport.put("s", [entry]), [
      { SequenceNumber: "1", ShardId: "shardId-000000000000" },
    ]);
    await assert.rejects(transport.put("s", [entry]), CallFailure);
    // A moment for a resend to arrive, were one made.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(calls, 2, "the cut call reached the server once");
    assert.equal((await transport.put("s", [entry]))[0].SequenceNumber, "3");
  } finally {
    transport.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
