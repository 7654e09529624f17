// Subscribes an enhanced fan-out consumer to a shard with the SDK's default handler (HTTP/2),
// puts records while the subscription is open, and prints the records it was pushed, in
// order, as JSON once it has them all.
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, RegisterStreamConsumerCommand,
  PutRecordCommand, SubscribeToShardCommand,
} from "@aws-sdk/client-kinesis";

const [endpoint, count = "20"] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
await client.send(new CreateStreamCommand({ StreamName: "fanout", ShardCount: 1 }));
const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: "fanout" }));
const { Consumer } = await client.send(new RegisterStreamConsumerCommand({
  StreamARN: summary.StreamDescriptionSummary.StreamARN, ConsumerName: "js",
}));
const sub = await client.send(new SubscribeToShardCommand({
  ConsumerARN: Consumer.ConsumerARN, ShardId: "shardId-000000000000", StartingPosition: { Type: "LATEST" },
}));
const want = Number(count);
const got = [];
const puts = (async () => {
  for (let i = 0; i < want; i++) {
    await client.send(new PutRecordCommand({ StreamName: "fanout", PartitionKey: "k", Data: new TextEncoder().encode(`r${i}`) }));
  }
})();
for await (const ev of sub.EventStream) {
  for (const r of ev.SubscribeToShardEvent?.Records ?? []) {
    got.push(new TextDecoder().decode(r.Data));
  }
  if (got.length >= want) break;
}
await puts;
console.log(JSON.stringify({ handler: client.config.requestHandler.constructor.name, records: got }));
client.destroy();
process.exit(0);
